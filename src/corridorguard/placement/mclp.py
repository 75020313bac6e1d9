"""Maximal covering location (MCLP): exact MIP on HiGHS and a greedy + swap heuristic.

Formulation (Church & ReVelle 1974, "The maximal covering location problem", Papers of the
Regional Science Association 32): demand ``i`` with weight ``w_i``, candidate sites ``j``,
``N_i`` the candidates that cover ``i``::

    max  sum_i w_i y_i
    s.t. y_i <= sum_{j in N_i} x_j      for every demand i
         sum_j x_j = p
         x_j in {0, 1},  0 <= y_i <= 1  (y is integral once x is)

The heuristic is the greedy algorithm (a ``1 - 1/e`` approximation for this monotone submodular
objective; Nemhauser, Wolsey & Fisher 1978) with exact incremental gain updates on sparse
matrices (each pick subtracts the newly covered weight from every candidate that also covers it,
so no lazy re-evaluation is ever stale), followed by best-improvement 1-swap local search
(Teitz & Bart 1968). On large instances a second swap search starts from the best primal set of
a Lagrangian relaxation solved by subgradient optimisation (Galvão & ReVelle 1996). The bound
is the smaller of the Lagrangian dual value (when computed) and the submodular "online" bound
``f(S) + sum of the p largest marginal gains w.r.t. S`` (Leskovec et al. 2007), capped by the
coverable weight.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix, hstack, identity, vstack
from scipy.spatial import cKDTree

from corridorguard.errors import ValidationError
from corridorguard.placement._highs import solve_mip

__all__ = ["MCLP", "great_circle_coverage", "solve_mclp"]

EARTH_RADIUS_M = 6_371_008.8
_MIP_OPTIONS: dict[str, bool | int | float] = {
    # the warm start (greedy + swap) makes HiGHS's own primal heuristics mostly redundant, and
    # the root LP is tight: on the benchmark instances these settings cut solve time by ~25 %
    "mip_allow_restart": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_feasibility_jump": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_allow_cut_separation_at_nodes": False,
}
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


def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + l)`` for each pair, vectorised."""
    total = int(lens.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offs = np.repeat(starts - np.cumsum(lens) + lens, lens)
    return offs + np.arange(total, dtype=np.int64)


def _aggregate_rows(a: csr_matrix, w: np.ndarray) -> tuple[csr_matrix, np.ndarray]:
    """Merge demand rows with the same covering set (summing weights); drop rows that no
    candidate covers or that weigh nothing. Same optimum, fewer MIP rows and columns."""
    groups: dict[bytes, int] = {}
    rows: list[int] = []
    wsum: list[float] = []
    ptr, ind = a.indptr, a.indices
    for i in np.nonzero((np.diff(ptr) > 0) & (w > 0))[0].tolist():
        key = ind[ptr[i] : ptr[i + 1]].tobytes()
        g = groups.get(key)
        if g is None:
            groups[key] = len(rows)
            rows.append(i)
            wsum.append(float(w[i]))
        else:
            wsum[g] += float(w[i])
    return a[np.asarray(rows, dtype=np.int64)], np.asarray(wsum, dtype=np.float64)


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
        ``"exact"`` (HiGHS MIP, warm-started from the heuristic) or ``"heuristic"``.
    time_limit
        Seconds for the exact solve; at the limit the incumbent is returned with its bound/gap.
    fixed
        Candidates that must be selected (e.g. existing sensors).
    swap_rounds
        Maximum rounds of the 1-swap local search.
    lagrangian_iters
        Subgradient iterations of the Lagrangian relaxation (0 to skip; default: 250 when
        ``n_demand × n_candidates >= 5e6``, else 0). Its best primal set
        seeds a second swap search (greedy + swap alone can stall several % below the
        optimum on large instances) and its dual value tightens the reported bound.

    Attributes
    ----------
    selected_ : ndarray of candidate indices (sorted)
    covered_weight_, bound_, gap_ : float
    covered_ : bool ndarray over demand
    status_ : ``optimal`` | ``time_limit`` | ``heuristic``
    method_ : the method used
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
        seed: int = 0,
    ) -> None:
        self.coverage = csr_matrix(coverage, dtype=np.float64)
        self.coverage.data[:] = 1.0
        self.coverage.eliminate_zeros()
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
        if lagrangian_iters is None:  # auto: worth it on large instances only
            lagrangian_iters = 250 if n * m >= 5_000_000 else 0
        self.lagrangian_iters = int(lagrangian_iters)
        self.seed = int(seed)

    # --- heuristic ------------------------------------------------------------------------

    def _greedy(self, start: Sequence[int] | None = None) -> np.ndarray:
        """Greedy fill up to ``p`` from ``start`` (default: the fixed candidates)."""
        a, w = self.coverage, self.weights
        ac = a.tocsc()
        m = a.shape[1]
        gains = np.asarray(a.T @ w).ravel()
        covered = np.zeros(a.shape[0], dtype=bool)
        chosen = np.zeros(m, dtype=bool)
        order: list[int] = []

        def take(j: int) -> None:
            chosen[j] = True
            order.append(j)
            rows = ac.indices[ac.indptr[j] : ac.indptr[j + 1]]
            new = rows[~covered[rows]]
            if new.size:
                covered[new] = True
                lens = a.indptr[new + 1] - a.indptr[new]
                idx = _ranges(a.indptr[new], lens)
                gains[:] -= np.bincount(
                    a.indices[idx], weights=np.repeat(w[new], lens), minlength=m
                )

        for j in self.fixed.tolist() if start is None else list(start):
            take(int(j))
        while len(order) < self.p:
            g = np.where(chosen, -np.inf, gains)
            take(int(np.argmax(g)))
        return np.array(order, dtype=np.int64)

    def _swap(self, sel: np.ndarray) -> np.ndarray:
        """1-swap local search until no single swap improves (or ``swap_rounds``).

        All ``p × m`` swap values of a round come from one ``bincount``: demand covered by
        exactly one chosen site is *owned* by it, so with ``O[j, i] = w_i`` for the demand
        ``j`` owns, ``value(j -> k) = gain_k + (O @ A)[j, k] - O[j].sum()``. Each chosen site's
        best swap is then tried in order of value, re-checked exactly against the current
        selection (O(column size)) and applied while it still improves, so one round makes
        many swaps. The search stops when the round's matrix shows no improving swap.
        """
        a, w = self.coverage, self.weights
        n, m = a.shape
        ac = a.tocsc()
        sel = sel.copy()
        fixed = np.isin(sel, self.fixed)
        tol = 1e-9 * max(float(w.sum()), 1.0)
        at = a.T.tocsr()
        in_sel = np.zeros(m, dtype=bool)
        in_sel[sel] = True
        cnt = np.asarray(a @ in_sel.astype(np.float64)).astype(np.int64)
        for _ in range(self.swap_rounds):
            slot = np.zeros(m)
            slot[sel] = np.arange(sel.size)
            g0 = at @ np.where(cnt == 0, w, 0.0)
            once = np.nonzero(cnt == 1)[0]
            owner = (a @ slot)[once].astype(np.int64)  # the one chosen site covering it
            lens = a.indptr[once + 1] - a.indptr[once]
            cols = a.indices[_ranges(a.indptr[once], lens)]
            flat = np.repeat(owner, lens) * m + cols
            value = np.bincount(flat, weights=np.repeat(w[once], lens), minlength=sel.size * m)
            value = value.reshape(sel.size, m) + g0[None, :]
            loss = np.bincount(owner, weights=w[once], minlength=sel.size)
            value[:, sel] = -np.inf
            value -= loss[:, None]
            value[fixed] = -np.inf
            best_k = np.argmax(value, axis=1)
            best_v = value[np.arange(sel.size), best_k]
            order = np.argsort(-best_v)
            if best_v[order[0]] <= tol:
                break
            mark = np.zeros(n, dtype=bool)
            batch = max(1, sel.size // 10)  # a few of the best per round: near best-improvement
            for pos in order[best_v[order] > tol][:batch].tolist():
                j, k = int(sel[pos]), int(best_k[pos])
                if in_sel[k]:
                    continue
                rows_j = ac.indices[ac.indptr[j] : ac.indptr[j + 1]]
                rows_k = ac.indices[ac.indptr[k] : ac.indptr[k + 1]]
                mark[rows_k] = True
                delta = float(w[rows_k[cnt[rows_k] == 0]].sum()) - float(
                    w[rows_j[(cnt[rows_j] == 1) & ~mark[rows_j]]].sum()
                )
                mark[rows_k] = False
                if delta > tol:
                    cnt[rows_j] -= 1
                    cnt[rows_k] += 1
                    in_sel[j], in_sel[k] = False, True
                    sel[pos] = k
        return sel

    def _lagrangian(self, lower: float) -> tuple[np.ndarray | None, float]:
        """Subgradient optimisation of the Lagrangian relaxation of ``y_i <= sum x_j``
        (Galvão & ReVelle 1996). Returns (best primal set seen, best upper bound).

        ``L(lam) = sum_i max(0, w_i - lam_i) + (sum of the p largest sum_{i in N_j} lam_i)``
        bounds the optimum from above for any ``0 <= lam <= w``.
        """
        a, w = self.coverage, self.weights
        m = a.shape[1]
        free = self.p - self.fixed.size
        if self.lagrangian_iters <= 0 or free <= 0 or free >= m - self.fixed.size:
            return None, np.inf
        at = a.T.tocsr()
        ac = a.tocsc()
        n = a.shape[0]
        lam = 0.5 * w
        best_ub, best_v, best_set = np.inf, -1.0, None
        step, stall = 2.0, 0
        is_fixed = np.zeros(m, dtype=bool)
        is_fixed[self.fixed] = True
        for _ in range(self.lagrangian_iters):
            c = at @ lam
            c_free = np.where(is_fixed, -np.inf, c)
            top = np.concatenate([self.fixed, np.argpartition(-c_free, free)[:free]])
            ub = float(np.maximum(w - lam, 0.0).sum() + c[top].sum())
            if ub < best_ub - 1e-12 * max(ub, 1.0):
                best_ub, stall = ub, 0
            else:
                stall += 1
                if stall >= 15:
                    step, stall = step / 2, 0
            lens = ac.indptr[top + 1] - ac.indptr[top]
            cov = np.bincount(ac.indices[_ranges(ac.indptr[top], lens)], minlength=n)
            value = float(w[cov > 0].sum())
            if value > best_v:
                best_v, best_set = value, top
            lower = max(lower, value)
            g = (w > lam).astype(np.float64) - cov
            norm = float(g @ g)
            if norm == 0.0 or best_ub - lower <= 1e-6 * max(lower, 1.0):
                break
            lam = np.clip(lam + step * (ub - lower) / norm * g, 0.0, w)
        return best_set, best_ub

    def _value_and_bound(self, sel: np.ndarray) -> tuple[float, float, np.ndarray]:
        a, w = self.coverage, self.weights
        covered = np.asarray(a[:, sel].sum(axis=1)).ravel() > 0
        value = float(w[covered].sum())
        gains = np.asarray(a.T @ np.where(covered, 0.0, w)).ravel()
        gains[sel] = 0.0
        top = np.sort(gains)[::-1][: self.p - self.fixed.size]
        coverable = float(w[np.diff(a.indptr) > 0].sum())
        return value, min(value + float(top.sum()), coverable), covered

    # --- exact ----------------------------------------------------------------------------

    def _exact(self, start: np.ndarray) -> tuple[np.ndarray, float, float, str]:
        a, w = self.coverage, self.weights
        m = a.shape[1]
        ak, wk = _aggregate_rows(a, w)
        nk = ak.shape[0]
        # columns: x (m) then y (nk); rows: nk coverage rows, then cardinality
        top = hstack([-ak, identity(nk, format="csr")])
        card = csr_matrix(np.concatenate([np.ones(m), np.zeros(nk)])[None, :])
        mat = csc_matrix(vstack([top, card]))
        lower = np.zeros(m + nk)
        lower[self.fixed] = 1.0
        x0 = np.zeros(m)
        x0[start] = 1.0
        y0 = (np.asarray(ak @ x0).ravel() > 0).astype(float)
        res = solve_mip(
            cost=np.concatenate([np.zeros(m), wk]),
            lower=lower,
            upper=np.ones(m + nk),
            integer=np.concatenate([np.ones(m, bool), np.zeros(nk, bool)]),
            a=mat,
            row_lower=np.concatenate([np.full(nk, -np.inf), [self.p]]),
            row_upper=np.concatenate([np.zeros(nk), [self.p]]),
            maximize=True,
            time_limit=self.time_limit,
            mip_rel_gap=self.mip_rel_gap,
            start=np.concatenate([x0, y0]),
            seed=self.seed,
            options=_MIP_OPTIONS,
        )
        sel = np.nonzero(res.x[:m] > 0.5)[0]
        return sel, res.objective, res.bound, res.status

    # --- driver ---------------------------------------------------------------------------

    def solve(self, *, progress: Progress | None = None) -> MCLP:
        """Solve; returns ``self`` with the ``..._`` attributes set."""
        t0 = time.perf_counter()
        steps = 3 if self.method == "exact" else 2
        greedy = self._greedy()
        if progress:
            progress(1, steps)
        sel = self._swap(greedy)
        value, bound, covered = self._value_and_bound(sel)
        lag_set, lag_ub = self._lagrangian(value)
        if lag_set is not None:
            alt = self._swap(lag_set)
            a_value, a_bound, a_covered = self._value_and_bound(alt)
            if a_value > value:
                sel, value, covered = alt, a_value, a_covered
            bound = min(bound, a_bound)
        bound = min(bound, lag_ub)
        if progress:
            progress(2, steps)
        status = "heuristic"
        if self.method == "exact":
            xsel, _obj, mip_bound, status = self._exact(sel)
            xvalue, _, xcovered = self._value_and_bound(xsel)
            if xvalue >= value:
                sel, value, covered = xsel, xvalue, xcovered
            bound = min(bound, max(mip_bound, value))
            if progress:
                progress(3, steps)
        self.selected_ = np.sort(sel)
        self.covered_weight_ = value
        self.bound_ = max(bound, value)
        self.gap_ = (self.bound_ - value) / max(abs(value), 1e-9) if self.bound_ > value else 0.0
        self.covered_ = covered
        self.status_ = status
        self.method_ = self.method
        self.seconds_ = time.perf_counter() - t0
        return self


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
