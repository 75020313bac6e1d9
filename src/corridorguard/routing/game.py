"""Randomised route choice as a zero-sum game between a convoy and an ambusher.

The convoy picks route ``r`` with probability ``q_r``; the ambusher picks one road segment
``e`` to ambush with probability ``p_e``. The convoy's loss is

    L[r, e] = v_e * [e on r] + c_r

(``v_e``: the harm of an ambush on ``e``, e.g. risk × people; ``c_r``: an optional cost of using
the route, e.g. extra travel time priced in the same unit). The convoy solves the minimax LP
(von Neumann 1928; Dantzig 1951)::

    min z  s.t.  sum_r q_r L[r, e] <= z  for all e,   sum_r q_r = 1,  q >= 0

and the ambusher the dual maximin LP. At equilibrium every route the convoy uses gives the same
expected loss against the ambusher's mix (the ambusher leaves it indifferent), which the
result reports per route. Both LPs run on HiGHS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csc_matrix, hstack, vstack

from corridorguard.errors import ValidationError
from corridorguard.placement._highs import solve_mip

__all__ = ["RouteGameResult", "solve_route_game"]


@dataclass(frozen=True)
class RouteGameResult:
    route_probs: np.ndarray
    """Convoy's mixed strategy over routes."""
    ambush_probs: np.ndarray
    """Ambusher's mixed strategy over segments (columns of the incidence)."""
    value: float
    """Expected loss at equilibrium."""
    route_loss: np.ndarray
    """Expected loss of each route against the ambusher's mix (== value on used routes)."""


def solve_route_game(
    incidence: np.ndarray,
    harm: np.ndarray,
    route_cost: np.ndarray | None = None,
    *,
    tie_cost: np.ndarray | None = None,
) -> RouteGameResult:
    """Solve the game for a ``(routes, segments)`` 0/1 ``incidence``, per-segment ``harm`` and
    optional per-route ``route_cost``.

    ``tie_cost`` (per route) breaks ties among minimax strategies: a second LP keeps the
    worst-case loss at the game value and minimises the expected ``tie_cost`` (e.g. travel
    time), so a degenerate game (all routes share the most harmful segment) does not pick an
    arbitrary mix."""
    inc = np.asarray(incidence, dtype=np.float64)
    if inc.ndim != 2 or inc.shape[0] < 1 or inc.shape[1] < 1:
        raise ValidationError("need at least one route and one segment", field="incidence")
    k, e = inc.shape
    v = np.asarray(harm, dtype=np.float64)
    if v.shape != (e,) or not np.isfinite(v).all() or (v < 0).any():
        raise ValidationError("harm must be finite, >= 0, one per segment", field="harm")
    c = np.zeros(k) if route_cost is None else np.asarray(route_cost, dtype=np.float64)
    loss = inc * v[None, :] + c[:, None]
    # convoy: vars (q_1..q_k, z); rows: loss^T q - z <= 0 (e rows), sum q = 1
    a1 = vstack(
        [
            hstack([csc_matrix(loss.T), csc_matrix(-np.ones((e, 1)))]),
            csc_matrix(np.concatenate([np.ones(k), [0.0]])[None, :]),
        ]
    )
    conv = solve_mip(
        cost=np.concatenate([np.zeros(k), [1.0]]),
        lower=np.concatenate([np.zeros(k), [-np.inf]]),
        upper=np.concatenate([np.ones(k), [np.inf]]),
        integer=np.zeros(k + 1, bool),
        a=csc_matrix(a1),
        row_lower=np.concatenate([np.full(e, -np.inf), [1.0]]),
        row_upper=np.concatenate([np.zeros(e), [1.0]]),
    )
    # ambusher: vars (p_1..p_e, u); rows: u - loss p <= 0 (k rows), sum p = 1
    a2 = vstack(
        [
            hstack([csc_matrix(-loss), csc_matrix(np.ones((k, 1)))]),
            csc_matrix(np.concatenate([np.ones(e), [0.0]])[None, :]),
        ]
    )
    amb = solve_mip(
        cost=np.concatenate([np.zeros(e), [1.0]]),
        lower=np.concatenate([np.zeros(e), [-np.inf]]),
        upper=np.concatenate([np.ones(e), [np.inf]]),
        integer=np.zeros(e + 1, bool),
        a=csc_matrix(a2),
        row_lower=np.concatenate([np.full(k, -np.inf), [1.0]]),
        row_upper=np.concatenate([np.zeros(k), [1.0]]),
        maximize=True,
    )
    x = conv.x
    if tie_cost is not None:
        tc = np.asarray(tie_cost, dtype=np.float64)
        if tc.shape != (k,):
            raise ValidationError("tie_cost needs one value per route", field="tie_cost")
        tol = 1e-9 * max(1.0, abs(conv.objective))
        # complementary slackness: an equilibrium route loses exactly the value against the
        # ambusher's optimal mix; barring the others keeps the tie-break from spending the
        # LP's feasibility tolerance on a cheap but exposed route
        amb_p = np.clip(amb.x[:e], 0.0, None)
        exposed = loss @ (amb_p / amb_p.sum()) > conv.objective + 1e-7 * max(
            1.0, abs(conv.objective)
        )
        exposed &= conv.x[:k] <= 1e-9  # never bar the plain minimax answer's own routes
        tie = solve_mip(
            cost=np.concatenate([tc, [0.0]]),
            lower=np.concatenate([np.zeros(k), [conv.objective + tol]]),
            upper=np.concatenate([np.where(exposed, 0.0, 1.0), [conv.objective + tol]]),
            integer=np.zeros(k + 1, bool),
            a=csc_matrix(a1),
            row_lower=np.concatenate([np.full(e, -np.inf), [1.0]]),
            row_upper=np.concatenate([np.zeros(e), [1.0]]),
        )
        x = tie.x
    q = np.where(x[:k] > 1e-9, x[:k], 0.0)  # drop solver dust
    q /= q.sum()
    p = np.where(amb.x[:e] > 1e-9, amb.x[:e], 0.0)
    p /= p.sum()
    return RouteGameResult(q, p, float(conv.objective), loss @ p)
