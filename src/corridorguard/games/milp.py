"""Multiple LPs and the ERASER MILP on marginal coverage, on HiGHS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from corridorguard.errors import SolverError
from corridorguard.games._build import CoverageBlock, ModelBuilder, add_coverage
from corridorguard.games._highs import INF, LinearProgram, solve_lp
from corridorguard.games.model import Game, PayoffArrays
from corridorguard.games.origami import origami_coverage
from corridorguard.games.result import GameSolution, evaluate

__all__ = ["Eraser", "MultipleLP", "solve_fixed_responses"]

FloatArray = NDArray[np.float64]


def _burden_params(game: Game) -> tuple[float | None, float]:
    if game.burden is None:
        return None, 0.0
    return game.burden.cap, game.burden.weight


def _fixed_response_lp(game: Game, attacked: Sequence[int]) -> tuple[LinearProgram, CoverageBlock]:
    """LP: max sum_l p_l U_d^l(t_l, c) s.t. t_l is a best response of type l, c implementable."""
    n = game.n_targets
    mb = ModelBuilder()
    cap, weight = _burden_params(game)
    blk = add_coverage(mb, game, burden_cap=cap, burden_weight=weight)
    obj: dict[int, float] = {}
    for (prob, p), t in zip(game.types(), attacked, strict=True):
        d = p.ra - p.pa
        others = np.delete(np.arange(n), t)
        k = n - 1
        local = np.arange(k)
        # U_a(t') - U_a(t) <= 0  <=>  -d_t' c_t' + d_t c_t <= Ra_t - Ra_t'
        mb.rows(
            k,
            np.concatenate([local, local]),
            np.concatenate([blk.c[others], np.full(k, blk.c[t])]),
            np.concatenate([-d[others], np.full(k, d[t])]),
            -INF,
            p.ra[t] - p.ra[others],
        )
        obj[int(blk.c[t])] = obj.get(int(blk.c[t]), 0.0) + prob * (p.rd[t] - p.pd[t])
        mb.offset += prob * p.pd[t]
    return mb.build(obj), blk


def solve_fixed_responses(
    game: Game, attacked: Sequence[int], *, raise_on_fail: bool = True
) -> tuple[str, float, FloatArray, FloatArray | None]:
    """Best coverage given each type's attacked target: ``(status, value, c, type_cov)``."""
    status, value, x, blk = _fixed(game, attacked, raise_on_fail=raise_on_fail)
    if status != "optimal":
        return status, -np.inf, x, None
    return status, value, np.clip(x[blk.c], 0, 1), blk.type_coverage(game, x)


def _fixed(
    game: Game, attacked: Sequence[int], *, raise_on_fail: bool = True
) -> tuple[str, float, FloatArray, CoverageBlock]:
    lp, blk = _fixed_response_lp(game, attacked)
    res = solve_lp(lp, raise_on_fail=raise_on_fail, solver_name="multiple LPs")
    return res.status, res.objective, res.x, blk


class _MarginalSolver:
    """Result attributes shared by the marginal-coverage solvers."""

    name = "marginal"
    coverage_: FloatArray
    type_coverage_: FloatArray | None
    attacked_: int | list[int]
    defender_utility_: float
    attacker_utility_: float
    status_: str
    solution_: GameSolution


class MultipleLP(_MarginalSolver):
    r"""Multiple LPs (Conitzer & Sandholm 2006) on marginal coverage: exact SSE for one attacker
    type, homogeneous or typed resources, with optional burden weight/cap.

    Formulation
    -----------
    For every target :math:`t` solve

    .. math:: \max_{c \in \mathcal{C}} \; U_d(t, c) - w\,B(c) \quad \text{s.t.} \quad
              U_a(t', c) \le U_a(t, c) \;\; \forall t', \quad B(c) \le \bar B,

    where :math:`\mathcal{C}` is the implementable coverage polytope (``sum c <= m``, or the
    type x target polytope of Korzhyk et al. 2010) and :math:`B` the civilian burden. The best
    feasible LP is the SSE (the attacker's tie goes to the defender by construction). Targets
    that can never be a best response (:math:`R^a_t` below the ORIGAMI level :math:`L^*` with
    all resources) or whose bound :math:`U_d(t, (R^a_t - L^*)/(R^a_t - P^a_t))` cannot beat the
    incumbent are skipped.

    References
    ----------
    V. Conitzer, T. Sandholm. "Computing the optimal strategy to commit to." EC 2006.
    D. Korzhyk, V. Conitzer, R. Parr. "Complexity of computing optimal Stackelberg strategies in
    security resource allocation games." AAAI 2010.

    Attributes
    ----------
    coverage_, type_coverage_ : ndarray
    attacked_ : int
    defender_utility_, attacker_utility_ : float
    lps_solved_ : int
    status_ : str
    solution_ : GameSolution
    """

    name = "multilp"

    def __init__(self, game: Game) -> None:
        self.game = game

    def solve(self) -> MultipleLP:
        g = self.game
        if g.is_bayesian:
            raise SolverError(
                "multiple LPs handle one attacker type; use eraser", status="unsupported"
            )
        p = g.payoffs
        # bound: an attacked target has U_a(t) >= L* (ORIGAMI level with all resources, a
        # relaxation of any side constraints), so c_t <= (R^a_t - L*) / (R^a_t - P^a_t)
        _, level = origami_coverage(p.ra, p.pa, float(min(g.resources, g.n_targets)))
        cmax = np.clip((p.ra - level) / (p.ra - p.pa) + 1e-9, 0.0, 1.0)
        bound = p.pd + (p.rd - p.pd) * cmax + 1e-9 * (1.0 + np.abs(p.rd))
        best: tuple[float, int, FloatArray | None, FloatArray | None] = (-np.inf, -1, None, None)
        solved = 0
        for t in np.argsort(-bound, kind="stable"):
            if bound[t] <= best[0] + 1e-12:
                break
            if p.ra[t] < level - 1e-9 * max(1.0, abs(level)):
                continue
            status, val, cov, tc = solve_fixed_responses(g, [int(t)], raise_on_fail=False)
            solved += 1
            if status == "optimal" and val > best[0] + 1e-12:
                best = (val, int(t), cov, tc)
            elif status not in ("optimal", "Infeasible"):
                raise SolverError(f"multiple LPs: LP for target {t}: {status}", status=status)
        _, best_t, best_cov, best_tc = best
        if best_cov is None:
            raise SolverError("multiple LPs: every LP is infeasible", status="infeasible")
        self.lps_solved_ = solved
        _finish(self, g, best_cov, best_tc, [best_t])
        return self


class Eraser(_MarginalSolver):
    r"""ERASER (Kiekintveld et al. 2009): MILP for Bayesian attacker types on marginal coverage.

    Formulation
    -----------
    With :math:`a^\lambda_t \in \{0,1\}` marking the target attacked by type :math:`\lambda`:

    .. math::
        \max \sum_\lambda p_\lambda d^\lambda - w B(c) \quad \text{s.t.} \quad
        c \in \mathcal{C},\; B(c) \le \bar B,\; \sum_t a^\lambda_t = 1, \\
        d^\lambda - U^\lambda_d(t, c) \le M_1 (1 - a^\lambda_t), \quad
        0 \le k^\lambda - U^\lambda_a(t, c) \le M_2 (1 - a^\lambda_t).

    Implemented without big-M: with :math:`y^\lambda_t = a^\lambda_t c_t` (McCormick envelope,
    exact for binary :math:`a`), :math:`d^\lambda = \sum_t P^d_t a^\lambda_t + (R^d_t - P^d_t)
    y^\lambda_t` and :math:`k^\lambda = \sum_t R^a_t a^\lambda_t - (R^a_t - P^a_t)
    y^\lambda_t \ge U^\lambda_a(t', c)` for all :math:`t'`, a much tighter relaxation than the
    big-M rows (as in DOBSS). Targets that no coverage can make a best response of a type
    (:math:`R^a_t` below that type's ORIGAMI level with all resources) get no binary. The MILP's
    attack assignment is then polished by the fixed-response LP, so the coverage is exact.

    References
    ----------
    C. Kiekintveld et al. "Computing optimal randomized resource allocations for massive
    security games." AAMAS 2009. P. Paruchuri et al. "Playing games for security: an efficient
    exact algorithm for solving Bayesian Stackelberg games." AAMAS 2008 (DOBSS).

    Parameters
    ----------
    time_limit
        Seconds; a time-out without a proven optimum raises :class:`SolverError`.

    Attributes
    ----------
    coverage_, type_coverage_ : ndarray
    attacked_ : int or list of int
        The attacked target (one type) or one per type.
    defender_utility_, attacker_utility_ : float
        Probability-weighted over the types.
    status_ : str
    solution_ : GameSolution
    """

    name = "eraser"

    def __init__(self, game: Game, *, time_limit: float | None = 300.0) -> None:
        self.game = game
        self.time_limit = time_limit

    def solve(self) -> Eraser:
        g = self.game
        lp, _ = self._model()
        start = self._warm_start(lp)
        res = solve_lp(
            lp,
            time_limit=self.time_limit,
            solver_name="ERASER",
            start=start,
            # with a polished warm start HiGHS's primal heuristics rarely pay off
            options={"mip_heuristic_effort": 0.0} if start is not None else None,
        )
        attacked = []
        for cols in self._a_cols:
            a = res.x[cols[0]]
            attacked.append(int(cols[1][int(np.argmax(a))]))
        _, _, cov, tc = solve_fixed_responses(g, attacked)
        _finish(self, g, cov, tc, attacked)
        return self

    def _model(self) -> tuple[LinearProgram, CoverageBlock]:
        g = self.game
        mb = ModelBuilder()
        cap, weight = _burden_params(g)
        blk = add_coverage(mb, g, burden_cap=cap, burden_weight=weight)
        obj: dict[int, float] = {}
        self._a_cols: list[tuple[NDArray[np.int64], NDArray[np.int64]]] = []
        self._blocks: list[tuple[int, int, NDArray[np.int64], NDArray[np.int64]]] = []
        for prob, p in g.types():
            d_col, k_col, a_cols, cand = _type_block(mb, blk, p, float(g.resources))
            obj[int(d_col)] = prob
            self._a_cols.append((a_cols, cand))
            self._blocks.append((d_col, k_col, a_cols, cand))
        return mb.build(obj), blk

    def _warm_start(self, lp: LinearProgram) -> FloatArray | None:
        """A feasible start. Candidate attack profiles: the responses to each type's ORIGAMI
        coverage (and the mean attacker's) and, for Bayesian games, the rounded LP relaxation
        (each type's largest ``a``); each is polished by the fixed-response LP and re-evaluated
        (a few rounds); the best one seeds the MILP."""
        g = self.game
        ncol = lp.cost.shape[0]
        m = float(min(g.resources, g.n_targets))
        covs = [origami_coverage(p.ra, p.pa, m)[0] for _, p in g.types()]
        covs.append(origami_coverage(g.payoffs.ra, g.payoffs.pa, m)[0])
        profiles = [[r.attacked for r in evaluate(g, cov)] for cov in covs]
        if g.is_bayesian:
            relaxed = solve_lp(replace(lp, integer=None), raise_on_fail=False)
            if relaxed.status == "optimal":
                profiles.append(
                    [int(cand[np.argmax(relaxed.x[a])]) for (_, _, a, cand) in self._blocks]
                )
        best: tuple[float, FloatArray | None, list[int]] = (-np.inf, None, [])
        for attacked in profiles:
            for _ in range(3):
                status, value, x, blk = _fixed(g, attacked, raise_on_fail=False)
                if status != "optimal" or value <= best[0] + 1e-12:
                    break
                c = np.clip(x[blk.c], 0.0, 1.0)
                attacked = [r.attacked for r in evaluate(g, c)]
                best = (value, x, attacked)
        _, x_best, attacked = best
        if x_best is None:
            return None
        start = np.zeros(ncol)
        start[: x_best.shape[0]] = x_best
        c = start[: g.n_targets]
        for (_, p), t, (d_col, k_col, a_cols, cand) in zip(
            g.types(), attacked, self._blocks, strict=True
        ):
            pos = np.flatnonzero(cand == t)
            if pos.size == 0:
                return None
            start[a_cols[pos[0]]] = 1.0
            start[a_cols[pos[0]] + len(a_cols)] = c[t]  # y columns follow the a columns
            start[k_col] = p.ra[t] - (p.ra[t] - p.pa[t]) * c[t]
            start[d_col] = p.pd[t] + (p.rd[t] - p.pd[t]) * c[t]
        return start


def _type_block(
    mb: ModelBuilder, blk: CoverageBlock, p: PayoffArrays, m: float
) -> tuple[int, int, NDArray[np.int64], NDArray[np.int64]]:
    """One attacker type: binaries ``a_t``, attacked coverage ``y_t = a_t c_t`` (McCormick,
    exact for binary ``a``), the attacker's value ``k`` and the defender's value ``d``."""
    n = p.rd.shape[0]
    cov, level = origami_coverage(p.ra, p.pa, m)
    tol = 1e-9 * max(1.0, abs(level))
    cand = np.flatnonzero(p.ra >= level - tol)
    k = cand.shape[0]
    dd = p.ra - p.pa
    delta = p.rd - p.pd
    # this type alone, with every resource and no side constraint, is a relaxation: its SSE
    # value (ORIGAMI) bounds d from above
    ua = p.ra - dd * cov
    alone = float(np.max(np.where(ua >= level - tol, p.pd + delta * cov, -np.inf)))
    d = int(mb.cols(1, float(p.pd.min()), alone + 1e-9 * max(1.0, abs(alone)))[0])
    kk = int(mb.cols(1, level - 1e-9 * max(1.0, abs(level)), float(p.ra.max()))[0])
    a = mb.cols(k, 0.0, 1.0, integer=True)
    y = mb.cols(k, 0.0, 1.0)
    loc = np.arange(k)
    one = np.ones(k)
    # U_a(t) = k >= L* caps the attacked coverage: y_t <= a_t (R^a_t - L*) / D_t
    cmax = np.clip((p.ra[cand] - level) / dd[cand], 0.0, 1.0) + 1e-9
    mb.rows(1, np.zeros(k, np.int64), a, one, 1.0, 1.0)  # sum a = 1
    mb.rows(k, np.r_[loc, loc], np.r_[y, a], np.r_[one, -cmax], -INF, 0.0)  # y <= cmax a
    cc = blk.c[cand]
    mb.rows(k, np.r_[loc, loc], np.r_[y, cc], np.r_[one, -one], -INF, 0.0)  # y <= c
    # y >= c + a - 1
    mb.rows(k, np.r_[loc, loc, loc], np.r_[y, cc, a], np.r_[one, -one, -one], -1.0, INF)
    # k = sum_t (Ra_t a_t - D_t y_t);  d = sum_t (Pd_t a_t + delta_t y_t)
    zero = np.zeros(2 * k + 1, np.int64)
    mb.rows(1, zero, np.r_[kk, a, y], np.r_[-1.0, p.ra[cand], -dd[cand]], 0.0, 0.0)
    mb.rows(1, zero, np.r_[d, a, y], np.r_[-1.0, p.pd[cand], delta[cand]], 0.0, 0.0)
    # k >= U_a(t, c) for every target:  k + D_t c_t >= Ra_t
    loc = np.arange(n)
    mb.rows(n, np.r_[loc, loc], np.r_[np.full(n, kk), blk.c], np.r_[np.ones(n), dd], p.ra, INF)
    return d, kk, a, cand


def _finish(
    solver: _MarginalSolver,
    game: Game,
    cov: FloatArray,
    tc: FloatArray | None,
    attacked: Sequence[int],
) -> None:
    sol = GameSolution.from_coverage(
        game, cov, solver.name, type_coverage=tc, attacked=list(attacked)
    )
    solver.coverage_ = sol.coverage
    solver.type_coverage_ = tc
    solver.attacked_ = attacked[0] if len(attacked) == 1 else list(attacked)
    solver.defender_utility_ = sol.defender_utility
    solver.attacker_utility_ = sol.attacker_utility
    solver.status_ = "optimal"
    solver.solution_ = sol
