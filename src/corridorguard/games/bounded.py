"""Boundedly rational and uncertain attackers: QR/SUQR and interval payoffs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray
from scipy.special import lambertw

from corridorguard.errors import SolverError, ValidationError
from corridorguard.games._build import ModelBuilder, add_coverage
from corridorguard.games._highs import INF, solve_lp
from corridorguard.games._qr_lp import qr_inner_lp
from corridorguard.games.model import Game
from corridorguard.games.origami import origami_coverage
from corridorguard.games.result import GameSolution, TypeResponse, burden_of

__all__ = ["IntervalSolver", "QuantalResponse", "qr_defender_utility"]

FloatArray = NDArray[np.float64]


def _qr_params(game: Game, lam: float, weights: tuple[float, float, float] | None):
    p = game.payoffs
    if weights is None:
        if not lam > 0:
            raise ValidationError("must be > 0", field="lambda")
        return lam * p.ra, lam * (p.ra - p.pa)
    w1, w2, w3 = weights
    if not w1 < 0:
        raise ValidationError("the coverage weight must be < 0 (coverage deters)", field="w1")
    return w2 * p.ra + w3 * p.pa, np.full(p.ra.shape, -w1)


def qr_defender_utility(
    game: Game,
    coverage: FloatArray,
    *,
    lam: float = 0.76,
    weights: tuple[float, float, float] | None = None,
) -> float:
    """Expected defender utility against a QR (``lam``) or SUQR (``weights``) attacker."""
    alpha, beta = _qr_params(game, lam, weights)
    e = alpha - beta * coverage
    q = np.exp(e - e.max())
    q /= q.sum()
    return float(q @ game.payoffs.defender_utility(coverage))


class QuantalResponse:
    r"""Optimal coverage against a quantal-response (QR) or SUQR attacker (GOSAQ-style).

    Formulation
    -----------
    The attacker picks target :math:`t` with probability
    :math:`q_t \propto e^{\alpha_t - \beta_t c_t}` (QR: :math:`\alpha = \lambda R^a`,
    :math:`\beta = \lambda (R^a - P^a)`; SUQR with weights :math:`(w_1, w_2, w_3)`:
    :math:`\alpha = w_2 R^a + w_3 P^a`, :math:`\beta = -w_1`). The defender maximises
    :math:`\sum_t q_t U_d(t, c)` over :math:`\sum c \le m`, :math:`0 \le c \le 1`.

    Dinkelbach's method turns the ratio into a sequence of problems
    :math:`F(r) = \max_c \sum_t e^{\alpha_t - \beta_t c_t}(U_d(t,c) - r)`; with
    :math:`x_t = e^{-\beta_t c_t}` each term is :math:`x(a - \tfrac{\delta}{\beta}\ln x)`
    (concave) and :math:`\sum_t -\ln x_t / \beta_t \le m` is convex, so each problem is solved
    globally by its Lagrangian: a bisection on the multiplier :math:`\mu`, with each target's
    stationary point in closed form through Lambert's W (homogeneous resources, as GOSAQ).
    With side constraints (typed resources, agency caps, a burden cap) the same convex problem
    is solved by cutting-plane LPs on HiGHS (tangents of the concave terms and of the convex
    link in :math:`x` space) instead of PASAQ's piecewise-linear MILP. Exact up to ``tol``.

    References
    ----------
    R. Yang, F. Ordóñez, M. Tambe. "Computing optimal strategy against quantal response in
    security games." AAMAS 2012 (GOSAQ, PASAQ). T. H. Nguyen et al. "Analyzing the
    effectiveness of adversary modeling in security games." AAAI 2013 (SUQR).
    W. Dinkelbach. "On nonlinear fractional programming." Management Science 1967.

    Parameters
    ----------
    lam
        QR rationality (0.76 is the value fitted by Yang et al. 2011 on human subjects).
    weights
        SUQR weights ``(w1, w2, w3)`` (use instead of ``lam``), e.g. ``(-9.85, 0.37, 0.15)``.
    tol, max_iter
        Dinkelbach stopping tolerance (relative) and iteration cap (:class:`SolverError`).

    Attributes
    ----------
    coverage_, type_coverage_ : ndarray
    attack_probabilities_ : ndarray
        The attacker's mixed response to ``coverage_``.
    defender_utility_ : float
        Expected defender utility against this attacker (the objective).
    attacker_utility_ : float
    iterations_ : int
    method_ : str
        ``"Lagrangian"`` (homogeneous) or ``"cutting-plane LP"`` (side constraints).
    status_ : str
    solution_ : GameSolution
    """

    name = "qr"

    def __init__(
        self,
        game: Game,
        *,
        lam: float = 0.76,
        weights: tuple[float, float, float] | None = None,
        tol: float = 1e-9,
        max_iter: int = 100,
    ) -> None:
        self.game = game
        self.lam = lam
        self.weights = weights
        self.tol = tol
        self.max_iter = max_iter

    def solve(self) -> QuantalResponse:
        g = self.game
        if g.is_bayesian or (g.burden is not None and g.burden.weight > 0):
            raise SolverError(
                "QR/SUQR takes one attacker type and no burden weight (a burden cap is fine)",
                status="unsupported",
            )
        alpha, beta = _qr_params(g, self.lam, self.weights)
        p = g.payoffs
        log_theta = alpha - alpha.max()
        theta = np.exp(log_theta)
        delta = p.rd - p.pd
        m = float(min(g.resources, g.n_targets))
        constrained = g.is_typed or g.burden is not None
        self.method_ = "cutting-plane LP" if constrained else "Lagrangian"
        c = np.zeros(g.n_targets) if constrained else origami_coverage(p.ra, p.pa, m)[0]
        tc: FloatArray | None = None
        r = self._value(theta, beta, c)
        for it in range(self.max_iter):  # noqa: B007 (reported below)
            if constrained:
                c_new, tc_new, f = qr_inner_lp(g, theta, beta, p.pd - r, delta)
            else:
                c_new, tc_new = _inner(log_theta, beta, p.pd - r, delta, m), None
                f = float(np.sum(theta * np.exp(-beta * c_new) * (p.pd + delta * c_new - r)))
            r_new = self._value(theta, beta, c_new)
            if r_new > r:
                c, r, tc = c_new, r_new, tc_new
            if f <= self.tol * max(1.0, float(np.abs(p.pd).max())) * theta.sum():
                break
        else:
            raise SolverError("QR: Dinkelbach did not converge", status="iteration_limit")
        self.iterations_ = it + 1
        self.type_coverage_ = tc
        self.coverage_ = c
        self.defender_utility_ = r
        e = alpha - beta * c
        q = np.exp(e - e.max())
        self.attack_probabilities_ = q / q.sum()
        ua = p.ra - (p.ra - p.pa) * c
        self.attacker_utility_ = float(self.attack_probabilities_ @ ua)
        self.status_ = "optimal"
        t = int(np.argmax(self.attack_probabilities_))
        self.solution_ = GameSolution(
            game=g,
            coverage=c,
            defender_utility=r,
            attacker_utility=self.attacker_utility_,
            attacked_target=g.ids[t],
            solver=self.name,
            responses=(TypeResponse("attacker", 1.0, t, float(ua[t]), r),),
            type_coverage=tc,
            burden=burden_of(g, c, tc),
        )
        return self

    def _value(self, theta: FloatArray, beta: FloatArray, c: FloatArray) -> float:
        q = theta * np.exp(-beta * c)
        return float(q @ self.game.payoffs.defender_utility(c) / q.sum())


def _best_c(
    log_theta: FloatArray, beta: FloatArray, a: FloatArray, delta: FloatArray, mu: float
) -> FloatArray:
    """argmax over c in [0,1] of ``theta e^{-beta c}(a + delta c) - mu c`` per target.

    The term is concave in ``x = e^{-beta c}``, so its stationary point is the maximum. With
    ``w = (delta - beta (a + delta c)) / delta`` the condition ``slope = mu`` reads
    ``w e^w = z``, ``log z = log mu - log theta - log delta + 1 - beta a / delta``: the principal
    branch of Lambert's W gives ``c = (1 - w) / beta - a / delta`` (clipped).
    """
    pos = delta > 1e-12
    d = np.where(pos, delta, 1.0)
    if mu <= 0.0:
        w = np.zeros_like(a)
    else:
        log_z = np.log(mu) - log_theta - np.log(d) + 1.0 - beta * a / d
        w = _lambertw_log(log_z)
    c = (1.0 - w) / beta - a / d
    if not pos.all():  # delta = 0: theta e^{-beta c} a - mu c
        with np.errstate(divide="ignore", invalid="ignore"):
            flat = np.where(
                a < 0,
                (np.log(beta * np.abs(a)) + log_theta - np.log(max(mu, 1e-300))) / beta,
                0.0,
            )
        c = np.where(pos, c, flat)
    return np.clip(np.nan_to_num(c, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)


def _lambertw_log(log_z: FloatArray) -> FloatArray:
    """Principal Lambert W of ``exp(log_z)`` without overflow (Newton on ``w + log w``)."""
    small = log_z < 500.0
    w = np.empty_like(log_z)
    w[small] = lambertw(np.exp(log_z[small])).real
    big = ~small
    if big.any():
        lz = log_z[big]
        x = lz - np.log(lz)
        for _ in range(6):
            x -= (x + np.log(x) - lz) / (1.0 + 1.0 / x)
        w[big] = x
    return w


def _inner(
    log_theta: FloatArray, beta: FloatArray, a: FloatArray, delta: FloatArray, m: float
) -> FloatArray:
    """Maximise ``sum_t theta_t e^{-beta_t c_t}(a_t + delta_t c_t)`` over ``sum c <= m``:
    bisection on the multiplier of the resource constraint."""
    c = _best_c(log_theta, beta, a, delta, 0.0)
    if c.sum() <= m + 1e-12:
        return c
    theta = np.exp(log_theta)
    lo, hi = 0.0, float(np.max(theta * (delta + beta * (np.abs(a) + delta)))) + 1.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if _best_c(log_theta, beta, a, delta, mid).sum() > m:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * hi:
            break
    return _best_c(log_theta, beta, a, delta, hi)


class IntervalSolver:
    r"""Robust SSE when attacker payoffs are only known to lie in intervals.

    Formulation
    -----------
    With :math:`U^-_a(t,c)` and :math:`U^+_a(t,c)` the lowest and highest attacker utilities
    over the payoff box, any target with :math:`U^+_a(t,c) \ge R = \max_{t'} U^-_a(t',c)` may
    be attacked. The MILP maximises the worst defender utility over those targets:
    :math:`\max v` s.t. :math:`R \ge U^-_a(t,c)`, :math:`R \le U^-_a(t,c) + M(1-h_t)`,
    :math:`\sum h_t = 1`, :math:`U^+_a(t,c) - R \le (M+\epsilon) q_t - \epsilon` and
    :math:`v \le U_d(t,c) + M(1-q_t)`, :math:`c \in \mathcal{C}`.

    References
    ----------
    C. Kiekintveld, T. Islam, V. Kreinovich. "Security games with interval uncertainty."
    AAMAS 2013.

    Parameters
    ----------
    eps
        Relative margin under which a target counts as attackable (conservative).
    time_limit
        Seconds before :class:`SolverError`.

    Attributes
    ----------
    coverage_, type_coverage_ : ndarray
    worst_case_utility_ : float
        Worst defender utility over the payoff box (= ``defender_utility_``).
    possible_targets_ : ndarray
        Targets the attacker may choose under some payoffs in the box.
    status_ : str
    solution_ : GameSolution
    """

    name = "robust"

    def __init__(self, game: Game, *, eps: float = 1e-5, time_limit: float | None = 120.0):
        self.game = game
        self.eps = eps
        self.time_limit = time_limit

    def solve(self) -> IntervalSolver:
        g = self.game
        if g.is_bayesian:
            raise SolverError("robust takes one attacker type", status="unsupported")
        n, p = g.n_targets, g.payoffs
        ra_r = g.ra_range if g.ra_range is not None else np.c_[p.ra, p.ra]
        pa_r = g.pa_range if g.pa_range is not None else np.c_[p.pa, p.pa]
        mb = ModelBuilder()
        blk = add_coverage(mb, g)
        lo_a, hi_a = float(pa_r[:, 0].min()), float(ra_r[:, 1].max())
        r = int(mb.cols(1, lo_a, hi_a)[0])
        v = int(mb.cols(1, float(p.pd.min()), float(p.rd.max()))[0])
        h = mb.cols(n, 0.0, 1.0, integer=True)
        q = mb.cols(n, 0.0, 1.0, integer=True)
        loc = np.arange(n)
        d_lo = ra_r[:, 0] - pa_r[:, 0]
        d_hi = ra_r[:, 1] - pa_r[:, 1]
        big = hi_a - lo_a
        eps = self.eps * max(1.0, big)  # conservative: near-ties count as attackable
        rcol = np.full(n, r)
        # R >= Ra- - d- c
        mb.rows(n, np.r_[loc, loc], np.r_[rcol, blk.c], np.r_[np.ones(n), d_lo], ra_r[:, 0], INF)
        # R + d- c + M h <= Ra- + M
        mb.rows(n, np.r_[loc, loc, loc], np.r_[rcol, blk.c, h],
                np.r_[np.ones(n), d_lo, np.full(n, big)], -INF, ra_r[:, 0] + big)  # fmt: skip
        mb.rows(1, np.zeros(n, np.int64), h, np.ones(n), 1.0, 1.0)
        # Ra+ - d+ c - R - (M+eps) q <= -eps
        mb.rows(n, np.r_[loc, loc, loc], np.r_[blk.c, rcol, q],
                np.r_[-d_hi, -np.ones(n), np.full(n, -(big + eps))], -INF,
                -eps - ra_r[:, 1])  # fmt: skip
        md = float(p.rd.max()) - p.pd
        # v - delta c + Md q <= Pd + Md
        mb.rows(n, np.r_[loc, loc, loc], np.r_[np.full(n, v), blk.c, q],
                np.r_[np.ones(n), -(p.rd - p.pd), md], -INF, p.pd + md)  # fmt: skip
        res = solve_lp(mb.build({v: 1.0}), time_limit=self.time_limit, solver_name="robust")
        c = np.clip(res.x[blk.c], 0.0, 1.0)
        self.coverage_ = c
        self.worst_case_utility_ = float(res.x[v])
        self.possible_targets_ = np.flatnonzero(res.x[q] > 0.5)
        self.type_coverage_ = blk.type_coverage(g, res.x)
        self.status_ = "optimal"
        sol = GameSolution.from_coverage(g, c, self.name, type_coverage=self.type_coverage_)
        self.defender_utility_ = self.worst_case_utility_
        self.attacker_utility_ = sol.attacker_utility
        self.solution_ = replace(sol, defender_utility=self.worst_case_utility_)
        return self
