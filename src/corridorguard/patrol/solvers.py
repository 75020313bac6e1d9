"""Patrol solvers on the time-expanded graph: the compact flow LP and the path-enumeration LP.

Both solve the same Stackelberg game (:mod:`corridorguard.patrol._lp`) over different strategy
variables; by flow decomposition on a DAG they have the same optimum, which the tests check.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Self

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import block_diag, csr_matrix, hstack, identity, vstack

from corridorguard.errors import SolverError, ValidationError
from corridorguard.patrol._lp import (
    SSELP,
    SSEResult,
    adopt_if_no_worse,
    floor_binds,
    reachable_payoffs,
    solve_stackelberg,
)
from corridorguard.patrol.graph import PatrolGraph, PatrolLayer

__all__ = [
    "FlowPatrolSolver",
    "HandOff",
    "LayerStrategy",
    "PathEnumerationSolver",
    "decompose_flow",
    "enumerate_paths",
]

FArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class HandOff:
    """An agency hand-off point: each listed force keeps an expected ``min_presence`` resources
    waiting at ``node`` during day slot ``slot`` (e.g. where a convoy escort changes force)."""

    node: str
    slot: int
    forces: tuple[str, ...]
    min_presence: float = 1.0


@dataclass(frozen=True)
class LayerStrategy:
    """A layer's mixed strategy as routes: ``weights`` sum to the layer's resource count."""

    paths: tuple[IntArray, ...]
    """Arc indices (in the layer) of each route, in time order."""
    weights: FArray


# --- shared model assembly ---------------------------------------------------------------------


def _handoff_rows(
    graph: PatrolGraph, cols: list[csr_matrix], handoffs: tuple[HandOff, ...]
) -> tuple[csr_matrix, FArray]:
    """Rows ``presence of force f at (node, slot) >= min_presence`` over the given column maps."""
    T = graph.targets.n_slots
    idx = graph.scenario.node_index
    rows: list[csr_matrix] = []
    lo: list[float] = []
    n_cols = sum(c.shape[1] for c in cols)
    for h_i, h in enumerate(handoffs):
        if h.node not in idx or not 0 <= h.slot < T:
            raise ValidationError("unknown node or slot out of the day", field=f"handoffs[{h_i}]")
        key = idx[h.node] * T + h.slot
        for f in h.forces:
            parts = []
            for ly, m in zip(graph.layers, cols, strict=True):
                if ly.force_id == f:
                    parts.append(csr_matrix(ly.presence[:, [key]].T @ m))
                else:
                    parts.append(csr_matrix((1, m.shape[1])))
            rows.append(hstack(parts, format="csr") if parts else csr_matrix((1, n_cols)))
            lo.append(h.min_presence)
    if not rows:
        return csr_matrix((0, n_cols)), np.zeros(0)
    return vstack(rows, format="csr"), np.asarray(lo)


def _coverage(graph: PatrolGraph, cols: list[csr_matrix]) -> csr_matrix:
    blocks = [
        csr_matrix((ly.cover.T * ly.effectiveness) @ m)
        for ly, m in zip(graph.layers, cols, strict=True)
    ]
    if not blocks:
        return csr_matrix((graph.targets.n, 0))
    return hstack(blocks, format="csr")


def _payoffs(graph: PatrolGraph) -> tuple[FArray, FArray, FArray, FArray]:
    t = graph.targets
    return t.attacker_reward, t.attacker_penalty, t.defender_reward, t.defender_penalty


class _Result:
    """Result attributes shared by the patrol solvers."""

    graph: PatrolGraph
    coverage_: FArray
    attacker_utility_: float
    defender_utility_: float
    attacked_target_: int
    maximin_value_: float
    exact_: bool
    upper_bound_: float
    n_lps_: int
    solve_seconds_: float
    strategies_: list[LayerStrategy]

    def _store(self, res: SSEResult, started: float) -> None:
        ev = res.evaluation
        self.coverage_ = ev.coverage
        self.attacker_utility_ = ev.attacker_utility
        self.defender_utility_ = ev.defender_utility
        self.attacked_target_ = ev.attacked_target
        self.maximin_value_ = res.maximin_value
        self.exact_ = res.exact
        self.upper_bound_ = res.upper_bound
        self.n_lps_ = res.n_lps
        self.solve_seconds_ = time.perf_counter() - started


# --- compact flow LP ---------------------------------------------------------------------------


class FlowPatrolSolver(_Result):
    """Compact flow LP for patrols on the time-expanded graph (PROTECT / TRUSTS style).

    Variables: the flow ``x_a >= 0`` of resources on every arc ``a`` of every layer. Per layer
    ``l`` (a unit group of ``n_l`` resources in one shift) flow conservation holds at every
    state, with ``n_l`` leaving the base at the shift start and returning at its end. Coverage of
    target ``j`` is linear in flow: ``s_j = Σ_l p_l Σ_{a covers j} x_a`` (``p_l`` = detection ×
    interdiction probability), capped at one. Hand-off rows keep an expected presence of each
    listed force at a node and slot. The attacker observes the mixed strategy and attacks a target
    after it; the LP (maximin, then multiple LPs for the strong Stackelberg equilibrium) is in
    :mod:`corridorguard.patrol._lp`, built as sparse matrices and solved with HiGHS.

    References: Shieh et al., "PROTECT: a deployed game theoretic system to protect the ports of the
    United States", AAMAS 2012; Yin et al., "TRUSTS: scheduling randomized patrols for fare
    inspection in transit systems", IAAI 2012; Conitzer & Sandholm, EC 2006 (multiple LPs).

    Parameters
    ----------
    graph
        The time-expanded graph (:func:`~corridorguard.patrol.graph.build_patrol_graph`).
    method
        ``"sse"`` (strong Stackelberg equilibrium, default) or ``"maximin"`` (one LP; equal to the
        SSE in zero-sum games).
    spread
        Re-solve for an interior point of the optimal face (interior point, no crossover) so the
        routes are as random as the optimum allows; utility within 1e-7 relative.
    handoffs
        Agency hand-off presence requirements.
    max_candidates, candidate_seconds
        Caps on the number of SSE candidate LPs and on their total time (``exact_`` tells whether
        a cap bit; ``upper_bound_`` then bounds what the defender could still gain).

    Notes
    -----
    When a target that no patrol can reach fixes the attacker's value (the attacker goes there
    whatever the patrols do), every optimum is equally good and the LP would leave the other
    targets to chance; the maximin game is then re-solved without the unreachable targets and that
    plan is kept if it is no worse on the full game (``protects_reachable_``).
    """

    def __init__(
        self,
        graph: PatrolGraph,
        *,
        method: str = "sse",
        handoffs: tuple[HandOff, ...] = (),
        max_candidates: int | None = None,
        candidate_seconds: float | None = None,
        spread: bool = True,
        time_limit: float = 600.0,
    ) -> None:
        self.graph = graph
        self.method = method
        self.handoffs = handoffs
        self.max_candidates = max_candidates
        self.candidate_seconds = candidate_seconds
        self.spread = spread
        self.time_limit = time_limit

    def _stackelberg(self, lp: SSELP, method: str | None = None) -> SSEResult:
        return solve_stackelberg(
            lp,
            method=method or self.method,
            max_candidates=self.max_candidates,
            spread=self.spread,
            candidate_seconds=self.candidate_seconds,
        )

    def solve(self) -> Self:
        started = time.perf_counter()
        g = self.graph
        cols = [identity(ly.n_arcs, format="csr") for ly in g.layers]
        C = _coverage(g, cols)
        inc = block_diag([ly.incidence() for ly in g.layers], format="csr") if g.layers else None
        supply = np.concatenate([ly.supply() for ly in g.layers]) if g.layers else np.zeros(0)
        H, h_lo = _handoff_rows(g, cols, self.handoffs)
        B = vstack([inc, H], format="csr") if inc is not None else H
        b_lo = np.concatenate([supply, h_lo])
        b_hi = np.concatenate([supply, np.full(h_lo.size, np.inf)])
        lp = SSELP(C, B, b_lo, b_hi, _payoffs(g), time_limit=self.time_limit)
        res = self._stackelberg(lp)
        self.protects_reachable_ = False
        if floor_binds(lp, res):
            lp2 = SSELP(C, B, b_lo, b_hi, reachable_payoffs(lp), coverable=lp.coverable)
            # a tie-breaker among equally good plans: keep the attacker low everywhere else
            better = adopt_if_no_worse(lp, res, lp2, self._stackelberg(lp2, "maximin"))
            if better is not None:
                res, self.protects_reachable_ = better, True
        off = g.arc_offsets
        self.flows_ = [np.maximum(res.y[off[i] : off[i + 1]], 0.0) for i in range(len(g.layers))]
        self.strategies_ = [
            decompose_flow(ly, f) for ly, f in zip(g.layers, self.flows_, strict=True)
        ]
        self._store(res, started)
        return self


def decompose_flow(layer: PatrolLayer, flow: FArray, *, tol: float = 1e-9) -> LayerStrategy:
    """Split a layer's source-to-sink flow into at most ``n_arcs`` weighted routes.

    Repeatedly follows the largest remaining flow from the source to the sink and removes the
    bottleneck; on a DAG this ends with every unit of flow on a route. Weights are rescaled so they
    sum to the layer's resource count exactly (LP round-off).
    """
    f = np.where(flow > tol, flow, 0.0).astype(np.float64)
    order = np.argsort(layer.arc_tail, kind="stable")
    starts = np.searchsorted(layer.arc_tail[order], np.arange(layer.n_states + 1))
    paths: list[IntArray] = []
    weights: list[float] = []
    for _ in range(layer.n_arcs + 1):
        out = order[starts[layer.source] : starts[layer.source + 1]]
        if out.size == 0 or f[out].max() <= tol:
            break
        state, path = layer.source, []
        while state != layer.sink:
            out = order[starts[state] : starts[state + 1]]
            if out.size == 0:
                break
            a = int(out[np.argmax(f[out])])
            if f[a] <= tol:
                break
            path.append(a)
            state = int(layer.arc_head[a])
        if state != layer.sink or not path:
            f[path] = 0.0  # numerical residue that does not reach the sink
            continue
        arr = np.asarray(path, dtype=np.int64)
        w = float(f[arr].min())
        f[arr] -= w
        paths.append(arr)
        weights.append(w)
    if not paths:
        raise SolverError(f"layer {layer.key}: no route carries flow", status="decomposition")
    wt = np.asarray(weights)
    return LayerStrategy(tuple(paths), wt * (layer.count / wt.sum()))


# --- path enumeration (the oracle) -------------------------------------------------------------


def enumerate_paths(layer: PatrolLayer, *, max_paths: int = 200_000) -> list[IntArray]:
    """Every source-to-sink route of a layer (depth-first); at most ``max_paths`` of them."""
    order = np.argsort(layer.arc_tail, kind="stable")
    starts = np.searchsorted(layer.arc_tail[order], np.arange(layer.n_states + 1))
    out: list[IntArray] = []
    stack: list[tuple[int, list[int]]] = [(layer.source, [])]
    while stack:
        state, path = stack.pop()
        if state == layer.sink:
            out.append(np.asarray(path, dtype=np.int64))
            if len(out) > max_paths:
                raise SolverError(
                    f"layer {layer.key}: more than {max_paths} routes", status="too_large"
                )
            continue
        for a in order[starts[state] : starts[state + 1]]:
            stack.append((int(layer.arc_head[a]), [*path, int(a)]))
    return out


def _path_matrix(layer: PatrolLayer, paths: list[IntArray]) -> csr_matrix:
    """Arcs × paths incidence."""
    if not paths:
        return csr_matrix((layer.n_arcs, 0))
    rows = np.concatenate(paths)
    cols = np.repeat(np.arange(len(paths)), [p.size for p in paths])
    return csr_matrix((np.ones(rows.size), (rows, cols)), shape=(layer.n_arcs, len(paths)))


class PathEnumerationSolver(_Result):
    """The same game over explicit routes: one weight per source-to-sink route of each layer.

    Variables ``q_r >= 0`` per route ``r`` of layer ``l`` with ``Σ_r q_r = n_l``; coverage
    ``s_j = Σ_l p_l Σ_{r covers j} q_r``. Exponential in the number of slots; kept as the oracle the
    compact flow LP is checked against, and as the master problem of column generation.
    """

    def __init__(
        self,
        graph: PatrolGraph,
        *,
        method: str = "sse",
        handoffs: tuple[HandOff, ...] = (),
        max_paths: int = 200_000,
        max_candidates: int | None = None,
    ) -> None:
        self.graph = graph
        self.method = method
        self.handoffs = handoffs
        self.max_paths = max_paths
        self.max_candidates = max_candidates

    def _paths(self) -> list[list[IntArray]]:
        return [enumerate_paths(ly, max_paths=self.max_paths) for ly in self.graph.layers]

    def _build(
        self,
        paths: list[list[IntArray]],
        coverable: NDArray[np.bool_] | None,
        payoffs: tuple[FArray, FArray, FArray, FArray] | None = None,
    ) -> SSELP:
        g = self.graph
        cols = [_path_matrix(ly, p) for ly, p in zip(g.layers, paths, strict=True)]
        C = _coverage(g, cols)
        conv = block_diag([csr_matrix(np.ones((1, m.shape[1]))) for m in cols], format="csr")
        counts = np.array([ly.count for ly in g.layers], dtype=np.float64)
        H, h_lo = _handoff_rows(g, cols, self.handoffs)
        B = vstack([conv, H], format="csr")
        b_lo = np.concatenate([counts, h_lo])
        b_hi = np.concatenate([counts, np.full(h_lo.size, np.inf)])
        return SSELP(C, B, b_lo, b_hi, payoffs or _payoffs(g), coverable=coverable)

    def _finish(self, columns: list[tuple[int, IntArray]], res: SSEResult, started: float) -> None:
        """Route strategies from the LP's column values; ``columns[k]`` = (layer, route) of y_k."""
        per_layer: list[list[tuple[IntArray, float]]] = [[] for _ in self.graph.layers]
        for (l_i, path), w in zip(columns, res.y, strict=True):
            per_layer[l_i].append((path, float(w)))
        strategies = []
        for ly, cols in zip(self.graph.layers, per_layer, strict=True):
            w = np.array([c[1] for c in cols])
            keep = np.flatnonzero(w > 1e-9)
            if keep.size == 0:
                keep = np.array([int(np.argmax(w))])
            ww = np.maximum(w[keep], 1e-12)
            strategies.append(
                LayerStrategy(tuple(cols[i][0] for i in keep), ww * (ly.count / ww.sum()))
            )
        self.strategies_ = strategies
        self._store(res, started)

    def solve(self) -> Self:
        started = time.perf_counter()
        paths = self._paths()
        lp = self._build(paths, None)
        res = solve_stackelberg(lp, method=self.method, max_candidates=self.max_candidates)
        self._finish([(i, p) for i, ps in enumerate(paths) for p in ps], res, started)
        return self
