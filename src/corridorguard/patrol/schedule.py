"""Concrete daily schedules drawn from a patrol strategy, their predictability, and edit checks.

Sampling: for every day and layer (unit group × shift) the ``n`` resources of the layer take routes
by *comb* (systematic) sampling over the route weights — one uniform draw ``u``, points
``u, u+1, ..., u+n-1`` on the cumulative weights — so each route's expected count is exactly its
weight, and the frequencies over days converge to the optimal flows. The generator is
``numpy.random.default_rng(seed)`` and the seed is recorded with the plan.

Predictability: the Shannon entropy (bits) of each layer's route distribution ``w / n``; layers are
drawn independently, so a day's schedule entropy is the sum over layers. ``2 ** H`` is the number of
equally likely route choices an observer faces. Manual edits (a planner pinning a route) lower it;
:func:`check_edits` reports that, and whether the attacker's best utility rises (ARMOR kept such
overrides visible rather than silently applying them).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from corridorguard.errors import ValidationError
from corridorguard.patrol._lp import Evaluation, evaluate_coverage
from corridorguard.patrol.graph import FLY, WAIT, PatrolGraph, PatrolLayer
from corridorguard.patrol.solvers import LayerStrategy

__all__ = [
    "EditCheck",
    "Leg",
    "Route",
    "check_edits",
    "entropy_bits",
    "raw_coverage",
    "route_from_waypoints",
    "sample_day",
    "strategy_entropy",
]

FArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Leg:
    """One leg of a route: a move along a segment, a drone leg, or a wait at a node (UTC times)."""

    kind: str
    """``move``, ``fly`` or ``wait``."""
    from_node: str
    to_node: str
    edge: str | None
    start: datetime
    end: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "from": self.from_node,
            "to": self.to_node,
            "segment": self.edge,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


@dataclass(frozen=True)
class Route:
    """One resource's route for one shift (or drone sortie) of one day."""

    force_id: str
    unit_id: str
    resource: int
    day: int
    layer: str
    path_index: int
    """Index of the route in the layer's strategy (for frequency checks)."""
    arcs: IntArray = field(repr=False)
    legs: tuple[Leg, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "resource": self.resource,
            "layer": self.layer,
            "start": self.legs[0].start.isoformat() if self.legs else None,
            "end": self.legs[-1].end.isoformat() if self.legs else None,
            "legs": [leg.to_dict() for leg in self.legs],
        }


def entropy_bits(weights: FArray) -> float:
    """Shannon entropy (bits) of a weight vector normalised to one."""
    w = np.asarray(weights, dtype=np.float64)
    w = w[w > 0]
    if w.size == 0:
        return 0.0
    p = w / w.sum()
    return float(-(p * np.log2(p)).sum())


def strategy_entropy(strategies: Sequence[LayerStrategy]) -> float:
    """Entropy (bits) of one day's schedule: the sum over independently drawn layers."""
    return float(sum(entropy_bits(s.weights) for s in strategies))


def raw_coverage(graph: PatrolGraph, strategies: Sequence[LayerStrategy]) -> FArray:
    """Uncapped, effectiveness-weighted coverage per target of route strategies."""
    s = np.zeros(graph.targets.n)
    for ly, st in zip(graph.layers, strategies, strict=True):
        arc_w = np.zeros(ly.n_arcs)
        for path, w in zip(st.paths, st.weights, strict=True):
            np.add.at(arc_w, path, w)
        s += ly.effectiveness * np.asarray(ly.cover.T @ arc_w).ravel()
    return s


def evaluate_strategies(graph: PatrolGraph, strategies: Sequence[LayerStrategy]) -> Evaluation:
    t = graph.targets
    return evaluate_coverage(
        raw_coverage(graph, strategies),
        t.attacker_reward,
        t.attacker_penalty,
        t.defender_reward,
        t.defender_penalty,
    )


def comb_sample(weights: FArray, n: int, rng: np.random.Generator) -> IntArray:
    """``n`` indices by systematic sampling; index ``i`` comes ``weights[i]`` times on average."""
    cum = np.cumsum(weights)
    cum = cum * (n / cum[-1])
    points = rng.random() + np.arange(n)
    return np.minimum(np.searchsorted(cum, points, side="right"), len(weights) - 1).astype(np.int64)


def _legs(graph: PatrolGraph, layer: PatrolLayer, arcs: IntArray, t0: datetime) -> tuple[Leg, ...]:
    nodes, edges = graph.scenario.nodes, graph.scenario.edges
    slot = timedelta(minutes=graph.targets.slot_minutes)
    legs: list[Leg] = []
    for a in arcs:
        u = nodes[int(layer.state_node[layer.arc_tail[a]])].id
        v = nodes[int(layer.state_node[layer.arc_head[a]])].id
        start = t0 + slot * int(layer.start_slot + layer.arc_t0[a])
        end = start + slot * int(layer.arc_dur[a])
        e = int(layer.arc_edge[a])
        if e == WAIT:
            if legs and legs[-1].kind == "wait" and legs[-1].to_node == u:
                legs[-1] = Leg("wait", u, u, None, legs[-1].start, end)
                continue
            legs.append(Leg("wait", u, u, None, start, end))
        elif e == FLY:
            legs.append(Leg("fly", u, v, None, start, end))
        else:
            legs.append(Leg("move", u, v, edges[e].id, start, end))
    return tuple(legs)


def day_start(start_date: date, day: int, utc_offset_hours: float) -> datetime:
    """UTC instant of local midnight of ``day`` (0-based) after ``start_date``."""
    local = datetime(start_date.year, start_date.month, start_date.day, tzinfo=UTC)
    return local + timedelta(days=day) - timedelta(hours=utc_offset_hours)


def sample_day(
    graph: PatrolGraph,
    strategies: Sequence[LayerStrategy],
    rng: np.random.Generator,
    *,
    day: int,
    t0: datetime,
) -> list[Route]:
    """One day's routes: every resource of every layer (see the module docstring)."""
    routes: list[Route] = []
    for ly, st in zip(graph.layers, strategies, strict=True):
        picks = comb_sample(st.weights, ly.count, rng)
        rng.shuffle(picks)  # which crew takes which route is itself random
        for r, k in enumerate(picks):
            path = st.paths[int(k)]
            routes.append(
                Route(
                    ly.force_id,
                    ly.unit_id,
                    r,
                    day,
                    ly.key,
                    int(k),
                    path,
                    _legs(graph, ly, path, t0),
                )
            )
    return routes


def route_from_waypoints(
    layer: PatrolLayer, graph: PatrolGraph, waypoints: Sequence[tuple[str, int]]
) -> IntArray:
    """Arcs of a manual route given as ``(node id, slot boundary in the shift)`` waypoints.

    Consecutive waypoints must be one arc apart (a one-slot wait or one move); the first and last
    must be the base at the shift's start and end.

    Raises
    ------
    ValidationError
        If a waypoint pair is not an arc of the layer (wrong speed, outside the jurisdiction, ...).
    """
    idx = graph.scenario.node_index
    lookup = {
        (
            int(layer.state_node[layer.arc_tail[a]]),
            int(layer.state_t[layer.arc_tail[a]]),
            int(layer.state_node[layer.arc_head[a]]),
            int(layer.state_t[layer.arc_head[a]]),
        ): a
        for a in range(layer.n_arcs)
    }
    out: list[int] = []
    for i, ((u, t), (v, t2)) in enumerate(itertools.pairwise(waypoints)):
        key = (idx.get(u, -1), t, idx.get(v, -1), t2)
        if key not in lookup:
            raise ValidationError(
                f"no patrol move from {u}@{t} to {v}@{t2} for {layer.unit_id}",
                field=f"waypoints[{i}]",
            )
        out.append(lookup[key])
    arcs = np.asarray(out, dtype=np.int64)
    if (
        not out
        or int(layer.arc_tail[arcs[0]]) != layer.source
        or int(layer.arc_head[arcs[-1]]) != layer.sink
    ):
        raise ValidationError(
            "a route must leave the base at the shift start and be back at its end",
            field="waypoints",
        )
    return arcs


@dataclass(frozen=True)
class EditCheck:
    """What manual edits do to predictability and to the attacker's best utility."""

    entropy_before: float
    entropy_after: float
    attacker_utility_before: float
    attacker_utility_after: float
    defender_utility_before: float
    defender_utility_after: float
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__} | {
            "warnings": list(self.warnings)
        }


def check_edits(
    graph: PatrolGraph,
    strategies: Sequence[LayerStrategy],
    edits: Mapping[str, IntArray],
    *,
    entropy_threshold: float | None = None,
    tol: float = 1e-9,
) -> tuple[list[LayerStrategy], EditCheck]:
    """Pin the routes in ``edits`` (layer key -> arcs) and report the consequences.

    Returns the edited strategies and an :class:`EditCheck` whose ``warnings`` say when the
    schedule entropy falls below ``entropy_threshold`` or the attacker's best utility rises.
    """
    keys = {ly.key: i for i, ly in enumerate(graph.layers)}
    new = list(strategies)
    for key, arcs in edits.items():
        if key not in keys:
            raise ValidationError(f"unknown layer {key!r}", field="edits")
        ly = graph.layers[keys[key]]
        arcs = np.asarray(arcs, dtype=np.int64)
        ok = (
            arcs.size > 0
            and int(ly.arc_tail[arcs[0]]) == ly.source
            and int(ly.arc_head[arcs[-1]]) == ly.sink
            and bool(np.all(ly.arc_head[arcs[:-1]] == ly.arc_tail[arcs[1:]]))
        )
        if not ok:
            raise ValidationError(f"edited route for {key} is not a base-to-base route", field=key)
        new[keys[key]] = LayerStrategy((arcs,), np.array([float(ly.count)]))
    before = evaluate_strategies(graph, strategies)
    after = evaluate_strategies(graph, new)
    h0, h1 = strategy_entropy(strategies), strategy_entropy(new)
    warnings = []
    if entropy_threshold is not None and h1 < entropy_threshold:
        warnings.append(
            f"predictability: schedule entropy {h1:.2f} bits is below the threshold "
            f"{entropy_threshold:.2f} (was {h0:.2f})"
        )
    if after.attacker_utility > before.attacker_utility + tol:
        warnings.append(
            f"exposure: the attacker's best utility rises from {before.attacker_utility:.4f} "
            f"to {after.attacker_utility:.4f}"
        )
    check = EditCheck(
        h0,
        h1,
        before.attacker_utility,
        after.attacker_utility,
        before.defender_utility,
        after.defender_utility,
        tuple(warnings),
    )
    return new, check
