"""Maximal covering location (MCLP): exact MIP on HiGHS and a greedy + swap heuristic.

Formulation (Church & ReVelle 1974, "The maximal covering location problem", Papers of the
Regional Science Association 32): demand ``i`` with weight ``w_i``, candidate sites ``j``,
``N_i`` the candidates that cover ``i``::

    max  sum_i w_i y_i
    s.t. y_i <= sum_{j in N_i} x_j      for every demand i
         sum_j x_j = p
         x_j in {0, 1},  0 <= y_i <= 1  (y is integral once x is)

The heuristic (compiled kernels, :mod:`corridorguard.placement._mclp_kernels`) is the greedy
algorithm (a ``1 - 1/e`` approximation for this monotone submodular objective; Nemhauser, Wolsey
& Fisher 1978) with exact incremental gains, a best-improvement 1-swap descent (Teitz & Bart
1968) with fast-interchange bookkeeping (Whitaker 1983), and a second descent from the best
primal set of a Lagrangian relaxation solved by subgradient optimisation (Galvão & ReVelle
1996). The bound is the smaller of the Lagrangian dual value and the submodular "online" bound
``f(S) + sum of the p largest marginal gains w.r.t. S`` (Leskovec et al. 2007), capped by the
coverable weight.

The exact method runs the heuristic, stops if its value meets the bound, else applies exact
reductions (:mod:`corridorguard.placement._mclp_reduce`: row aggregation, dominated candidates,
Lagrangian reduced-cost fixing; proofs there) and solves the reduced problem exactly: by our LP
branch and bound (:mod:`corridorguard.placement._mclp_bb`: HiGHS's simplex as the LP engine,
reduced-cost fixing, pseudo-cost branching) when it has at most ``_BB_MAX_COLUMNS`` candidates,
handing over to the HiGHS MIP solver (warm-started with the best selection and the root
fixings) past ``_BB_NODES`` nodes or for larger problems.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from corridorguard.errors import ValidationError
from corridorguard.placement._highs import solve_mip
from corridorguard.placement._mclp_bb import branch_and_bound, model_arrays
from corridorguard.placement._mclp_kernels import descend, greedy, lagrangian
from corridorguard.placement._mclp_reduce import aggregate_rows, lagrangian_fixing, undominated
from corridorguard.placement._mclp_search import Cover, online_bound

__all__ = ["MCLP", "great_circle_coverage", "solve_mclp"]

EARTH_RADIUS_M = 6_371_008.8
_MIP_OPTIONS: dict[str, bool | int | float | str] = {
    # the warm start (greedy + swap) makes HiGHS's own primal heuristics mostly redundant, and
    # the root LP is tight: on the benchmark instances these settings cut solve time by ~25 %
    "mip_allow_restart": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_feasibility_jump": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_allow_cut_separation_at_nodes": False,
    # HiGHS presolve (probing, clique detection) costs more than it saves on these models,
    # which arrive already reduced (see _mclp_reduce): 2-4x faster at 30 km radius
    "presolve": "off",
}
# Our LP branch and bound (_mclp_bb) runs on reduced models of at most _BB_MAX_COLUMNS
# candidates, for at most _BB_NODES nodes; past either, HiGHS's MIP solver takes over (its root
# cut loop costs 0.5-1 s on the 2,000 x 500 benchmark instances at 30 km, but on 10,000 x 2,000
# its cuts prove in ~45 s what the plain LP search does not in 120 s; docs/benchmarks.md)
_BB_MAX_COLUMNS = 1000
_BB_NODES = 2000
Progress = Callable[[int, int | None], None]


def _unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def great_circle_coverage(
    demand_lon: np.ndarray,
    demand_lat: np.ndarray,
    cand_lon: np.ndarray,
    cand_lat: np.ndarray,
    radius_m: float,
) -> csr_matrix:
    """0/1 CSR matrix (demand × candidates): great-circle distance <= ``radius_m``.

    Uses a k-d tree on unit vectors with the equivalent chord length, so it is exact for the
    spherical (haversine) distance with Earth radius 6,371,008.8 m.
    """
    d = _unit_vectors(np.asarray(demand_lon, float), np.asarray(demand_lat, float))
    c = _unit_vectors(np.asarray(cand_lon, float), np.asarray(cand_lat, float))
    ang = min(float(radius_m) / EARTH_RADIUS_M, np.pi)
    chord = 2 * np.sin(ang / 2) * (1 + 1e-12)
    tree_c = cKDTree(c)
    lists = cKDTree(d).query_ball_tree(tree_c, chord)
    lens = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    indptr = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum(lens, out=indptr[1:])
    indices = np.fromiter((j for x in lists for j in x), dtype=np.int32, count=int(indptr[-1]))
    mat = csr_matrix(
        (np.ones(indices.size, dtype=np.float64), indices, indptr), shape=(len(lists), len(c))
    )
    mat.sort_indices()
    return mat


class MCLP:
    """Maximal covering location problem.

    Parameters
    ----------
    coverage
        ``(n_demand, n_candidates)`` sparse or dense 0/1 matrix: ``[i, j] != 0`` when candidate
        ``j`` covers demand ``i``.
    weights
        ``(n_demand,)`` non-negative demand weights.
    p
        Number of candidates to select (``1 <= p <= n_candidates``).
    method
        ``"exact"`` (reductions, then LP branch and bound or the HiGHS MIP, both started
        from the heuristic's selection) or ``"heuristic"``.
    time_limit
        Seconds for the exact solve; at the limit the incumbent is returned with its bound/gap.
    mip_rel_gap
        Relative gap at which the exact solve stops and reports ``optimal``.
    fixed
        Candidates that must be selected (e.g. existing sensors).
    swap_rounds
        Maximum swaps of each 1-swap descent.
    lagrangian_iters
        Subgradient iterations of the Lagrangian relaxation (0 to skip; default: 120 for the
        heuristic, 300 for the exact method, whose variable fixing needs a tight bound). Its
        best primal set seeds a second swap search (greedy + swap alone can stall several %
        below the optimum) and its dual value tightens the reported bound.
    restarts
        Descents started from the best distinct Lagrangian primal sets (default 3).
    seed
        HiGHS random seed (recorded; the heuristics are deterministic).

    Attributes
    ----------
    selected_ : ndarray of candidate indices (sorted)
    covered_weight_, bound_, gap_ : float
    covered_ : bool ndarray over demand
    status_ : ``optimal`` | ``time_limit`` | ``heuristic``
    method_ : the method used
    stats_ : dict of what the reductions did (rows, columns, fixings, MIP size)
    """

    def __init__(
        self,
        coverage: Any,
        weights: Sequence[float] | np.ndarray,
        p: int,
        *,
        method: Literal["exact", "heuristic"] = "exact",
        time_limit: float | None = 30.0,
        mip_rel_gap: float = 1e-6,
        fixed: Sequence[int] = (),
        swap_rounds: int = 500,
        lagrangian_iters: int | None = None,
        restarts: int = 3,
        seed: int = 0,
    ) -> None:
        self.coverage = _as_coverage(coverage)
        self.weights = np.asarray(weights, dtype=np.float64)
        n, m = self.coverage.shape
        if self.weights.shape != (n,):
            raise ValidationError(f"weights must have length {n}", field="weights")
        if n and (not np.isfinite(self.weights).all() or self.weights.min() < 0):
            raise ValidationError("weights must be finite and >= 0", field="weights")
        if not 1 <= int(p) <= m:
            raise ValidationError(f"p must be between 1 and {m} (candidates)", field="p")
        if method not in ("exact", "heuristic"):
            raise ValidationError(f"unknown method {method!r}", field="method")
        self.p = int(p)
        self.method = method
        self.time_limit = time_limit
        self.mip_rel_gap = mip_rel_gap
        self.fixed = np.unique(np.asarray(fixed, dtype=np.int64))
        if self.fixed.size and (self.fixed.min() < 0 or self.fixed.max() >= m):
            raise ValidationError("fixed candidate out of range", field="fixed")
        if self.fixed.size > self.p:
            raise ValidationError("more fixed candidates than p", field="fixed")
        self.swap_rounds = int(swap_rounds)
        if lagrangian_iters is None:
            lagrangian_iters = 300 if method == "exact" else 150
        self.lagrangian_iters = int(lagrangian_iters)
        self.seed = int(seed)
        self.restarts = int(restarts)
        self._t0 = time.perf_counter()

    # --- heuristic ------------------------------------------------------------------------

    def _heuristic(self, cov: Cover) -> tuple[np.ndarray, float, float, np.ndarray | None]:
        """Greedy + swap descent, then a second descent from the Lagrangian primal set.

        Returns ``(selection, value, bound, multipliers)``.
        """
        free = self.p - self.fixed.size
        sel = descend(cov, greedy(cov, self.p, self.fixed), self.fixed, self.swap_rounds)
        value, bound, _ = online_bound(cov, sel, free)
        lam = None
        if self.lagrangian_iters > 0 and 0 < free < cov.shape[1] - self.fixed.size:
            sets, values, lam, lag_bound = lagrangian(
                cov, self.p, self.fixed, self.lagrangian_iters, value, keep=self.restarts
            )
            for seed_set in sets[values >= 0]:
                alt = descend(cov, seed_set, self.fixed, self.swap_rounds)
                a_value, a_bound, _ = online_bound(cov, alt, free)
                if a_value > value:
                    sel, value = alt, a_value
                bound = min(bound, a_bound)
            bound = min(bound, lag_bound)
        return sel, value, bound, lam

    # --- exact ----------------------------------------------------------------------------

    def _exact(
        self, cov: Cover, sel: np.ndarray, value: float, lam: np.ndarray | None
    ) -> tuple[np.ndarray, float, str]:
        """Reduce (dominance, Lagrangian fixing), then solve the rest exactly (our branch and
        bound, else HiGHS's MIP solver).

        Returns ``(selection, bound, status)``; the selection is never worse than ``sel``.
        """
        m = cov.shape[1]
        keep = np.zeros(m, dtype=bool)
        keep[undominated(cov, self.fixed, self.p)] = True
        fix0 = np.zeros(m, dtype=bool)
        fix1 = np.zeros(m, dtype=bool)
        lag_bound = np.inf
        if lam is not None:
            fix0, fix1, lag_bound = lagrangian_fixing(cov, lam, self.fixed, self.p, value)
        forced = np.zeros(m, dtype=bool)
        forced[self.fixed] = True
        forced |= fix1
        cols = np.nonzero((keep | fix1) & ~fix0 & ~forced)[0]
        rest = self.p - int(forced.sum())
        if cols.size < rest:  # pad: any candidates keep the restricted problem a subset
            spare = np.nonzero(~forced & ~np.isin(np.arange(m), cols))[0]
            cols = np.sort(np.concatenate([cols, spare[: rest - cols.size]]))
        self.stats_.update(
            undominated=int(keep.sum()), fixed_out=int(fix0.sum()), fixed_in=int(fix1.sum())
        )
        base = np.nonzero(forced)[0]
        if rest == 0:  # the restricted problem has one solution
            return base, max(value, cov.value(base)), "optimal"
        hit = cov.counts(base) > 0
        const = float(cov.w[hit].sum())
        sub_a, sub_w = aggregate_rows(cov.a[~hit][:, cols], cov.w[~hit])
        sub = Cover.of(sub_a, sub_w)
        self.stats_.update(mip_rows=sub.shape[0], mip_cols=sub.shape[1])
        pos = np.full(m, -1)
        pos[cols] = np.arange(cols.size)
        start = pos[sel[pos[sel] >= 0]][:rest]  # sel satisfies the fixings (see above)
        start = descend(sub, greedy(sub, rest, start), np.empty(0, np.int64), self.swap_rounds)
        if rest >= sub.shape[1]:  # one solution left: every column
            found = np.concatenate([base, cols])
            return found, max(value, cov.value(found)), "optimal"
        xs, mip_bound, status = self._solve_reduced(sub, rest, start)
        found = np.concatenate([base, cols[xs]])
        # every solution outside the restricted problem is worth < value (module docstring)
        bound = min(lag_bound, max(const + mip_bound, value))
        return found, bound, status

    def _solve_reduced(
        self, sub: Cover, rest: int, start: np.ndarray
    ) -> tuple[np.ndarray, float, str]:
        """Our branch and bound on small reduced problems; HiGHS's MIP solver past its node
        limit (with its incumbent and root fixings) or on larger ones."""
        bb = None
        if sub.shape[1] <= _BB_MAX_COLUMNS:
            bb = branch_and_bound(
                sub,
                rest,
                start,
                rel_gap=self.mip_rel_gap,
                node_limit=_BB_NODES,
                time_limit=self._remaining(),
            )
        if bb is not None and bb.finished:
            self.stats_.update(bb_nodes=bb.nodes, bb="optimal", bb_cuts=len(bb.cuts))
            self.stats_.update(bb_rows_left_out=bb.rows_left_out, bb_rows_added=bb.rows_added)
            xs, mip_bound, status = bb.selection, bb.bound, "optimal"
        elif bb is not None and bb.timed_out:  # out of time: the incumbent, the root bound
            self.stats_.update(bb_nodes=bb.nodes, bb="time limit", bb_cuts=len(bb.cuts))
            xs, mip_bound, status = bb.selection, bb.bound, "time_limit"
        else:  # HiGHS on the same model, with the root fixings and the better incumbent
            if bb is not None:
                self.stats_.update(bb_nodes=bb.nodes, bb="node limit")
                start = bb.selection
            fix = (bb.fix0, bb.fix1) if bb is not None else None
            xs, mip_bound, status = _mip(sub, rest, start, self, fix)
        return xs, mip_bound, status

    # --- driver ---------------------------------------------------------------------------

    def _remaining(self) -> float | None:
        """Seconds left of ``time_limit`` (at least 10 ms, so HiGHS can return its start)."""
        if self.time_limit is None:
            return None
        return max(self.time_limit - (time.perf_counter() - self._t0), 0.01)

    def solve(self, *, progress: Progress | None = None) -> MCLP:
        """Solve; returns ``self`` with the ``..._`` attributes set."""
        t0 = self._t0 = time.perf_counter()
        steps = 3 if self.method == "exact" else 2
        ak, wk = aggregate_rows(self.coverage, self.weights)
        cov = Cover.of(ak, wk)
        self.stats_: dict[str, Any] = {"rows": ak.shape[0], "columns": ak.shape[1]}
        if progress:
            progress(1, steps)
        sel, value, bound, lam = self._heuristic(cov)
        if progress:
            progress(2, steps)
        status = "heuristic"
        if self.method == "exact":
            if bound - value <= self.mip_rel_gap * max(abs(value), 1e-9):
                status = "optimal"  # the heuristic meets the bound: no MIP needed
                self.stats_["mip"] = False
            else:
                xsel, xbound, status = self._exact(cov, sel, value, lam)
                xvalue = cov.value(xsel)
                if xvalue >= value:
                    sel, value = xsel, xvalue
                bound = min(bound, max(xbound, value))
                self.stats_["mip"] = True
            if progress:
                progress(3, steps)
        x = np.zeros(self.coverage.shape[1])
        x[sel] = 1.0
        covered = np.asarray(self.coverage @ x) > 0
        value = float(self.weights[covered].sum())
        self.selected_ = np.sort(sel)
        self.covered_weight_ = value
        self.bound_ = max(bound, value)
        self.gap_ = (self.bound_ - value) / max(abs(value), 1e-9) if self.bound_ > value else 0.0
        self.covered_ = covered
        self.status_ = status
        self.method_ = self.method
        self.seconds_ = time.perf_counter() - t0
        return self


def _as_coverage(coverage: Any) -> csr_matrix:
    """0/1 float CSR with sorted indices; dense arrays go through ``np.flatnonzero`` (row-major,
    so already sorted), several times faster than SciPy's dense constructor."""
    if isinstance(coverage, np.ndarray) and coverage.ndim == 2:
        n, m = coverage.shape
        flat = np.flatnonzero(coverage)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.count_nonzero(coverage, axis=1), out=indptr[1:])
        return csr_matrix((np.ones(flat.size), flat % max(m, 1), indptr), shape=(n, m))
    mat = csr_matrix(coverage, dtype=np.float64)
    mat.data[:] = 1.0
    mat.eliminate_zeros()
    mat.sort_indices()
    return mat


def _mip(
    cov: Cover,
    p: int,
    start: np.ndarray,
    opts: MCLP,
    fix: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, float, str]:
    """The MCLP MIP on HiGHS, passed as CSC arrays in one call (``fix``: masks of columns
    fixed to 0 / 1, which ``start`` must satisfy); returns ``(selection, bound, status)``."""
    a = cov.a
    nk, m = cov.shape
    model = model_arrays(cov, p)
    if fix is not None:
        model["upper"][:m][fix[0]] = 0.0
        model["lower"][:m][fix[1]] = 1.0
    x0 = np.zeros(m)
    x0[start] = 1.0
    y0 = (np.asarray(a @ x0).ravel() > 0).astype(float)
    res = solve_mip(
        **model,
        integer=np.concatenate([np.ones(m, bool), np.zeros(nk, bool)]),
        time_limit=opts._remaining(),
        mip_rel_gap=opts.mip_rel_gap,
        start=np.concatenate([x0, y0]),
        seed=opts.seed,
        options=_MIP_OPTIONS,
    )
    return np.nonzero(res.x[:m] > 0.5)[0], res.bound, res.status


# --- JSON interchange ---------------------------------------------------------------------


def _points(doc: dict[str, Any], key: str, need_weight: bool) -> tuple[list[Any], np.ndarray]:
    items = doc.get(key)
    if not isinstance(items, list) or not items:
        raise ValidationError(f"{key} must be a non-empty list", field=key)
    ids: list[Any] = []
    rows = np.empty((len(items), 3))
    seen: set[Any] = set()
    for i, it in enumerate(items):
        if not isinstance(it, dict):
            raise ValidationError("must be an object", field=f"{key}[{i}]")
        for f in ("id", "lon", "lat", *(("weight",) if need_weight else ())):
            if f not in it:
                raise ValidationError("missing", field=f"{key}[{i}].{f}")
        if not isinstance(it["id"], str | int) or isinstance(it["id"], bool):
            raise ValidationError("id must be a string or integer", field=f"{key}[{i}].id")
        if it["id"] in seen:
            raise ValidationError(f"duplicate id {it['id']!r}", field=f"{key}[{i}].id")
        seen.add(it["id"])
        ids.append(it["id"])
        for c, (f, lo, hi) in enumerate(
            (("lon", -180, 180), ("lat", -90, 90), ("weight", 0, np.inf))
        ):
            if f == "weight" and not need_weight:
                continue
            v = it[f]
            if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
                raise ValidationError(f"must be a number in [{lo}, {hi}]", field=f"{key}[{i}].{f}")
            rows[i, c] = float(v)
    return ids, rows


def solve_mclp(
    problem: dict[str, Any],
    method: Literal["exact", "heuristic"] = "exact",
    *,
    time_limit: float | None = 30.0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Solve the documented JSON MCLP problem (see ``docs/placement.md``).

    ``problem = {"demand": [{"id", "lon", "lat", "weight"}], "candidates": [{"id", "lon",
    "lat"}], "radius_m": r, "p": k}``, distances great-circle. Returns ``{"selected": [ids],
    "covered_weight": w, "bound": b, "gap": g, "method": method}``.
    """
    if not isinstance(problem, dict):
        raise ValidationError("the problem must be a JSON object", field="")
    _d_ids, d = _points(problem, "demand", True)
    c_ids, c = _points(problem, "candidates", False)
    r = problem.get("radius_m")
    if isinstance(r, bool) or not isinstance(r, int | float) or not (r >= 0 and np.isfinite(r)):
        raise ValidationError("must be a finite number >= 0", field="radius_m")
    p = problem.get("p")
    if isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= len(c_ids):
        raise ValidationError(f"must be an integer in [1, {len(c_ids)}]", field="p")
    cov = great_circle_coverage(d[:, 0], d[:, 1], c[:, 0], c[:, 1], float(r))
    model = MCLP(cov, d[:, 2], p, method=method, time_limit=time_limit).solve(progress=progress)
    return {
        "selected": [c_ids[j] for j in model.selected_.tolist()],
        "covered_weight": model.covered_weight_,
        "bound": model.bound_,
        "gap": model.gap_,
        "method": method,
    }
