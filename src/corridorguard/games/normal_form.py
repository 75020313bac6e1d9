"""Normal-form Stackelberg games: the multiple-LPs method and the SSG -> normal-form expansion."""

from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np
from numpy.typing import ArrayLike, NDArray

from corridorguard.errors import SolverError, ValidationError
from corridorguard.games._build import ModelBuilder
from corridorguard.games._highs import INF, solve_lp
from corridorguard.games.model import Game

__all__ = ["NormalFormStackelberg", "to_normal_form"]

FloatArray = NDArray[np.float64]


class NormalFormStackelberg:
    r"""Optimal mixed strategy to commit to in a two-player normal-form game (SSE).

    Formulation
    -----------
    For each follower action :math:`j` solve the LP

    .. math:: \max_{x \in \Delta} \sum_i x_i A_{ij} \quad \text{s.t.} \quad
              \sum_i x_i B_{ij'} \le \sum_i x_i B_{ij} \;\; \forall j',

    and keep the best feasible one (ties in the follower's choice go to the leader). Actions
    whose best leader payoff :math:`\max_i A_{ij}` cannot beat the incumbent are skipped.

    References
    ----------
    V. Conitzer, T. Sandholm. "Computing the optimal strategy to commit to." EC 2006.

    Parameters
    ----------
    leader, follower
        ``(L, F)`` payoff matrices (rows: leader actions, columns: follower actions).

    Attributes
    ----------
    strategy_ : ndarray
        The leader's mixed strategy.
    follower_action_ : int
    leader_utility_, follower_utility_ : float
    status_ : str
    """

    def __init__(self, leader: ArrayLike, follower: ArrayLike) -> None:
        self.leader = np.asarray(leader, dtype=np.float64)
        self.follower = np.asarray(follower, dtype=np.float64)
        if self.leader.ndim != 2 or self.leader.shape != self.follower.shape:
            raise ValidationError(
                f"leader {self.leader.shape} and follower {self.follower.shape} payoffs must be "
                "matrices of one shape",
                field="follower",
            )
        if not (np.isfinite(self.leader).all() and np.isfinite(self.follower).all()):
            raise ValidationError("payoffs must be finite", field="leader")

    def solve(self) -> NormalFormStackelberg:
        a, b = self.leader, self.follower
        n_l, n_f = a.shape
        best: tuple[float, int, FloatArray | None] = (-np.inf, -1, None)
        for j in np.argsort(-a.max(axis=0), kind="stable"):
            if a[:, j].max() <= best[0] + 1e-12:
                break
            mb = ModelBuilder()
            x = mb.cols(n_l, 0.0, 1.0)
            mb.rows(1, np.zeros(n_l, np.int64), x, np.ones(n_l), 1.0, 1.0)
            others = np.delete(np.arange(n_f), j)
            diff = (b[:, others] - b[:, [j]]).T  # (F-1, L)
            r, c = np.nonzero(diff)
            mb.rows(len(others), r, x[c], diff[r, c], -INF, 0.0)
            res = solve_lp(
                mb.build({int(i): float(a[i, j]) for i in range(n_l)}),
                raise_on_fail=False,
                solver_name="multiple LPs",
            )
            if res.status == "optimal":
                if res.objective > best[0] + 1e-12:
                    xs = np.clip(res.x, 0.0, None)
                    best = (res.objective, int(j), xs / xs.sum())
            elif res.status != "Infeasible":
                raise SolverError(f"multiple LPs: follower action {j}: {res.status}")
        if best[2] is None:
            raise SolverError("multiple LPs: no follower action can be induced")
        self.strategy_ = best[2]
        self.follower_action_ = best[1]
        self.leader_utility_ = float(self.strategy_ @ a[:, best[1]])
        self.follower_utility_ = float(self.strategy_ @ b[:, best[1]])
        self.status_ = "optimal"
        return self


def to_normal_form(
    game: Game, *, exact_size: bool = False, max_strategies: int = 200_000
) -> tuple[FloatArray, FloatArray]:
    """Expand a single-type, homogeneous SSG into its normal form.

    Leader actions are the subsets of at most ``m`` targets (a resource may stay idle, exactly
    as ``sum c <= m`` in the marginal solvers); follower actions are the targets. With
    ``exact_size=True`` only the ``C(n, m)`` subsets of exactly ``m`` targets are used (the
    normal form of the research benchmarks; it differs only when the SSE leaves resources idle).
    """
    if game.is_bayesian or game.is_typed:
        raise ValidationError("only single-type homogeneous games expand", field="resources")
    n, m = game.n_targets, min(game.resources, game.n_targets)
    sizes = [m] if exact_size else list(range(m + 1))
    total = sum(comb(n, k) for k in sizes)
    if total > max_strategies:
        raise ValidationError(
            f"{total} pure strategies (n={n}, m={m}) exceed {max_strategies}", field="resources"
        )
    cover = np.zeros((total, n), dtype=bool)
    i = 0
    for k in sizes:
        for subset in combinations(range(n), k):
            cover[i, list(subset)] = True
            i += 1
    p = game.payoffs
    leader = np.where(cover, p.rd, p.pd)
    follower = np.where(cover, p.pa, p.ra)
    return leader, follower
