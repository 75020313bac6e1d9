"""ASPEN-style column generation for patrols with route rules the flow LP cannot express.

Rules that depend on a whole route — a maximum number of consecutive hours away from the base and
a minimum rest at the base before going out again — are not linear in arc flows. Column generation
works over routes instead: the restricted master is the path LP of
:class:`~corridorguard.patrol.solvers.PathEnumerationSolver` over the routes found so far; the
pricing problem is a best path on the time-expanded DAG with the master's duals as arc weights,
solved exactly by dynamic programming over (state, hours away, hours rested) labels, so only
routes that obey the rules are ever generated. Columns are added until no route has a positive
reduced profit, which proves the master optimal over *all* rule-abiding routes.

Reference: Jain, Kardes, Kiekintveld, Ordóñez & Tambe, "Security games with arbitrary schedules:
a branch and price approach", AAAI 2010 (ASPEN); the multiple-LPs SSE of Conitzer & Sandholm,
EC 2006, is run with pricing inside each candidate LP.
"""

from __future__ import annotations

import math
import time
import weakref
from dataclasses import dataclass
from typing import Self

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csc_matrix, csr_matrix

from corridorguard.errors import ValidationError
from corridorguard.patrol._lp import (
    SSELP,
    SSEResult,
    adopt_if_no_worse,
    floor_binds,
    reachable_payoffs,
    solve_stackelberg,
)
from corridorguard.patrol.graph import WAIT, PatrolGraph, PatrolLayer
from corridorguard.patrol.solvers import HandOff, PathEnumerationSolver, _path_matrix

__all__ = ["ColumnGenerationSolver", "RouteRules", "route_obeys", "usable_arcs"]

FArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class RouteRules:
    """Per-route working rules, in slots of the day grid."""

    max_away_slots: int | None = None
    """Longest run of consecutive slots away from the base."""
    min_rest_slots: int = 0
    """Slots a resource must wait at the base after coming back before it leaves again."""

    @classmethod
    def from_hours(
        cls, *, slot_minutes: float, max_consecutive_hours: float | None, min_rest_hours: float
    ) -> RouteRules:
        away = None
        if max_consecutive_hours is not None:
            away = math.floor(max_consecutive_hours * 60 / slot_minutes + 1e-9)
            if away < 1:
                raise ValidationError("must be at least one slot", field="max_consecutive_hours")
        rest = math.ceil(min_rest_hours * 60 / slot_minutes - 1e-9)
        return cls(away, max(0, rest))


_TABLES: weakref.WeakKeyDictionary[PatrolLayer, tuple[list[int], ...]] = weakref.WeakKeyDictionary()


def _table(layer: PatrolLayer) -> tuple[list[int], ...]:
    """Per arc, as Python lists in time order: arc, tail, head, duration, and flags (wait at the
    base, leaves the base, returns to the base). Cached per layer: the DP runs on it many times."""
    if layer in _TABLES:
        return _TABLES[layer]
    order = np.argsort(layer.state_t[layer.arc_tail], kind="stable")
    tail_node = layer.state_node[layer.arc_tail]
    head_node = layer.state_node[layer.arc_head]
    wait = layer.arc_edge == WAIT
    at_base = tail_node == layer.base
    table = (
        order.tolist(),
        layer.arc_tail[order].tolist(),
        layer.arc_head[order].tolist(),
        layer.arc_dur[order].tolist(),
        (wait & at_base)[order].tolist(),
        (~wait & at_base)[order].tolist(),
        (~wait & (head_node == layer.base))[order].tolist(),
    )
    _TABLES[layer] = table
    return table


def _step(
    a: int, r: int, dur: int, wait_base: int, leave: int, ret: int, rules: RouteRules
) -> tuple[int, int] | None:
    """Label after an arc from label (away ``a``, rested ``r``); ``None`` if forbidden."""
    if wait_base:
        return 0, min(rules.min_rest_slots, r + 1)
    if leave and r < rules.min_rest_slots:
        return None
    a2 = a + dur
    if rules.max_away_slots is not None and a2 > rules.max_away_slots:
        return None
    return (0, 0) if ret else (a2, r)


def route_obeys(layer: PatrolLayer, path: IntArray, rules: RouteRules) -> bool:
    """True when the route (arc indices in time order) keeps the rules."""
    order, _, _, dur, wb, lv, rt = _table(layer)
    pos = {arc: i for i, arc in enumerate(order)}
    a, r = 0, rules.min_rest_slots
    for arc in path:
        i = pos[int(arc)]
        nxt = _step(a, r, dur[i], wb[i], lv[i], rt[i], rules)
        if nxt is None:
            return False
        a, r = nxt
    return True


def usable_arcs(layer: PatrolLayer, rules: RouteRules) -> NDArray[np.bool_]:
    """Arcs on at least one rule-abiding route (forward and backward label reachability)."""
    order, tails, heads, dur, wb, lv, rt = _table(layer)
    fwd: list[set[tuple[int, int]]] = [set() for _ in range(layer.n_states)]
    fwd[layer.source].add((0, rules.min_rest_slots))
    steps: list[tuple[int, tuple[int, int], tuple[int, int]]] = []
    for i in range(len(order)):
        for key in fwd[tails[i]]:
            nxt = _step(key[0], key[1], dur[i], wb[i], lv[i], rt[i], rules)
            if nxt is not None:
                fwd[heads[i]].add(nxt)
                steps.append((i, key, nxt))
    good: set[tuple[int, tuple[int, int]]] = {(layer.sink, k) for k in fwd[layer.sink]}
    usable = np.zeros(layer.n_arcs, dtype=bool)
    for i, key, nxt in reversed(steps):  # heads are later in time than tails
        if (heads[i], nxt) in good:
            usable[order[i]] = True
            good.add((tails[i], key))
    return usable


def best_route(layer: PatrolLayer, weight: FArray, rules: RouteRules) -> tuple[float, IntArray]:
    """Highest-weight rule-abiding route from source to sink (label-setting DP on the DAG)."""
    order, tails, heads, dur, wb, lv, rt = _table(layer)
    wts = weight[order].tolist()
    labels: list[dict[tuple[int, int], tuple[float, int, tuple[int, int]]]] = [
        {} for _ in range(layer.n_states)
    ]
    labels[layer.source][(0, rules.min_rest_slots)] = (0.0, -1, (0, 0))
    for i in range(len(order)):
        src = labels[tails[i]]
        if not src:
            continue
        w = wts[i]
        dest = labels[heads[i]]
        for key, (val, _, _) in src.items():
            nxt = _step(key[0], key[1], dur[i], wb[i], lv[i], rt[i], rules)
            if nxt is None:
                continue
            old = dest.get(nxt)
            if old is None or old[0] < val + w:
                dest[nxt] = (val + w, i, key)
    sink = labels[layer.sink]
    if not sink:
        return -math.inf, np.zeros(0, dtype=np.int64)
    key = max(sink, key=lambda k: sink[k][0])
    best = sink[key][0]
    path: list[int] = []
    state = layer.sink
    while True:
        _, i, prev = labels[state][key]
        if i < 0:
            break
        path.append(order[i])
        state, key = tails[i], prev
    return best, np.asarray(path[::-1], dtype=np.int64)


class ColumnGenerationSolver(PathEnumerationSolver):
    """Patrol game with route rules by column generation (see the module docstring).

    Master: ``q_r >= 0`` per generated route ``r`` of layer ``l``, ``Σ_r q_r = n_l``, coverage
    ``s_j = Σ_l p_l Σ_r cov_rj q_r``, hand-off rows, and the maximin / SSE rows of
    :mod:`corridorguard.patrol._lp`. Pricing for layer ``l`` with row duals ``π``: maximise
    ``π_l + Σ_{arcs a of r} w_a`` over rule-abiding routes ``r``, with
    ``w_a = Σ_{j covered by a} π_j Δ_j p_l + Σ_h π_h presence_ah (+ (Rd_t - Pd_t) p_l cov_at`` for
    the SSE candidate ``t``); a route with value above ``tol`` enters the master.

    Parameters
    ----------
    graph
        Time-expanded graph.
    rules
        Route rules (max consecutive slots away, min rest).
    method, handoffs, max_candidates
        As for :class:`~corridorguard.patrol.solvers.FlowPatrolSolver`.
    """

    def __init__(
        self,
        graph: PatrolGraph,
        *,
        rules: RouteRules | None = None,
        method: str = "sse",
        handoffs: tuple[HandOff, ...] = (),
        max_candidates: int | None = None,
        max_rounds: int = 500,
        tol: float = 1e-9,
        spread: bool = True,
    ) -> None:
        super().__init__(graph, method=method, handoffs=handoffs, max_candidates=max_candidates)
        self.rules = rules or RouteRules()
        self.max_rounds = max_rounds
        self.tol = tol
        self.spread = spread

    def _initial(self) -> list[list[IntArray]]:
        t = self.graph.targets
        out = []
        for ly in self.graph.layers:
            w = np.asarray(ly.cover @ (t.attacker_reward * ly.effectiveness)).ravel()
            if self.handoffs:
                rows = self._handoff_matrix(ly).shape[1]
                w = w + self._handoff_weights(ly, np.full(rows, 1e3))
            _, stay = best_route(ly, np.zeros(ly.n_arcs), self.rules)
            _, greedy = best_route(ly, w, self.rules)
            out.append([stay] + ([greedy] if not np.array_equal(stay, greedy) else []))
        return out

    def coverable(self) -> NDArray[np.bool_]:
        """Targets some rule-abiding route covers."""
        cov = np.zeros(self.graph.targets.n, dtype=bool)
        for ly in self.graph.layers:
            ok = usable_arcs(ly, self.rules)
            cov[np.unique(ly.cover[np.flatnonzero(ok)].indices)] = True
        return cov

    def _run(
        self, paths: list[list[IntArray]], payoffs, coverable
    ) -> tuple[SSELP, SSEResult, list]:
        """Column generation from the routes in ``paths`` (extended in place)."""
        g = self.graph
        lp = self._build(paths, coverable, payoffs)
        columns = [(i, p) for i, ps in enumerate(paths) for p in ps]
        n_layers = len(g.layers)
        covers = [csr_matrix(ly.cover * ly.effectiveness) for ly in g.layers]

        def price(model: SSELP, cand: int | None) -> bool:
            if self.rounds_ >= self.max_rounds:
                return False
            self.rounds_ += 1
            pi = model.duals()
            target_dual = np.zeros(g.targets.n)
            act = model.active
            target_dual[act] = pi[model.row_of[act]] * model.delta[act]
            if cand is not None:
                target_dual[cand] += model.rd[cand] - model.pd[cand]
            hand = pi[n_layers : model.m_b]
            added = False
            for l_i, ly in enumerate(g.layers):
                w = np.asarray(covers[l_i] @ target_dual).ravel()
                if hand.size:
                    w = w + self._handoff_weights(ly, hand)
                if pi[l_i] <= self.tol and not np.any(w > 0):
                    continue  # weights are >= 0: no route can have a positive reduced profit
                val, route = best_route(ly, w, self.rules)
                if val + pi[l_i] > self.tol and route.size:
                    paths[l_i].append(route)
                    columns.append((l_i, route))
                    self._append(model, l_i, route)
                    added = True
            return added

        res = solve_stackelberg(
            lp,
            method=self.method,
            max_candidates=self.max_candidates,
            price=price,
            spread=self.spread,
        )
        return lp, res, columns

    def solve(self) -> Self:
        started = time.perf_counter()
        self.rounds_ = 0
        paths = self._initial()
        cov = self.coverable()
        lp, res, columns = self._run(paths, None, cov)
        self.protects_reachable_ = False
        if floor_binds(lp, res):
            lp2, res2, columns2 = self._run(paths, reachable_payoffs(lp), cov)
            better = adopt_if_no_worse(lp, res, lp2, res2)
            if better is not None:
                res, columns, self.protects_reachable_ = better, columns2, True
        self.converged_ = self.rounds_ < self.max_rounds
        self.n_columns_ = sum(len(p) for p in paths)
        self._finish(columns, res, started)
        self.exact_ = self.exact_ and self.converged_
        return self

    def _handoff_matrix(self, layer: PatrolLayer) -> csr_matrix:
        """Arcs × hand-off rows: the layer's presence at each row's (node, slot) for its force."""
        T = self.graph.targets.n_slots
        idx = self.graph.scenario.node_index
        cols = []
        for h in self.handoffs:
            for f in h.forces:
                if f == layer.force_id:
                    cols.append(csr_matrix(layer.presence[:, [idx[h.node] * T + h.slot]]))
                else:
                    cols.append(csr_matrix((layer.n_arcs, 1)))
        if not cols:
            return csr_matrix((layer.n_arcs, 0))
        from scipy.sparse import hstack

        return csr_matrix(hstack(cols))

    def _handoff_weights(self, layer: PatrolLayer, hand: FArray) -> FArray:
        return np.asarray(self._handoff_matrix(layer) @ hand).ravel()

    def _append(self, model: SSELP, l_i: int, route: IntArray) -> None:
        ly = self.graph.layers[l_i]
        m = _path_matrix(ly, [route])
        b = np.zeros(model.m_b)
        b[l_i] = 1.0
        n_layers = len(self.graph.layers)
        if model.m_b > n_layers:
            b[n_layers:] = (self._handoff_matrix(ly).T @ m).toarray()[:, 0]
        cov = csc_matrix((ly.cover.T * ly.effectiveness) @ m)
        model.add_columns(csc_matrix(b[:, None]), cov)
