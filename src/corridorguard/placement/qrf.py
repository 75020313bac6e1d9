"""Quick-reaction forces: response times from bases, risk reachable within T, base placement.

Response time to a road piece is the fastest road time from a base to either end of its segment
plus the time along the segment; to a site, the time to its access node. A QRF drives at the
lower of the road's free-flow speed and the unit's speed. Base placement minimises the
risk-weighted mean response time (p-median) or the worst response time (p-center) over
candidate nodes (:mod:`corridorguard.placement.variants`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from corridorguard.errors import ValidationError
from corridorguard.placement.demand import Demand, corridor_demand, road_network_distance
from corridorguard.placement.variants import PCenter, PMedian
from corridorguard.routing.graph import RoadGraph
from corridorguard.scenario.model import Scenario

__all__ = ["QRFCoverage", "qrf_graph"]


def qrf_graph(scenario: Scenario, speed_kmh: float | None = None) -> RoadGraph:
    """The scenario graph with times at ``min(road speed, speed_kmh)``."""
    g = RoadGraph.from_scenario(scenario)
    if speed_kmh is None:
        return g
    if not speed_kmh > 0:
        raise ValidationError("speed must be > 0", field="speed_kmh")
    cap = speed_kmh / 3.6
    g.time_s = np.maximum(g.time_s, g.length_m / cap)
    g.edge_attrs["time_s"] = np.maximum(g.edge_attrs["time_s"], g.edge_attrs["length_m"] / cap)
    return g


class QRFCoverage:
    """Response times from QRF bases and the share of risk reachable within ``minutes``.

    Parameters
    ----------
    scenario
        The corridor.
    bases
        Base node ids (default: the bases of the scenario's ``qrf`` units).
    minutes
        Response-time threshold T.
    speed_kmh
        QRF speed cap for bases without a unit of their own and for base placement (default:
        the fastest ``qrf`` unit's speed, else road speeds). Bases of the scenario's ``qrf``
        units use their own units' speed.

    Attributes
    ----------
    minutes_ : array of response minutes per demand point (inf if unreachable)
    share_within_ : risk-weighted share of demand reachable within T
    sites_ : {site id: minutes}; segments_ : {edge id: worst minutes over its pieces}
    nearest_base_ : base id per demand point
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        bases: Sequence[str] | None = None,
        minutes: float = 30.0,
        speed_kmh: float | None = None,
        edge_risk: Mapping[str, float] | None = None,
        site_risk: Mapping[str, float] | None = None,
        piece_m: float = 5_000.0,
        placement_piece_m: float = 25_000.0,
    ) -> None:
        qrf_units = [u for _, u in scenario.units() if u.kind == "qrf"]
        self.bases = list(bases) if bases is not None else sorted({u.base for u in qrf_units})
        # each unit's base keeps the speed of its fastest QRF unit; other bases use speed_kmh
        self.base_speed = {
            u.base: max(v.speed_kmh for v in qrf_units if v.base == u.base) for u in qrf_units
        }
        if not self.bases:
            raise ValidationError(
                "no QRF bases given and the scenario has no qrf units", field="bases"
            )
        if not minutes > 0:
            raise ValidationError("minutes must be > 0", field="minutes")
        if speed_kmh is None and qrf_units:
            speed_kmh = max(u.speed_kmh for u in qrf_units)
        self.scenario = scenario
        self.minutes = float(minutes)
        self.speed_kmh = speed_kmh
        self.edge_risk = edge_risk
        self.site_risk = site_risk
        self.piece_m = piece_m
        self.placement_piece_m = placement_piece_m

    def _setup(self, piece_m: float | None = None) -> tuple[RoadGraph, Demand]:
        graph = qrf_graph(self.scenario, self.speed_kmh)
        demand = corridor_demand(
            self.scenario,
            graph,
            edge_risk=self.edge_risk,
            site_risk=self.site_risk,
            piece_m=piece_m or self.piece_m,
        )
        return graph, demand

    def solve(self) -> QRFCoverage:
        _graph, demand = self._setup()
        rows = []
        for b in self.bases:
            g = qrf_graph(self.scenario, self.base_speed.get(b, self.speed_kmh))
            src = np.array([g.node_index(b)], dtype=np.int64)
            rows.append(road_network_distance(g, demand, src, weight="time")[0])
        t = np.vstack(rows) / 60.0
        best = t.min(axis=0)
        self.minutes_ = best
        self.nearest_base_ = [self.bases[k] for k in t.argmin(axis=0).tolist()]
        w = demand.weight
        total = float(w.sum())
        self.share_within_ = float(w[best <= self.minutes].sum() / total) if total else 0.0
        self.sites_ = {
            r: float(m)
            for r, k, m in zip(demand.ref, demand.kind, best, strict=True)
            if k == "site"
        }
        seg: dict[str, float] = {}
        for r, k, m in zip(demand.ref, demand.kind, best.tolist(), strict=True):
            if k == "road":
                seg[r] = max(seg.get(r, 0.0), m)
        self.segments_ = seg
        self.demand_ = demand
        return self

    def place_bases(
        self,
        p: int,
        *,
        objective: Literal["p-median", "p-center"] = "p-median",
        candidates: Sequence[str] | None = None,
        time_limit: float | None = 60.0,
    ) -> dict[str, Any]:
        """Best ``p`` base nodes for response time (p-median: risk-weighted mean; p-center:
        worst case over demand with positive weight). Demand is cut coarser here
        (``placement_piece_m``) to keep the p-median model small; all bases drive at
        ``speed_kmh``."""
        graph, demand = self._setup(piece_m=self.placement_piece_m)
        ids = list(candidates) if candidates is not None else list(graph.node_ids)
        cand = np.array([graph.node_index(c) for c in ids], dtype=np.int64)
        keep = demand.weight > 0
        cost = road_network_distance(graph, demand, cand, weight="time").T[keep] / 60.0
        w = demand.weight[keep]
        if objective == "p-median":
            model: Any = PMedian(cost, w, p, time_limit=time_limit).solve()
        elif objective == "p-center":
            model = PCenter(cost, p, time_limit=time_limit).solve()
        else:
            raise ValidationError(f"unknown objective {objective!r}", field="objective")
        sel = model.selected_
        best = cost[:, sel].min(axis=1)
        return {
            "objective": objective,
            "bases": [ids[j] for j in sel.tolist()],
            "mean_minutes": float((w * best).sum() / w.sum()),
            "max_minutes": float(best.max()),
            "share_within": float(w[best <= self.minutes].sum() / w.sum()),
            "minutes": self.minutes,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "bases": self.bases,
            "minutes": self.minutes,
            "speed_kmh": self.speed_kmh,
            "share_within": self.share_within_,
            "sites": self.sites_,
            "segments": self.segments_,
            "data_label": self.scenario.labels.get("roads", "schematic"),
        }
