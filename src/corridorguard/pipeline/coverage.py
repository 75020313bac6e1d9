"""Adapters from the engines' outputs to the simulator's per-target coverage arrays.

Simulator targets (:func:`corridorguard.simulate.targets_from_scenario`) are the scenario's sites,
road segments and convoy movements. This module turns

* patrol schedules (legs with UTC times) into a *presence* schedule ``(days, targets)``: the
  share of the day a unit is on a segment (moving along it) or at a site (waiting at its node);
  for a convoy, the length share of that day's convoy route on which a patrol is on the segment
  while the convoy passes;
* fixed posts (checkpoint segments) and sensor placements (demand pieces covered) into
  marginal coverage / detection vectors;
* QRF base response times into per-target travel minutes.

Everything here is plain arithmetic on the engines' public results; no engine is changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from corridorguard.patrol.schedule import Route
from corridorguard.scenario.model import Scenario
from corridorguard.simulate import TargetSet

__all__ = [
    "ConvoyDay",
    "TargetIndex",
    "checkpoint_coverage",
    "patrol_presence",
    "sensor_detection",
    "travel_minutes",
]

DAY_S = 86_400.0


@dataclass(frozen=True)
class ConvoyDay:
    """One day of one convoy: the route's edges in order and the departure (seconds of day)."""

    edges: tuple[str, ...]
    depart_s: float


@dataclass
class TargetIndex:
    """Where each scenario id sits in the simulator's target order."""

    targets: TargetSet
    scenario: Scenario

    def __post_init__(self) -> None:
        self.pos = {t.id: i for i, t in enumerate(self.targets.targets)}
        self.kind = {t.id: t.kind for t in self.targets.targets}
        self.site_by_node: dict[str, list[int]] = {}
        for s in self.scenario.sites:
            if s.node and s.id in self.pos:
                self.site_by_node.setdefault(s.node, []).append(self.pos[s.id])
        self.edge = {e.id: e for e in self.scenario.edges}
        self.edge_time_s = {e.id: e.length_m / (e.speed_kmh / 3.6) for e in self.scenario.edges}

    @property
    def n(self) -> int:
        return len(self.targets)

    def convoy_ids(self) -> list[str]:
        return [t.id for t in self.targets.targets if t.kind == "convoy"]


def _day_seconds(t: datetime, day0: datetime) -> float:
    return (t - day0).total_seconds()


def patrol_presence(
    index: TargetIndex,
    schedules: Sequence[Sequence[Route]],
    unit_id: str,
    *,
    day_starts: Sequence[datetime],
    convoys: Mapping[str, Sequence[ConvoyDay]],
) -> np.ndarray:
    """Presence schedule ``(days, targets)`` of one unit (all its crews), each in [0, 1]."""
    days = len(schedules)
    pres = np.zeros((days, index.n))
    for d, routes in enumerate(schedules):
        windows: dict[str, list[tuple[float, float]]] = {}
        for r in routes:
            if r.unit_id != unit_id:
                continue
            for leg in r.legs:
                a = _day_seconds(leg.start, day_starts[d])
                b = _day_seconds(leg.end, day_starts[d])
                share = max(0.0, min(b, DAY_S) - max(a, 0.0)) / DAY_S
                if leg.kind == "move" and leg.edge is not None and leg.edge in index.pos:
                    pres[d, index.pos[leg.edge]] += share
                    windows.setdefault(leg.edge, []).append((a, b))
                elif leg.kind == "wait":
                    for j in index.site_by_node.get(leg.from_node, ()):
                        pres[d, j] += share
        for cid, plan in convoys.items():
            if cid in index.pos and d < len(plan):
                pres[d, index.pos[cid]] = _convoy_overlap(index, plan[d], windows)
    return np.clip(pres, 0.0, 1.0)


def _convoy_overlap(
    index: TargetIndex, day: ConvoyDay, windows: Mapping[str, list[tuple[float, float]]]
) -> float:
    """Length share of the convoy's route where a patrol is on the segment as the convoy passes."""
    t = day.depart_s
    total = covered = 0.0
    for e in day.edges:
        dt = index.edge_time_s.get(e, 0.0)
        length = index.edge[e].length_m if e in index.edge else 0.0
        total += length
        if any(a < t + dt and b > t for a, b in windows.get(e, ())):
            covered += length
        t += dt
    return covered / total if total > 0 else 0.0


def _route_share(index: TargetIndex, edges: Sequence[str], chosen: set[str]) -> float:
    total = sum(index.edge[e].length_m for e in edges if e in index.edge)
    hit = sum(index.edge[e].length_m for e in edges if e in chosen and e in index.edge)
    return hit / total if total > 0 else 0.0


def checkpoint_coverage(
    index: TargetIndex,
    segments: Sequence[str],
    convoy_routes: Mapping[str, Sequence[tuple[float, Sequence[str]]]],
) -> np.ndarray:
    """Marginal coverage of fixed checkpoints: the chosen segments, the sites at their end nodes
    and, for convoys, the length share of their (probability-weighted) routes they sit on."""
    cov = np.zeros(index.n)
    chosen = set(segments)
    for e in segments:
        if e in index.pos:
            cov[index.pos[e]] = 1.0
        edge = index.edge.get(e)
        if edge is not None:
            for node in (edge.source, edge.target):
                for j in index.site_by_node.get(node, ()):
                    cov[j] = 1.0
    for cid, routes in convoy_routes.items():
        if cid in index.pos:
            cov[index.pos[cid]] = sum(p * _route_share(index, es, chosen) for p, es in routes)
    return np.clip(cov, 0.0, 1.0)


def sensor_detection(
    index: TargetIndex,
    placement: Any,
    convoy_routes: Mapping[str, Sequence[tuple[float, Sequence[str]]]],
    *,
    scale: float = 1.0,
) -> np.ndarray:
    """Per-target share covered by a solved sensor placement (demand pieces covered, weighted by
    length), times ``scale`` (the sensor's detection probability x the share of time on station)."""
    demand = placement.demand_
    covered = np.asarray(placement.covered_, dtype=bool)
    share = np.zeros(index.n)
    seg_tot: dict[str, float] = {}
    seg_hit: dict[str, float] = {}
    spans = np.asarray(demand.span, dtype=float)
    for i, (kind, ref) in enumerate(zip(demand.kind, demand.ref, strict=True)):
        if kind == "site":
            if ref in index.pos and covered[i]:
                share[index.pos[ref]] = 1.0
            continue
        lon0, lat0, lon1, lat1 = spans[i]
        w = float(np.hypot(lon1 - lon0, lat1 - lat0)) or 1e-9
        seg_tot[ref] = seg_tot.get(ref, 0.0) + w
        if covered[i]:
            seg_hit[ref] = seg_hit.get(ref, 0.0) + w
    for e, tot in seg_tot.items():
        if e in index.pos:
            share[index.pos[e]] = seg_hit.get(e, 0.0) / tot
    seg_share = {e: seg_hit.get(e, 0.0) / tot for e, tot in seg_tot.items()}
    for cid, routes in convoy_routes.items():
        if cid in index.pos:
            share[index.pos[cid]] = sum(p * _mean_on(index, es, seg_share) for p, es in routes)
    return np.clip(share * scale, 0.0, 1.0)


def _mean_on(index: TargetIndex, edges: Sequence[str], values: Mapping[str, float]) -> float:
    total = sum(index.edge[e].length_m for e in edges if e in index.edge)
    acc = sum(index.edge[e].length_m * values.get(e, 0.0) for e in edges if e in index.edge)
    return acc / total if total > 0 else 0.0


def travel_minutes(
    index: TargetIndex,
    qrf: Any,
    convoy_routes: Mapping[str, Sequence[tuple[float, Sequence[str]]]],
    *,
    allowed: set[str] | None = None,
) -> np.ndarray:
    """Travel minutes from one solved :class:`~corridorguard.placement.QRFCoverage` base to each
    target: sites (access node), segments (worst piece), convoys (probability-weighted mean over
    their route's segments). Targets not in ``allowed`` (ids) are unreachable (``inf``)."""
    out = np.full(index.n, np.inf)
    for sid, m in qrf.sites_.items():
        if sid in index.pos:
            out[index.pos[sid]] = m
    for eid, m in qrf.segments_.items():
        if eid in index.pos:
            out[index.pos[eid]] = m
    seg = dict(qrf.segments_)
    for cid, routes in convoy_routes.items():
        if cid in index.pos:
            vals = [p * _mean_on(index, es, seg) for p, es in routes]
            out[index.pos[cid]] = sum(vals) if vals else np.inf
    if allowed is not None:
        for tid, j in index.pos.items():
            if tid not in allowed:
                out[j] = np.inf
    out[~np.isfinite(out)] = np.inf
    return out
