"""Monotonic maximin: robust coverage against every attacker whose choice is monotone in his
expected utility (best response, any regular quantal response, any SUQR weights)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from corridorguard.errors import SolverError
from corridorguard.games._build import CoverageBlock, ModelBuilder, add_coverage
from corridorguard.games._highs import INF, LinearProgram, solve_lp
from corridorguard.games.model import Game
from corridorguard.games.origami import origami_coverage
from corridorguard.games.result import GameSolution

__all__ = ["MonotonicMaximin", "monotone_worst_case", "order_lp", "weak_order"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_EXHAUSTIVE_SPLIT = 7  # groups up to this size: try every split


def monotone_worst_case(game: Game, coverage: FloatArray, *, tol: float = 1e-7) -> float:
    """The defender's utility against the worst monotone attacker.

    A monotone attacker gives higher-utility targets at least the probability of lower ones
    (ties equal), so the worst case is a uniform attack on a top set
    ``{t : U_a(t) >= U_a(s)}``; returns the smallest mean ``U_d`` over those sets.
    """
    p = game.payoffs
    ua = p.attacker_utility(coverage)
    ud = p.defender_utility(coverage)
    order = np.argsort(-ua, kind="stable")
    prefix = np.cumsum(ud[order]) / np.arange(1, ua.size + 1)
    sorted_ua = ua[order]
    boundary = np.ones(ua.size, dtype=bool)
    boundary[:-1] = sorted_ua[1:] < sorted_ua[:-1] - tol
    return float(prefix[boundary].min())


def weak_order(game: Game, coverage: FloatArray, *, tol: float = 1e-7) -> list[IntArray]:
    """Targets grouped by attacker utility, highest first (utilities within ``tol`` tie)."""
    ua = game.payoffs.attacker_utility(coverage)
    order = np.argsort(-ua, kind="stable")
    cut = np.flatnonzero(ua[order][1:] < ua[order][:-1] - tol) + 1
    return list(np.split(order, cut))


def order_lp(
    game: Game, groups: Sequence[IntArray]
) -> tuple[float, FloatArray, FloatArray | None] | None:
    r"""Monotonic maximin restricted to one weak order of the attacker's utilities (an LP).

    ``groups`` lists the targets from the attacker's most to least preferred; targets in one
    group share their attacker utility, later groups have lower or equal utility, and every
    union of leading groups must give the defender a mean utility of at least ``v``:

    .. math:: \max v \;\text{s.t.}\; U_a(i) = U_a(f_r)\;(i \in G_r),\;
              U_a(f_r) \ge U_a(f_{r+1}),\; \sum_{i \in G_1 \cup \dots \cup G_r}
              (U_d(i) - v) \ge 0,\; c \in \mathcal{C}.

    Any coverage it returns has a monotone worst case of at least ``v`` (ties across groups
    only drop constraints). Returns ``(v, c, type_coverage)``, or ``None`` when infeasible.
    """
    p = game.payoffs
    mb = ModelBuilder()
    blk = add_coverage(mb, game)
    lo_d, hi_d = float(p.pd.min()), float(p.rd.max())
    v = int(mb.cols(1, lo_d, hi_d)[0])
    k = len(groups)
    s = mb.cols(k, -INF, INF)  # s_r = sum of U_d over the first r groups
    d, delta = p.ra - p.pa, p.rd - p.pd
    first = np.array([int(gr[0]) for gr in groups])
    rest = np.concatenate([gr[1:] for gr in groups]) if k else np.zeros(0, np.int64)
    rest_first = np.concatenate([np.full(len(gr) - 1, gr[0]) for gr in groups])
    rest = rest.astype(np.int64)
    rest_first = rest_first.astype(np.int64)
    q = rest.size
    if q:  # U_a(i) = U_a(f):  -d_i c_i + d_f c_f = Ra_f - Ra_i
        loc = np.arange(q)
        mb.rows(q, np.r_[loc, loc], np.r_[blk.c[rest], blk.c[rest_first]],
                np.r_[-d[rest], d[rest_first]], p.ra[rest_first] - p.ra[rest],
                p.ra[rest_first] - p.ra[rest])  # fmt: skip
    if k > 1:  # U_a(f_r) >= U_a(f_{r+1})
        a, b = first[:-1], first[1:]
        loc = np.arange(k - 1)
        mb.rows(k - 1, np.r_[loc, loc], np.r_[blk.c[a], blk.c[b]], np.r_[-d[a], d[b]],
                p.ra[b] - p.ra[a], INF)  # fmt: skip
    sizes = np.array([len(gr) for gr in groups])
    members = np.concatenate(list(groups)).astype(np.int64)
    member_row = np.repeat(np.arange(k), sizes)
    pd_sum = np.bincount(member_row, weights=p.pd[members], minlength=k).astype(np.float64)
    # s_r - s_{r-1} - sum_{G_r} delta_i c_i = sum_{G_r} Pd_i
    prev = np.arange(1, k)
    mb.rows(k, np.r_[np.arange(k), prev, member_row], np.r_[s, s[:-1], blk.c[members]],
            np.r_[np.ones(k), -np.ones(k - 1), -delta[members]], pd_sum, pd_sum)  # fmt: skip
    # s_r - N_r v >= 0
    loc = np.arange(k)
    mb.rows(k, np.r_[loc, loc], np.r_[s, np.full(k, v)],
            np.r_[np.ones(k), -np.cumsum(sizes).astype(float)], 0.0, INF)  # fmt: skip
    res = solve_lp(mb.build({v: 1.0}), raise_on_fail=False, solver_name="maximin order LP")
    if res.status != "optimal":
        return None
    return float(res.x[v]), np.clip(res.x[blk.c], 0.0, 1.0) + 0.0, blk.type_coverage(game, res.x)


def _moves(groups: list[IntArray], i: int, r: int, reach: int) -> list[list[IntArray]]:
    """Weak orders one step from ``groups``: target ``i`` (in group ``r``) joins another group
    or stands alone in a gap, at most ``reach`` groups away (nearest first)."""
    k = len(groups)
    base = [gr[gr != i] for gr in groups]
    alone = np.array([i], dtype=np.int64)
    out: list[list[IntArray]] = []
    for step in range(1, reach + 1):
        for j in (r - step, r + step):
            if 0 <= j < k:
                new = list(base)
                new[j] = np.append(new[j], i)
                out.append(new)
        for gap in (r - step + 1, r + step) if step > 1 else (r, r + 1):
            if 0 <= gap <= k and not (len(groups[r]) == 1 and gap in (r, r + 1)):
                out.append([*base[:gap], alone, *base[gap:]])
    return [[gr for gr in new if gr.size] for new in out]


def _block_moves(game: Game, groups: list[IntArray], c: FloatArray) -> list[list[IntArray]]:
    """Weak orders that merge two neighbouring groups or split one group in two: every split of
    a small group; for larger ones the members sorted by the defender's utility, ``R^a`` or
    ``U_d`` gained per unit of ``U_a``, cut at up to 12 places."""
    p = game.payoffs
    ud = p.defender_utility(c)
    rate = (p.rd - p.pd) / (p.ra - p.pa)  # U_d gained per unit of U_a given up
    out: list[list[IntArray]] = []
    for r in range(len(groups) - 1):
        out.append([*groups[:r], np.r_[groups[r], groups[r + 1]], *groups[r + 2 :]])
    for r, gr in enumerate(groups):
        if gr.size < 2:
            continue
        if gr.size <= _EXHAUSTIVE_SPLIT:  # every ordered bipartition of a small group
            for mask in range(1, 2**gr.size - 1):
                top = np.array([(mask >> b) & 1 for b in range(gr.size)], dtype=bool)
                out.append([*groups[:r], gr[top], gr[~top], *groups[r + 1 :]])
            continue
        for key in (-ud[gr], ud[gr], -p.ra[gr], rate[gr], -rate[gr]):
            srt = gr[np.argsort(key, kind="stable")]
            for cut in np.unique(np.geomspace(1, gr.size - 1, min(gr.size - 1, 12)).astype(int)):
                out.append([*groups[:r], srt[:cut], srt[cut:], *groups[r + 1 :]])
    return out


class MonotonicMaximin:
    r"""Monotonic maximin (Jiang, Nguyen, Tambe & Procaccia 2013).

    Formulation
    -----------
    Against a monotone attacker the worst case is a uniform attack on a top set
    :math:`S_j = \{i : U_a(i, c) \ge U_a(j, c)\}`. With binaries :math:`o_{ij} = 1` iff
    :math:`U_a(i) \ge U_a(j)` (big-M rows both ways, :math:`o_{ij} + o_{ji} \ge 1`; attacker
    utilities within :math:`\epsilon` count as tied, which is conservative) and
    :math:`z_{ij} \le o_{ij}(U_d(i, c) - v)` (McCormick), the MILP is

    .. math:: \max v \quad \text{s.t.} \quad U_d(j, c) - v + \sum_{i \ne j} z_{ij} \ge 0
              \;\; \forall j, \quad c \in \mathcal{C}.

    :math:`n(n-1)` binaries: exact and quick up to about 8 targets, minutes beyond ~10 on a
    small machine; a time-out raises :class:`SolverError`. The reported value is recomputed
    exactly from the coverage (:func:`monotone_worst_case`).

    Larger games (``method="local"``, the default above ``exact_max_targets``): the paper gives
    no polynomial algorithm for monotonic maximin itself (its polynomial algorithm is for the
    more conservative *top-monotonic* maximin), so we search over weak orders of the attacker's
    utilities. For a fixed weak order the problem is an LP (:func:`order_lp`: equal attacker
    utility inside a group, non-increasing across groups, every union of leading groups has
    mean defender utility >= v). Starting from ORIGAMI's order, the order of ``R^a`` and all
    targets tied, a first-improvement search moves one target to a nearby group or gap, merges
    neighbouring groups or splits a group, until no move improves or ``max_lps`` LPs /
    ``time_limit`` seconds are spent. This is a **heuristic with a certificate**: the returned
    coverage's worst case over every monotone attacker is computed exactly and reported, it is
    never below ORIGAMI's or the no-coverage order's worst case, but it may fall short of the
    optimum (on random games with 3–6 targets it matched the exact MILP on 75 of 80 in one
    sample, short by up to 0.08 on the others; see ``docs/benchmarks.md``). ``status_`` is
    then ``"feasible"``, not ``"optimal"``.

    References
    ----------
    A. X. Jiang, T. H. Nguyen, M. Tambe, A. D. Procaccia. "Monotonic maximin: a robust
    Stackelberg solution against boundedly rational followers." GameSec 2013.

    Parameters
    ----------
    eps
        Attacker utilities closer than ``eps`` (times the payoff range) count as tied (MILP).
    time_limit
        Seconds: the MILP raises :class:`SolverError` after it; the local search returns its
        best certified coverage so far (``converged_`` false).
    method
        ``"exact"`` (MILP), ``"local"`` (order-LP search) or ``"auto"`` (exact up to
        ``exact_max_targets`` targets).
    reach, max_lps
        Local search: how many groups away a target may move; LP budget.

    Attributes
    ----------
    coverage_, type_coverage_ : ndarray
    worst_case_utility_ : float
        Against the worst monotone attacker (= ``defender_utility_``).
    attacker_utility_ : float
        At the best-responding attacker's target.
    method_ : str
    lps_solved_ : int
    converged_ : bool
        False when the local search stopped on its budget.
    status_ : str
        ``"optimal"`` (MILP) or ``"feasible"`` (local search: certified, maybe not optimal).
    solution_ : GameSolution
    """

    name = "maximin"

    def __init__(
        self,
        game: Game,
        *,
        eps: float = 1e-6,
        time_limit: float | None = 120.0,
        method: str = "auto",
        exact_max_targets: int = 8,
        reach: int = 2,
        max_lps: int = 600,
    ):
        self.game = game
        self.eps = eps
        self.time_limit = time_limit
        self.method = method
        self.exact_max_targets = exact_max_targets
        self.reach = reach
        self.max_lps = max_lps

    def solve(self) -> MonotonicMaximin:
        g = self.game
        if g.is_bayesian:
            raise SolverError("maximin takes one attacker type", status="unsupported")
        if self.method not in ("auto", "exact", "local"):
            raise SolverError(f"maximin: unknown method {self.method!r}", status="unsupported")
        exact = self.method == "exact" or (
            self.method == "auto" and g.n_targets <= self.exact_max_targets
        )
        if exact:
            lp, c_cols, v, blk = self._model()
            res = solve_lp(lp, time_limit=self.time_limit, solver_name="maximin")
            c = np.clip(res.x[c_cols], 0.0, 1.0) + 0.0  # no -0.0 in the JSON
            tc = blk.type_coverage(g, res.x)
            value = max(monotone_worst_case(g, c), float(res.x[v]))
            self.lps_solved_, self.converged_ = 1, True
        else:
            value, c, tc = self._local_search()
        self.method_ = "exact MILP" if exact else "order-LP local search"
        self.coverage_ = c
        self.type_coverage_ = tc
        self.worst_case_utility_ = value
        self.defender_utility_ = value
        self.status_ = "optimal" if exact else "feasible"
        sol = GameSolution.from_coverage(g, c, self.name, type_coverage=tc)
        self.attacker_utility_ = sol.attacker_utility
        self.solution_ = replace(sol, defender_utility=value, status=self.status_)
        return self

    def _starts(self) -> list[list[IntArray]]:
        """Initial weak orders: ORIGAMI's (the SSE attack set tied on top), the order of
        ``R^a`` (no coverage) and all targets tied."""
        g = self.game
        p = g.payoffs
        cov, _ = origami_coverage(p.ra, p.pa, float(min(g.resources, g.n_targets)))
        everything = [np.arange(g.n_targets, dtype=np.int64)]
        return [weak_order(g, cov), weak_order(g, np.zeros(g.n_targets)), everything]

    def _local_search(self) -> tuple[float, FloatArray, FloatArray | None]:
        """Best order LP over a neighbourhood search of weak orders (first improvement)."""
        g = self.game
        deadline = None if self.time_limit is None else time.monotonic() + self.time_limit
        self.lps_solved_, self.converged_ = 0, True
        best: tuple[float, FloatArray | None, FloatArray | None] = (-np.inf, None, None)

        def evaluate(groups: list[IntArray]) -> tuple[float, FloatArray, FloatArray | None] | None:
            self.lps_solved_ += 1
            out = order_lp(g, groups)
            if out is None:
                return None
            v, c, tc = out
            return max(v, monotone_worst_case(g, c)), c, tc

        for groups in self._starts():
            res = evaluate(groups)
            if res is not None and res[0] > best[0]:
                best = res
        if best[1] is None:
            raise SolverError("maximin: no feasible order LP", status="infeasible")
        improved, cursor = True, 0
        while improved:
            improved = False
            assert best[1] is not None
            groups = weak_order(g, best[1])
            where = np.empty(g.n_targets, dtype=np.int64)
            for r, gr in enumerate(groups):
                where[gr] = r
            # resume the scan where the last improvement was found
            targets = np.roll(np.concatenate(groups), -cursor)
            singles = (
                (k, cand)
                for k, i in enumerate(targets)
                for cand in _moves(groups, int(i), int(where[i]), self.reach)
            )
            blocks = ((0, cand) for cand in _block_moves(g, groups, best[1]))
            for k, cand in itertools.chain(singles, blocks):
                out_of_time = deadline is not None and time.monotonic() > deadline
                if out_of_time or self.lps_solved_ >= self.max_lps:
                    self.converged_ = False
                    return best  # type: ignore[return-value]
                res = evaluate(cand)
                if res is not None and res[0] > best[0] + 1e-9 * max(1.0, abs(best[0])):
                    best, improved = res, True
                    cursor = (cursor + k) % g.n_targets
                    break
        return best  # type: ignore[return-value]

    def _model(self) -> tuple[LinearProgram, NDArray[np.int64], int, CoverageBlock]:
        g = self.game
        n, p = g.n_targets, g.payoffs
        mb = ModelBuilder()
        blk = add_coverage(mb, g)
        lo_d, hi_d = float(p.pd.min()), float(p.rd.max())
        v = int(mb.cols(1, lo_d, hi_d)[0])
        ii, jj = np.nonzero(~np.eye(n, dtype=bool))
        k = ii.size
        o = mb.cols(k, 0.0, 1.0, integer=True)
        z = mb.cols(k, -INF, INF)
        pos = np.full((n, n), -1)
        pos[ii, jj] = np.arange(k)
        upper = ii < jj
        m_pairs = int(upper.sum())
        loc = np.arange(m_pairs)
        # o_ij + o_ji >= 1
        mb.rows(m_pairs, np.r_[loc, loc], np.r_[o[upper], o[pos[jj[upper], ii[upper]]]],
                np.ones(2 * m_pairs), 1.0, INF)  # fmt: skip
        d, delta = p.ra - p.pa, p.rd - p.pd
        big = float(p.ra.max() - p.pa.min())
        eps = self.eps * max(1.0, big)
        loc = np.arange(k)
        cols3 = np.r_[blk.c[ii], blk.c[jj], o]
        # U_a(i) - U_a(j) >= -M (1 - o_ij)
        mb.rows(k, np.r_[loc, loc, loc], cols3, np.r_[-d[ii], d[jj], -np.full(k, big)],
                p.ra[jj] - p.ra[ii] - big, INF)  # fmt: skip
        # U_a(i) - U_a(j) <= -eps + (M + eps) o_ij
        mb.rows(k, np.r_[loc, loc, loc], cols3, np.r_[-d[ii], d[jj], -np.full(k, big + eps)],
                -INF, p.ra[jj] - p.ra[ii] - eps)  # fmt: skip
        span = hi_d - lo_d
        # z_ij <= span * o_ij ;  z_ij <= U_d(i) - v + span (1 - o_ij)
        mb.rows(k, np.r_[loc, loc], np.r_[z, o], np.r_[np.ones(k), -np.full(k, span)], -INF, 0.0)
        mb.rows(k, np.r_[loc, loc, loc, loc], np.r_[z, blk.c[ii], np.full(k, v), o],
                np.r_[np.ones(k), -delta[ii], np.ones(k), np.full(k, span)], -INF,
                p.pd[ii] + span)  # fmt: skip
        # U_d(j) - v + sum_i z_ij >= 0
        mb.rows(n, np.r_[np.arange(n), np.arange(n), jj], np.r_[blk.c, np.full(n, v), z],
                np.r_[delta, -np.ones(n), np.ones(k)], -p.pd, INF)  # fmt: skip
        return mb.build({v: 1.0}), blk.c, v, blk
