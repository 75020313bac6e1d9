"""ORIGAMI: exact SSE for homogeneous resources and singleton schedules in O(n log n)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from corridorguard.errors import SolverError
from corridorguard.games.model import Game
from corridorguard.games.result import TIE_TOL, GameSolution

__all__ = ["Origami", "origami_coverage"]


def origami_coverage(
    ra: NDArray[np.float64], pa: NDArray[np.float64], m: float
) -> tuple[NDArray[np.float64], float]:
    """The coverage that minimises the attacker's best utility, and that utility ``L*``.

    Vectorised: sort targets by ``R^a`` (descending); for attack sets made of the first ``k``
    targets the level that uses all ``m`` resources is ``(A_k - m) / B_k`` with
    ``A_k = sum R^a_i/(R^a_i - P^a_i)`` and ``B_k = sum 1/(R^a_i - P^a_i)``; a target fully covered
    bounds the level below by ``max_i P^a_i``. The first ``k`` whose level is at least the next
    target's ``R^a`` gives ``L*``; then ``c_t = clip((R^a_t - L*)/(R^a_t - P^a_t), 0, 1)``.
    """
    n = ra.shape[0]
    level = float(pa.max()) if m >= n else _level(ra, pa, m)
    cov = ra - level
    cov /= ra - pa
    np.clip(cov, 0.0, 1.0, out=cov)
    return cov, level


def _level(ra: NDArray[np.float64], pa: NDArray[np.float64], m: float) -> float:
    """``L*``: scan attack sets made of the targets with the highest ``R^a``."""
    order = np.argsort(ra)[::-1]
    ra_s = ra[order]
    pa_s = pa[order]
    inv = ra_s - pa_s
    np.divide(1.0, inv, out=inv)
    b = np.cumsum(inv)
    inv *= ra_s
    lm = np.cumsum(inv)
    lm -= m
    lm /= b
    nxt = ra_s[1:]
    ok = lm[:-1] >= nxt
    k1 = int(np.argmax(ok)) if ok.any() else ra_s.shape[0] - 1
    pmax = np.maximum.accumulate(pa_s[: k1 + 1])
    sat = pmax[:-1] >= nxt[:k1] if k1 > 0 else np.zeros(0, dtype=bool)
    k = int(np.argmax(sat)) if sat.any() else k1
    return float(max(lm[k], pmax[k]))


class Origami:
    r"""ORIGAMI (Kiekintveld et al. 2009): exact strong Stackelberg equilibrium for homogeneous
    resources, singleton schedules and one attacker type.

    Formulation
    -----------
    The defender picks coverage :math:`c \in [0,1]^n` with :math:`\sum_t c_t \le m`. For an
    attacked target :math:`t^*` the best SSE coverage maximises :math:`c_{t^*}` subject to
    :math:`U_a(t^*, c) \ge U_a(t, c)` for all :math:`t`. Every such problem is solved by the
    smallest attainable attacker level

    .. math:: L^* = \min\{L : \textstyle\sum_t \max(0, \frac{R^a_t - L}{R^a_t - P^a_t}) \le m,
              \; L \ge \max\{P^a_t : R^a_t > L\}\},

    with :math:`c_t = (R^a_t - L^*)/(R^a_t - P^a_t)` on the attack set
    :math:`\Gamma = \{t : R^a_t \ge L^*\}` (zero elsewhere). The attacker attacks the target of
    :math:`\Gamma` that is best for the defender (SSE tie-breaking). Resources left over when a
    target saturates (coverage 1) are spread over targets outside :math:`\Gamma` in order of
    the defender's uncovered loss; this changes neither player's utility.

    References
    ----------
    C. Kiekintveld, M. Jain, J. Tsai, J. Pita, F. Ordóñez, M. Tambe. "Computing optimal
    randomized resource allocations for massive security games." AAMAS 2009.

    Parameters
    ----------
    game
        A single-type game with homogeneous resources (no burden).
    fill_leftover
        Spread resources left after saturation (see above).

    Attributes
    ----------
    coverage_ : ndarray
    attacker_level_ : float
        :math:`L^*`, the attacker's equilibrium utility.
    attacked_ : int
    defender_utility_, attacker_utility_ : float
    status_ : str
    solution_ : GameSolution
    """

    name = "origami"

    def __init__(self, game: Game, *, fill_leftover: bool = True) -> None:
        self.game = game
        self.fill_leftover = fill_leftover

    def solve(self) -> Origami:
        g = self.game
        if g.is_bayesian or g.is_typed or g.burden is not None:
            raise SolverError(
                "ORIGAMI needs one attacker type, homogeneous resources and no burden; "
                "use eraser or hetero",
                status="unsupported",
            )
        p = g.payoffs
        cov, level = origami_coverage(p.ra, p.pa, float(g.resources))
        # attack set: uncovered targets at or above L*, partly covered ones (U_a = L*), and
        # saturated ones whose P^a reaches L*
        eps = level - TIE_TOL * max(1.0, abs(level))
        tied = p.ra >= eps
        full = cov >= 1.0
        if full.any():
            tied &= ~full | (p.pa >= eps)
        ud = p.rd - p.pd
        ud *= cov
        ud += p.pd
        ud[~tied] = -np.inf
        t = int(np.argmax(ud))
        ud_t = float(p.pd[t] + (p.rd[t] - p.pd[t]) * cov[t])
        ua = float(p.ra[t] - (p.ra[t] - p.pa[t]) * cov[t])
        if self.fill_leftover:
            cov = _fill(cov, tied, p.pd, float(g.resources))
        self.coverage_ = cov
        self.attacker_level_ = level
        self.attacked_ = t
        self.defender_utility_ = ud_t
        self.attacker_utility_ = ua
        self.status_ = "optimal"
        self.solution_ = GameSolution(
            game=g,
            coverage=cov,
            defender_utility=self.defender_utility_,
            attacker_utility=self.attacker_utility_,
            attacked_target=g.ids[t] if g._ids is not None else f"t{t}",
            solver=self.name,
        )
        return self


def _fill(
    cov: NDArray[np.float64], tied: NDArray[np.bool_], pd: NDArray[np.float64], m: float
) -> NDArray[np.float64]:
    left = min(m, cov.shape[0]) - float(cov.sum())
    if left <= 1e-12:
        return cov
    free = np.flatnonzero(~tied)
    if free.size == 0:
        return cov
    order = free[np.argsort(pd[free], kind="stable")]  # worst uncovered loss first
    room = 1.0 - cov[order]
    cum = np.cumsum(room)
    add = np.clip(left - (cum - room), 0.0, room)
    out = cov.copy()
    out[order] += add
    return out
