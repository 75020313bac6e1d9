"""Monotonic maximin: robust coverage against every attacker whose choice is monotone in his
expected utility (best response, any regular quantal response, any SUQR weights)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from corridorguard.errors import SolverError
from corridorguard.games._build import CoverageBlock, ModelBuilder, add_coverage
from corridorguard.games._highs import INF, LinearProgram, solve_lp
from corridorguard.games.model import Game
from corridorguard.games.result import GameSolution

__all__ = ["MonotonicMaximin", "monotone_worst_case"]

FloatArray = NDArray[np.float64]


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

    References
    ----------
    A. X. Jiang, T. H. Nguyen, M. Tambe, A. D. Procaccia. "Monotonic maximin: a robust
    Stackelberg solution against boundedly rational followers." GameSec 2013.

    Parameters
    ----------
    eps
        Attacker utilities closer than ``eps`` (times the payoff range) count as tied.
    time_limit
        Seconds before :class:`SolverError`.

    Attributes
    ----------
    coverage_, type_coverage_ : ndarray
    worst_case_utility_ : float
        Against the worst monotone attacker (= ``defender_utility_``).
    attacker_utility_ : float
        At the best-responding attacker's target.
    status_ : str
    solution_ : GameSolution
    """

    name = "maximin"

    def __init__(self, game: Game, *, eps: float = 1e-6, time_limit: float | None = 120.0):
        self.game = game
        self.eps = eps
        self.time_limit = time_limit

    def solve(self) -> MonotonicMaximin:
        g = self.game
        if g.is_bayesian:
            raise SolverError("maximin takes one attacker type", status="unsupported")
        lp, c_cols, v, blk = self._model()
        res = solve_lp(lp, time_limit=self.time_limit, solver_name="maximin")
        c = np.clip(res.x[c_cols], 0.0, 1.0)
        self.coverage_ = c
        self.type_coverage_ = blk.type_coverage(g, res.x)
        self.worst_case_utility_ = max(monotone_worst_case(g, c), float(res.x[v]))
        self.defender_utility_ = self.worst_case_utility_
        self.status_ = "optimal"
        sol = GameSolution.from_coverage(g, c, self.name, type_coverage=self.type_coverage_)
        self.attacker_utility_ = sol.attacker_utility
        self.solution_ = replace(sol, defender_utility=self.worst_case_utility_)
        return self

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
