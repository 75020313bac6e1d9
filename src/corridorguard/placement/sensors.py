"""Camera and drone placement on a corridor as maximal covering problems.

Cameras stand at road nodes (towns, junctions, site gates) and see road within ``range_m``
*along the road* (network distance), sites within ``range_m`` great-circle, and the site whose
access node they stand on (a gate camera). Road is cut into pieces no longer than the camera
range so that a camera can cover whole pieces. Drones launch from
road nodes and cover everything within an orbit radius great-circle: the unit's ``range_km``,
capped by half of what endurance allows at cruise speed (out and back). Demand is risk-weighted
(:mod:`corridorguard.placement.demand`); the MCLP is solved exactly on HiGHS or by greedy + swap
(:class:`~corridorguard.placement.mclp.MCLP`). Uncovered demand is reported as a GeoJSON layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from scipy.sparse import csr_matrix

from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.placement.demand import (
    Demand,
    corridor_demand,
    gaps_geojson,
    great_circle_matrix,
    road_network_distance,
)
from corridorguard.placement.mclp import MCLP, Progress
from corridorguard.routing.graph import RoadGraph
from corridorguard.scenario.model import Scenario

__all__ = ["SensorPlacement", "drone_radius_m"]

DEFAULT_RANGE_M = {"camera": 2_000.0, "drone": 30_000.0}


def drone_radius_m(range_km: float | None, endurance_min: float | None, speed_kmh: float) -> float:
    """Orbit radius: ``range_km`` capped by half the endurance distance at cruise speed."""
    r = (range_km or DEFAULT_RANGE_M["drone"] / 1000.0) * 1000.0
    if endurance_min:
        r = min(r, endurance_min / 60.0 * speed_kmh * 1000.0 / 2.0)
    return r


class SensorPlacement:
    """Place ``count`` cameras or drones to cover the most risk-weighted demand.

    Parameters
    ----------
    scenario
        The corridor.
    kind
        ``"camera"`` or ``"drone"``.
    count
        Sensors to place.
    range_m
        Camera range along the road / drone orbit radius. Default: from the scenario's units of
        that kind (first found), else 2 km (camera) / 30 km (drone).
    candidates
        Node ids where sensors may go (default: every node).
    existing
        Node ids that already have a sensor (kept; count includes them).
    edge_risk, site_risk
        Optional risk mappings (uniform when absent).
    method, time_limit
        Passed to :class:`~corridorguard.placement.mclp.MCLP`.

    Attributes
    ----------
    selected_ : list of node ids
    covered_weight_, total_weight_, coverage_share_, bound_, gap_ : float
    gaps_ : GeoJSON FeatureCollection of uncovered demand
    demand_ : :class:`~corridorguard.placement.demand.Demand`
    covered_ : bool array over demand
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        kind: Literal["camera", "drone"] = "camera",
        count: int = 5,
        range_m: float | None = None,
        candidates: Sequence[str] | None = None,
        existing: Sequence[str] = (),
        edge_risk: Mapping[str, float] | None = None,
        site_risk: Mapping[str, float] | None = None,
        method: Literal["exact", "heuristic"] = "exact",
        time_limit: float | None = 30.0,
        piece_m: float | None = None,
    ) -> None:
        if kind not in ("camera", "drone"):
            raise ValidationError(f"unknown sensor kind {kind!r}", field="kind")
        self.scenario = scenario
        self.kind = kind
        self.count = int(count)
        self.range_m = float(range_m) if range_m is not None else self._default_range()
        if not self.range_m > 0:
            raise ValidationError("range must be > 0", field="range_m")
        self.candidates = list(candidates) if candidates is not None else None
        self.existing = list(existing)
        self.edge_risk = edge_risk
        self.site_risk = site_risk
        self.method = method
        self.time_limit = time_limit
        self.piece_m = (
            piece_m
            if piece_m is not None
            else (min(5_000.0, self.range_m) if kind == "camera" else 5_000.0)
        )

    def _default_range(self) -> float:
        for _, u in self.scenario.units():
            if u.kind == self.kind:
                if self.kind == "drone":
                    return drone_radius_m(u.range_km, u.endurance_min, u.speed_kmh)
                if u.range_km:
                    return u.range_km * 1000.0
        return DEFAULT_RANGE_M[self.kind]

    def coverage(self, graph: RoadGraph, demand: Demand, cand: np.ndarray) -> csr_matrix:
        """0/1 coverage matrix (demand × candidate nodes)."""
        gc = great_circle_matrix(demand, graph.lon[cand], graph.lat[cand])
        if self.kind == "drone":
            return csr_matrix(gc <= self.range_m)
        net = road_network_distance(graph, demand, cand, weight="length", limit=self.range_m).T
        is_site = demand.edge < 0
        at_gate = (demand.node[:, None] == cand[None, :]) & is_site[:, None]
        cov = np.where(is_site[:, None], (gc <= self.range_m) | at_gate, net <= self.range_m)
        return csr_matrix(cov)

    def solve(self, *, progress: Progress | None = None) -> SensorPlacement:
        graph = RoadGraph.from_scenario(self.scenario)
        demand = corridor_demand(
            self.scenario,
            graph,
            edge_risk=self.edge_risk,
            site_risk=self.site_risk,
            piece_m=self.piece_m,
        )
        ids = self.candidates if self.candidates is not None else list(graph.node_ids)
        cand = np.array([graph.node_index(c) for c in ids], dtype=np.int64)
        if not 1 <= self.count <= cand.size:
            raise ValidationError(f"count must be between 1 and {cand.size}", field="count")
        pos = {int(c): i for i, c in enumerate(cand.tolist())}
        try:
            fixed = [pos[graph.node_index(x)] for x in self.existing]
        except KeyError as exc:
            raise NotFoundError(
                f"existing sensor node {exc} is not a candidate", field="existing"
            ) from None
        cov = self.coverage(graph, demand, cand)
        model = MCLP(
            cov,
            demand.weight,
            self.count,
            method=self.method,
            time_limit=self.time_limit,
            fixed=fixed,
        ).solve(progress=progress)
        self.demand_ = demand
        self.selected_ = [ids[j] for j in model.selected_.tolist()]
        self.covered_ = model.covered_
        self.covered_weight_ = model.covered_weight_
        self.total_weight_ = float(demand.weight.sum())
        self.coverage_share_ = (
            self.covered_weight_ / self.total_weight_ if self.total_weight_ else 0.0
        )
        self.bound_ = model.bound_
        self.gap_ = model.gap_
        self.status_ = model.status_
        self.gaps_ = gaps_geojson(
            demand, model.covered_, label=self.scenario.labels.get("roads", "schematic")
        )
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (what the CLI prints)."""
        return {
            "kind": self.kind,
            "count": self.count,
            "range_m": self.range_m,
            "selected": self.selected_,
            "covered_weight": self.covered_weight_,
            "total_weight": self.total_weight_,
            "coverage_share": self.coverage_share_,
            "bound": self.bound_,
            "gap": self.gap_,
            "status": self.status_,
            "method": self.method,
            "gaps": self.gaps_,
            "data_label": self.scenario.labels.get("roads", "schematic"),
        }
