"""QR/SUQR with side constraints: an outer-approximation LP in ``x = e^{-beta c}`` space.

One Dinkelbach step asks for ``max sum_t theta_t e^{-beta_t c_t} (a_t + delta_t c_t)`` over an
implementable coverage polytope (typed resources, agency caps, burden cap). With
``x_t = e^{-beta_t c_t}`` each term ``g_t(x) = theta x (a - (delta/beta) ln x)`` is concave and the
link ``ln x_t >= -beta_t c_t`` is convex (relaxing ``=`` to ``>=`` loses nothing because
coverage can always be lowered), so tangent cuts of both give an LP relaxation; Kelley's
cutting planes at the LP optimum close the gap. This replaces PASAQ's piecewise-linear MILP
(Yang, Ordóñez & Tambe 2012) by LPs, because the transformed problem is convex.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from corridorguard.errors import SolverError
from corridorguard.games._build import CoverageBlock, ModelBuilder, add_coverage
from corridorguard.games._highs import INF, LinearProgram, solve_lp
from corridorguard.games.model import Game

__all__ = ["qr_inner_lp"]

FloatArray = NDArray[np.float64]


def _terms(
    theta: FloatArray, beta: FloatArray, a: FloatArray, delta: FloatArray, c: FloatArray
) -> FloatArray:
    return theta * np.exp(-beta * c) * (a + delta * c)


def _cut_lp(
    game: Game,
    cap: float | None,
    pts: FloatArray,
    theta: FloatArray,
    beta: FloatArray,
    a: FloatArray,
    delta: FloatArray,
) -> tuple[LinearProgram, CoverageBlock, NDArray[np.int64]]:
    """The LP relaxation with tangent cuts at the points ``pts`` (``(k, n)`` values of x)."""
    n = game.n_targets
    mb = ModelBuilder()
    blk = add_coverage(mb, game, burden_cap=cap)
    x_col = mb.cols(n, np.exp(-beta), 1.0)
    h_col = mb.cols(n, -INF, INF)
    k = pts.shape[0]
    loc = np.arange(k * n)
    # x / x0 + beta c >= 1 - ln x0
    mb.rows(
        k * n,
        np.r_[loc, loc],
        np.r_[np.tile(x_col, k), np.tile(blk.c, k)],
        np.r_[(1.0 / pts).ravel(), np.tile(beta, k)],
        (1.0 - np.log(pts)).ravel(),
        INF,
    )
    gval = theta * pts * (a - delta / beta * np.log(pts))
    gder = theta * (a - delta / beta * (np.log(pts) + 1.0))
    # h - g'(x0) x <= g(x0) - g'(x0) x0
    mb.rows(
        k * n,
        np.r_[loc, loc],
        np.r_[np.tile(h_col, k), np.tile(x_col, k)],
        np.r_[np.ones(k * n), -gder.ravel()],
        -INF,
        (gval - gder * pts).ravel(),
    )
    return mb.build({int(j): 1.0 for j in h_col}), blk, x_col


def qr_inner_lp(
    game: Game,
    theta: FloatArray,
    beta: FloatArray,
    a: FloatArray,
    delta: FloatArray,
    *,
    grid: int = 12,
    tol: float = 1e-9,
    max_rounds: int = 60,
) -> tuple[FloatArray, FloatArray | None, float]:
    """Solve one Dinkelbach sub-problem; returns ``(c, type_coverage, value)``."""
    n = game.n_targets
    cap = game.burden.cap if game.burden is not None else None
    xs: list[FloatArray] = [np.exp(-beta * k / (grid - 1)) for k in range(grid)]
    best_c = np.zeros(n)
    best_tc: FloatArray | None = None
    best_val = float(np.sum(_terms(theta, beta, a, delta, best_c)))
    scale = max(1.0, float(np.abs(theta * (np.abs(a) + delta)).sum()))
    for _ in range(max_rounds):
        lp, blk, x_col = _cut_lp(game, cap, np.array(xs), theta, beta, a, delta)
        res = solve_lp(lp, solver_name="QR (cutting planes)")
        x = np.clip(res.x[x_col], np.exp(-beta), 1.0)
        c_lp = np.clip(res.x[blk.c], 0.0, 1.0)
        c = np.minimum(c_lp, -np.log(x) / beta)
        val = float(np.sum(_terms(theta, beta, a, delta, c)))
        if val > best_val:
            best_c, best_val = c, val
            tc = blk.type_coverage(game, res.x)
            if tc is not None:
                ratio = np.divide(c, c_lp, out=np.zeros(n), where=c_lp > 0)
                tc = tc * ratio
            best_tc = tc
        if res.objective - best_val <= tol * scale:
            return best_c, best_tc, best_val
        xs.append(x)
    raise SolverError("QR cutting planes did not converge", status="iteration_limit")
