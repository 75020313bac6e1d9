"""Non-additive (independent-crew) coverage by ASPEN-style column generation over joint schedules.

The flow LP and route column generation treat coverage as *additive*: the expected number of
effective resources on a target, capped at one. When crews act independently the probability that
an attack on target ``j`` is stopped by a day's *joint* schedule ``J`` (one route per resource) is

    c_j(J) = 1 - Π_{resources r of J} (1 - p_r [route of r covers j])

(``p_r`` = detection × interdiction of the resource's unit), which is below the additive value as
soon as two resources overlap. ``c_j`` is not linear in routes, but a mixed strategy over joint
schedules covers ``j`` with ``Σ_J q_J c_j(J)``, linear in ``q``. The master LP (maximin / SSE of
:mod:`corridorguard.patrol._lp`) therefore has one column per joint schedule of a *block* — the
layers linked by a target two of them can cover (connected components; layers that share no
target can be mixed independently) — with ``Σ_J q_J = 1`` per block.

**Pricing** (Jain et al. 2010, ASPEN): with target weights ``w_j = π_j Δ_j`` (+ ``Rd_a - Pd_a`` for
an SSE candidate ``a``) and block dual ``π_b``, find a joint schedule with
``π_b + Σ_j w_j c_j(J) > 0``. For one resource with the others fixed the objective is linear in its
route, with arc weights ``w_j p_r Π_{r' ≠ r}(1 - p_{r'} x_{r'j})``: a best path on the
time-expanded DAG (the label-setting DP of :mod:`corridorguard.patrol.colgen`, so route rules are
kept). The heuristic builds a schedule resource by resource (sequential best path) and improves it
by coordinate ascent over resources until no resource's best path improves it; it also ascends
from the heaviest current column. It is **a heuristic**: coordinate ascent stops at a local
optimum. Pricing is *proven* when

* the additive relaxation ``Σ_r best path(max(w, 0) p_r)`` (an upper bound, since
  ``c_j(J) <= Σ_r p_r x_rj``) shows no column can price in, or
* the block's joint schedules number at most ``exact_limit``: they are enumerated (multisets of
  routes per layer, since a layer's resources are identical) and the best is taken exactly.

When the final pricing round of an LP is not proven, the solver reports the Lagrangian dual bound
``z_RMP - Σ_b max(0, ub_b + π_b)`` (``attacker_lower_bound_``), a valid defender upper bound
(``upper_bound_``) and ``exact_ = False``. Column generation also stops after ``max_rounds``
pricing rounds or ``time_budget`` seconds (then unproven too).

References: Jain, Kardes, Kiekintveld, Ordóñez & Tambe, "Security games with arbitrary schedules:
a branch and price approach", AAAI 2010; Conitzer & Sandholm, EC 2006 (multiple LPs for the SSE).
"""

from __future__ import annotations

import itertools
import math
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Self

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csc_matrix, csr_matrix

from corridorguard.errors import SolverError, ValidationError
from corridorguard.patrol._lp import (
    SSELP,
    SSEResult,
    adopt_if_no_worse,
    evaluate_coverage,
    floor_binds,
    reachable_payoffs,
    solve_stackelberg,
)
from corridorguard.patrol.colgen import RouteRules, best_route, route_obeys
from corridorguard.patrol.graph import PatrolGraph, PatrolLayer
from corridorguard.patrol.schedule import Route, _legs, comb_sample
from corridorguard.patrol.solvers import LayerStrategy, _payoffs, _Result, enumerate_paths

__all__ = [
    "JointScheduleSolver",
    "JointStrategy",
    "coverage_blocks",
    "joint_coverage",
    "sample_joint_day",
]

FArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Schedule = tuple[IntArray, ...]
"""One route (arc indices) per resource of a block, resources ordered layer by layer."""


@dataclass(frozen=True)
class JointStrategy:
    """A block's mixed strategy over joint schedules (``weights`` sum to one)."""

    layers: tuple[int, ...]
    """Graph layer indices of the block."""
    schedules: tuple[Schedule, ...]
    weights: FArray


def coverage_blocks(graph: PatrolGraph) -> list[list[int]]:
    """Layers grouped into connected components of "can cover a common target"."""
    n = len(graph.layers)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner = np.full(graph.targets.n, -1, dtype=np.int64)
    for i, ly in enumerate(graph.layers):
        for j in np.unique(ly.cover.indices):
            if owner[j] < 0:
                owner[j] = i
            else:
                parent[find(i)] = find(int(owner[j]))
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


_HITS: weakref.WeakKeyDictionary[PatrolLayer, dict[bytes, IntArray]] = weakref.WeakKeyDictionary()


def _hits(graph: PatrolGraph, layer: int, route: IntArray) -> IntArray:
    """Targets a route covers (memoised per layer: pricing asks for the same routes again)."""
    ly = graph.layers[layer]
    cache = _HITS.setdefault(ly, {})
    key = route.tobytes()
    out = cache.get(key)
    if out is None:
        if len(cache) > 50_000:
            cache.clear()
        out = np.unique(ly.cover[route].indices).astype(np.int64)
        cache[key] = out
    return out


def joint_coverage(
    graph: PatrolGraph, layers: Sequence[int], schedule: Schedule
) -> tuple[IntArray, FArray]:
    """Non-additive coverage ``1 - Π(1 - p_r)`` of one joint schedule: (targets, values)."""
    owners = [li for li in layers for _ in range(graph.layers[li].count)]
    miss: dict[int, float] = {}
    for li, route in zip(owners, schedule, strict=True):
        q = 1.0 - min(1.0, graph.layers[li].effectiveness)
        for j in _hits(graph, li, route).tolist():
            miss[j] = miss.get(j, 1.0) * q
    idx = np.fromiter(miss.keys(), dtype=np.int64, count=len(miss))
    val = 1.0 - np.fromiter(miss.values(), dtype=np.float64, count=len(miss))
    order = np.argsort(idx)
    return idx[order], val[order]


class _Block:
    """One block's resources, with the pricing heuristic and the exact enumeration."""

    def __init__(self, graph: PatrolGraph, layers: list[int], rules: RouteRules) -> None:
        self.graph, self.layers, self.rules = graph, layers, rules
        self.owners = [li for li in layers for _ in range(graph.layers[li].count)]
        self.p = np.array([min(1.0, graph.layers[li].effectiveness) for li in self.owners])
        self.covers = {li: csr_matrix(graph.layers[li].cover, dtype=np.float64) for li in layers}
        self._enum: tuple[list[Schedule], csr_matrix] | None = None
        self.targets = np.unique(np.concatenate([self.covers[li].indices for li in layers]))

    def size(self, cap: int) -> int:
        """Number of joint schedules (multisets of routes per layer), or ``cap + 1`` if more."""
        total = 1
        for li in self.layers:
            ly = self.graph.layers[li]
            try:
                n_routes = len(enumerate_paths(ly, max_paths=cap))
            except SolverError:  # more routes than the cap
                return cap + 1
            total *= math.comb(n_routes + ly.count - 1, ly.count)
            if total > cap:
                return cap + 1
        return total

    def value(self, schedule: Schedule, w: FArray) -> float:
        idx, val = joint_coverage(self.graph, self.layers, schedule)
        return float(val @ w[idx])

    def _best_for(self, r: int, others: list[IntArray], w: FArray) -> IntArray:
        miss = np.ones(w.size)
        for k, route in enumerate(others):
            if k != r:
                miss[_hits(self.graph, self.owners[k], route)] *= 1.0 - self.p[k]
        li = self.owners[r]
        arc_w = np.asarray(self.covers[li] @ (w * self.p[r] * miss)).ravel()
        _, route = best_route(self.graph.layers[li], arc_w, self.rules)
        return route

    def ascend(
        self, w: FArray, start: Schedule | None, *, passes: int = 20
    ) -> tuple[float, Schedule]:
        """Sequential best path (when ``start`` is None), then coordinate ascent over resources."""
        n = len(self.owners)
        if start is None:
            routes: list[IntArray] = []
            for r in range(n):
                # resources not placed yet count as covering nothing
                routes.append(self._best_for(r, [*routes, *([np.zeros(0, np.int64)] * (n - r))], w))
        else:
            routes = list(start)
        best = self.value(tuple(routes), w)
        for _ in range(passes):
            improved = False
            for r in range(n):
                cand = self._best_for(r, routes, w)
                trial = [*routes[:r], cand, *routes[r + 1 :]]
                v = self.value(tuple(trial), w)
                if v > best + 1e-12:
                    routes, best, improved = trial, v, True
            if not improved:
                break
        return best, tuple(routes)

    def additive_bound(self, w: FArray) -> float:
        """``Σ_r best path(max(w, 0) p_r)`` >= the best joint schedule's value."""
        wp = np.maximum(w, 0.0)
        total = 0.0
        for li in self.layers:
            ly = self.graph.layers[li]
            arc_w = np.asarray(self.covers[li] @ (wp * min(1.0, ly.effectiveness))).ravel()
            total += ly.count * max(0.0, best_route(ly, arc_w, self.rules)[0])
        return total

    def enumerate(self) -> tuple[list[Schedule], csr_matrix]:
        """Every joint schedule with its coverage row (cached)."""
        if self._enum is None:
            per_layer = []
            for li in self.layers:
                ly = self.graph.layers[li]
                routes = [p for p in enumerate_paths(ly) if route_obeys(ly, p, self.rules)]
                per_layer.append(list(itertools.combinations_with_replacement(routes, ly.count)))
            scheds = [
                tuple(r for part in combo for r in part) for combo in itertools.product(*per_layer)
            ]
            rows, cols, vals = [], [], []
            for k, s in enumerate(scheds):
                idx, val = joint_coverage(self.graph, self.layers, s)
                rows.append(np.full(idx.size, k))
                cols.append(idx)
                vals.append(val)
            mat = csr_matrix(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                shape=(len(scheds), self.graph.targets.n),
            )
            self._enum = (scheds, mat)
        return self._enum


class JointScheduleSolver(_Result):
    """Patrol game with non-additive coverage by column generation over joint schedules.

    See the module docstring for the model, the pricing and when it is exact.

    Parameters
    ----------
    graph
        The time-expanded graph.
    method
        ``"sse"`` or ``"maximin"``.
    rules
        Route rules (max consecutive slots away, min rest), kept by the pricing DP.
    max_candidates, candidate_seconds
        Caps of the SSE candidate search (as for the flow LP).
    exact_limit
        Blocks with at most this many joint schedules get exact (enumerated) pricing when the
        heuristic finds no column and the additive bound does not prove optimality.
    max_rounds, time_budget
        Stop pricing after this many rounds or seconds (the result is then not proven).
    spread
        Re-solve for an interior optimal point over the generated columns (more random plans).

    Attributes
    ----------
    joint_ : list[JointStrategy]
        Per block, the mixed strategy over joint schedules (what :func:`sample_joint_day` draws).
    strategies_ : list[LayerStrategy]
        Per layer, the marginal route frequencies (weights sum to the layer's count).
    coverage_ : ndarray
        Planned non-additive coverage per target.
    attacker_lower_bound_ : float
        No strategy holds the attacker below this (equal to the maximin value when proven).
    pricing_proven_ : bool
        Every LP's last pricing round proved that no improving joint schedule exists.
    """

    def __init__(
        self,
        graph: PatrolGraph,
        *,
        method: str = "sse",
        rules: RouteRules | None = None,
        max_candidates: int | None = None,
        candidate_seconds: float | None = None,
        exact_limit: int = 5000,
        max_rounds: int = 2000,
        time_budget: float = 300.0,
        spread: bool = True,
        tol: float = 1e-7,
    ) -> None:
        self.graph = graph
        self.method = method
        self.rules = rules or RouteRules()
        self.max_candidates = max_candidates
        self.candidate_seconds = candidate_seconds
        self.exact_limit = exact_limit
        self.max_rounds = max_rounds
        self.time_budget = time_budget
        self.spread = spread
        self.tol = tol

    # --- master ----------------------------------------------------------------------------

    def _column(self, b: int, schedule: Schedule) -> tuple[csc_matrix, csc_matrix]:
        idx, val = joint_coverage(self.graph, self._blocks[b].layers, schedule)
        n_b, n_t = len(self._blocks), self.graph.targets.n
        B = csc_matrix((np.ones(1), ([b], [0])), shape=(n_b, 1))
        C = csc_matrix((val, (idx, np.zeros(idx.size, dtype=np.int64))), shape=(n_t, 1))
        return B, C

    def _build(self, columns: list[tuple[int, Schedule]], payoffs, coverable) -> SSELP:
        n_b = len(self._blocks)
        parts = [self._column(b, s) for b, s in columns]
        from scipy.sparse import hstack

        B = csr_matrix(hstack([p[0] for p in parts]))
        C = csr_matrix(hstack([p[1] for p in parts]))
        ones = np.ones(n_b)
        return SSELP(C, B, ones, ones, payoffs or _payoffs(self.graph), coverable=coverable)

    def _initial(self) -> list[tuple[int, Schedule]]:
        w = self.graph.targets.attacker_reward
        out = []
        for b, blk in enumerate(self._blocks):
            _, greedy = blk.ascend(w, None)
            out.append((b, greedy))
        return out

    # --- pricing ---------------------------------------------------------------------------

    def _price_block(
        self, b: int, w: FArray, pi_b: float, y: FArray, columns: list[tuple[int, Schedule]]
    ) -> tuple[list[Schedule], float]:
        """Improving schedules of block ``b``, and the unproven gap (0 when proven)."""
        blk = self._blocks[b]
        if pi_b <= self.tol and not np.any(w[blk.targets] > 0):
            return [], 0.0  # coverage is >= 0: nothing can price in
        mine = [k for k, (bb, _) in enumerate(columns[: y.size]) if bb == b]
        heavy = columns[max(mine, key=lambda k: y[k])][1] if mine else None
        found: list[Schedule] = []
        for start in (None, heavy):
            v, s = blk.ascend(w, start)
            key = _key(s)
            # a column already in the master prices out (up to LP round-off): not improving
            if v + pi_b > self.tol and key not in self._seen[b]:
                self._seen[b].add(key)
                found.append(s)
        if found:
            return found, 0.0
        ub = blk.additive_bound(w) + pi_b
        if ub <= self.tol:
            return [], 0.0
        if self._enumerable[b]:
            scheds, mat = blk.enumerate()
            vals = np.asarray(mat @ w).ravel() + pi_b
            k = int(np.argmax(vals))
            if vals[k] > self.tol and _key(scheds[k]) not in self._seen[b]:
                self._seen[b].add(_key(scheds[k]))
                return [scheds[k]], 0.0
            return [], 0.0
        return [], ub

    def _pricer(self, columns: list[tuple[int, Schedule]]):
        g = self.graph

        def price(model: SSELP, cand: int | None) -> bool:
            pi = model.duals()
            w = np.zeros(g.targets.n)
            act = model.active
            w[act] = pi[model.row_of[act]] * model.delta[act]
            if cand is not None:
                w[cand] += model.rd[cand] - model.pd[cand]
            over = time.perf_counter() - self._started > self.time_budget
            if self.rounds_ >= self.max_rounds or over:
                # out of budget: not proven; the additive relaxation still bounds the gap
                self._gaps.append(
                    sum(
                        max(0.0, blk.additive_bound(w) + float(pi[b]))
                        for b, blk in enumerate(self._blocks)
                    )
                )
                return False
            self.rounds_ += 1
            added, gap = False, 0.0
            y = model.values()
            for b in range(len(self._blocks)):
                new, gb = self._price_block(b, w, float(pi[b]), y, columns)
                gap += gb
                for s in new:
                    columns.append((b, s))
                    model.add_columns(*self._column(b, s))
                    added = True
            if not added:
                self._gaps.append(gap)
            return added

        return price

    # --- solve -----------------------------------------------------------------------------

    def _run(self, payoffs, coverable) -> tuple[SSELP, SSEResult, list[tuple[int, Schedule]]]:
        columns = list(self._initial())
        self._seen: list[set[tuple[bytes, ...]]] = [set() for _ in self._blocks]
        for b, sch in columns:
            self._seen[b].add(_key(sch))
        lp = self._build(columns, payoffs, coverable)
        self._gaps: list[float] = []
        res = solve_stackelberg(
            lp,
            method=self.method,
            max_candidates=self.max_candidates,
            price=self._pricer(columns),
            spread=self.spread,
            candidate_seconds=self.candidate_seconds,
        )
        return lp, res, columns

    def solve(self) -> Self:
        g = self.graph
        if not g.layers:
            raise ValidationError("no patrolling layer in the graph", field="layers")
        self._started = started = time.perf_counter()
        self.rounds_ = 0
        self._blocks = [_Block(g, ls, self.rules) for ls in coverage_blocks(g)]
        self._enumerable = [blk.size(self.exact_limit) <= self.exact_limit for blk in self._blocks]
        cov = g.coverable()
        lp, res, columns = self._run(None, cov)
        gaps = self._gaps
        self.protects_reachable_ = False
        if floor_binds(lp, res):
            lp2, res2, columns2 = self._run(reachable_payoffs(lp), cov)
            better = adopt_if_no_worse(lp, res, lp2, res2)
            if better is not None:
                res, columns, self.protects_reachable_ = better, columns2, True
                gaps = gaps + self._gaps
        self.pricing_proven_ = all(gp <= self.tol for gp in gaps)
        self.pricing_gap_ = max(gaps, default=0.0)
        self.attacker_lower_bound_ = res.maximin_value - (gaps[0] if gaps else 0.0)
        self.n_columns_ = len(columns)
        self._finish(lp, res, columns, started)
        return self

    def _finish(self, lp: SSELP, res: SSEResult, columns, started: float) -> None:
        g = self.graph
        # the best LP may predate the last columns (an SSE candidate that lost): they get zero
        y = np.zeros(len(columns))
        y[: res.y.size] = np.maximum(res.y, 0.0)
        joint = []
        for b, blk in enumerate(self._blocks):
            ks = [k for k, (bb, _) in enumerate(columns) if bb == b and y[k] > 1e-9]
            if not ks:
                ks = [max((k for k, (bb, _) in enumerate(columns) if bb == b), key=lambda k: y[k])]
            w = np.maximum(y[ks], 1e-12)
            joint.append(
                JointStrategy(tuple(blk.layers), tuple(columns[k][1] for k in ks), w / w.sum())
            )
        self.joint_ = joint
        self.strategies_ = marginal_strategies(g, joint)
        t = g.targets
        ev = evaluate_coverage(
            joint_strategy_coverage(g, joint),
            t.attacker_reward,
            t.attacker_penalty,
            t.defender_reward,
            t.defender_penalty,
        )
        res = SSEResult(y, ev, res.maximin_value, res.method, res.exact, res.upper_bound, res.n_lps)
        self._store(res, started)
        self.exact_ = res.exact and self.pricing_proven_
        if not self.exact_:
            z_lo = self.attacker_lower_bound_
            if not math.isfinite(z_lo):
                self.upper_bound_ = math.inf
            else:
                bounds = [bd for bd, _ in lp.candidates(z_lo)]
                self.upper_bound_ = max([self.defender_utility_, res.upper_bound, *bounds])


def _key(s: Schedule) -> tuple[bytes, ...]:
    return tuple(r.tobytes() for r in s)


def joint_strategy_coverage(graph: PatrolGraph, joint: Sequence[JointStrategy]) -> FArray:
    """Planned non-additive coverage per target: ``Σ_J q_J c_j(J)`` over every block."""
    s = np.zeros(graph.targets.n)
    for js in joint:
        for sched, q in zip(js.schedules, js.weights, strict=True):
            idx, val = joint_coverage(graph, js.layers, sched)
            s[idx] += q * val
    return s


def marginal_strategies(graph: PatrolGraph, joint: Sequence[JointStrategy]) -> list[LayerStrategy]:
    """Per layer, how often each route is taken (weights sum to the layer's count)."""
    acc: list[dict[bytes, tuple[IntArray, float]]] = [{} for _ in graph.layers]
    for js in joint:
        owners = [li for li in js.layers for _ in range(graph.layers[li].count)]
        for sched, q in zip(js.schedules, js.weights, strict=True):
            for li, route in zip(owners, sched, strict=True):
                key = route.tobytes()
                prev = acc[li].get(key, (route, 0.0))
                acc[li][key] = (route, prev[1] + float(q))
    out = []
    for li, d in enumerate(acc):
        paths = tuple(v[0] for v in d.values())
        w = np.array([v[1] for v in d.values()])
        out.append(LayerStrategy(paths, w * (graph.layers[li].count / w.sum())))
    return out


def sample_joint_day(
    graph: PatrolGraph,
    joint: Sequence[JointStrategy],
    strategies: Sequence[LayerStrategy],
    rng: np.random.Generator,
    *,
    day: int,
    t0: datetime,
) -> list[Route]:
    """One day's routes: one joint schedule per block, drawn with probability ``q_J``."""
    routes: list[Route] = []
    index = [{p.tobytes(): i for i, p in enumerate(st.paths)} for st in strategies]
    for js in joint:
        k = int(comb_sample(js.weights, 1, rng)[0])
        sched = iter(js.schedules[k])
        for li in js.layers:
            ly = graph.layers[li]
            mine = [next(sched) for _ in range(ly.count)]
            order = rng.permutation(ly.count)  # which crew takes which route is itself random
            for r, j in enumerate(order):
                path = mine[int(j)]
                routes.append(
                    Route(
                        ly.force_id,
                        ly.unit_id,
                        r,
                        day,
                        ly.key,
                        index[li].get(path.tobytes(), -1),
                        path,
                        _legs(graph, ly, path, t0),
                    )
                )
    return routes
