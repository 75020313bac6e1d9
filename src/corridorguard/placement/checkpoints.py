"""Checkpoint placement on road segments, with the civilian burden as a first-class cost.

A checkpoint stands at a segment's midpoint and protects the road within ``reach_m`` along the
road (patrol and deterrence radius) and sites whose access node lies within that reach. Every
checkpoint delays each passing vehicle by ``delay_s`` on average, so it imposes

    burden_j = traffic_vph_j × delay_s / 3600 × hours_per_day    [vehicle-hours per day]

on the people using the road (Edge.traffic_vph; notional unless the scenario says otherwise).
The model is a budgeted maximal cover (see
:func:`corridorguard.placement.variants.budgeted_max_cover`)::

    max  sum_i w_i y_i - mu * sum_j burden_j x_j
    s.t. y_i <= sum_{j covers i} x_j,  sum_j x_j <= k,  sum_j burden_j x_j <= B (optional)

and :meth:`CheckpointPlacement.frontier` traces protection against burden for k = 1..K so that
planners see what each extra checkpoint buys and costs. No individual is modelled: burden is an
aggregate of traffic counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from corridorguard.errors import ValidationError
from corridorguard.placement.demand import Demand, corridor_demand, road_network_distance
from corridorguard.placement.variants import budgeted_max_cover
from corridorguard.routing.graph import RoadGraph
from corridorguard.scenario.model import Scenario

__all__ = ["CheckpointPlacement"]


class CheckpointPlacement:
    """Choose up to ``count`` road segments for checkpoints.

    Parameters
    ----------
    scenario
        The corridor.
    count
        Maximum number of checkpoints.
    reach_m
        Road distance a checkpoint protects on each side of its midpoint.
    delay_s
        Mean delay per vehicle at a checkpoint.
    hours_per_day
        Hours a day the checkpoint is staffed.
    burden_budget
        Optional cap on total burden (vehicle-hours per day).
    burden_penalty
        ``mu``: protection units given up per vehicle-hour of burden (0: protection first, with
        ties broken toward less burden).
    candidates
        Edge ids allowed (default: every segment).

    Attributes
    ----------
    selected_ : list of edge ids
    protection_, protection_share_, burden_ : float (burden in vehicle-hours/day)
    checkpoints_ : list of dicts per chosen segment
    status_, bound_, gap_
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        count: int = 3,
        reach_m: float = 15_000.0,
        delay_s: float = 120.0,
        hours_per_day: float = 12.0,
        burden_budget: float | None = None,
        burden_penalty: float = 0.0,
        candidates: Sequence[str] | None = None,
        edge_risk: Mapping[str, float] | None = None,
        site_risk: Mapping[str, float] | None = None,
        time_limit: float | None = 30.0,
        piece_m: float = 5_000.0,
    ) -> None:
        for name, v in (
            ("reach_m", reach_m),
            ("delay_s", delay_s),
            ("hours_per_day", hours_per_day),
        ):
            if not v >= 0 or not np.isfinite(v):
                raise ValidationError("must be a finite number >= 0", field=name)
        if count < 1:
            raise ValidationError("count must be >= 1", field="count")
        if burden_budget is not None and burden_budget < 0:
            raise ValidationError("burden budget must be >= 0", field="burden_budget")
        self.scenario = scenario
        self.count = int(count)
        self.reach_m = float(reach_m)
        self.delay_s = float(delay_s)
        self.hours_per_day = float(hours_per_day)
        self.burden_budget = burden_budget
        self.burden_penalty = float(burden_penalty)
        self.candidates = list(candidates) if candidates is not None else None
        self.edge_risk = edge_risk
        self.site_risk = site_risk
        self.time_limit = time_limit
        self.piece_m = piece_m

    # --- model pieces ---------------------------------------------------------------------

    def _setup(self) -> tuple[RoadGraph, Demand, list[str], np.ndarray, Any, np.ndarray]:
        graph = RoadGraph.from_scenario(self.scenario)
        demand = corridor_demand(
            self.scenario,
            graph,
            edge_risk=self.edge_risk,
            site_risk=self.site_risk,
            piece_m=self.piece_m,
        )
        ids = self.candidates if self.candidates is not None else list(graph.edge_ids)
        cand = np.array([graph.edge_index(e) for e in ids], dtype=np.int64)
        idx = self.scenario.node_index
        u = np.array([idx[self.scenario.edges[e].source] for e in cand.tolist()], dtype=np.int64)
        v = np.array([idx[self.scenario.edges[e].target] for e in cand.tolist()], dtype=np.int64)
        half = graph.edge_attrs["length_m"][cand] / 2
        du = road_network_distance(graph, demand, u, weight="length")
        dv = road_network_distance(graph, demand, v, weight="length")
        dist = np.minimum(du, dv) + half[:, None]
        # pieces on the checkpoint's own segment: straight along it
        for k, e in enumerate(cand.tolist()):
            own = np.nonzero(demand.edge == e)[0]
            dist[k, own] = np.abs(demand.frac[own] - 0.5) * 2 * half[k]
        cov = (dist <= self.reach_m).T
        traffic = graph.edge_attrs["traffic_vph"][cand]
        burden = traffic * self.delay_s / 3600.0 * self.hours_per_day
        return graph, demand, ids, cand, cov, burden

    def _solve_k(
        self, cov: Any, w: np.ndarray, burden: np.ndarray, k: int
    ) -> tuple[np.ndarray, float, Any]:
        total_w = max(float(w.sum()), 1e-9)
        total_b = max(float(burden.sum()), 1e-9)
        tie = 1e-6 * total_w / total_b  # among equal protection, prefer less burden
        res = budgeted_max_cover(
            cov,
            w,
            burden,
            max_count=min(k, cov.shape[1]),
            budget=self.burden_budget,
            penalty=self.burden_penalty + tie,
            time_limit=self.time_limit,
        )
        m = cov.shape[1]
        chosen = np.nonzero(res.x[:m] > 0.5)[0]
        covered = cov[:, chosen].any(axis=1) if chosen.size else np.zeros(cov.shape[0], bool)
        return chosen, float(w[covered].sum()), res

    # --- public ---------------------------------------------------------------------------

    def solve(self) -> CheckpointPlacement:
        graph, demand, ids, _cand, cov, burden = self._setup()
        chosen, protection, res = self._solve_k(cov, demand.weight, burden, self.count)
        total = float(demand.weight.sum())
        self.selected_ = [ids[j] for j in chosen.tolist()]
        self.protection_ = protection
        self.total_weight_ = total
        self.protection_share_ = protection / total if total else 0.0
        self.burden_ = float(burden[chosen].sum())
        self.status_ = res.status
        self.gap_ = res.gap
        self.checkpoints_ = [
            {
                "edge": ids[j],
                "traffic_vph": float(graph.edge_attrs["traffic_vph"][graph.edge_index(ids[j])]),
                "burden_vehicle_hours_per_day": float(burden[j]),
                "protects_weight": float(demand.weight[cov[:, j]].sum()),
            }
            for j in chosen.tolist()
        ]
        self.demand_ = demand
        return self

    def frontier(self, max_count: int | None = None) -> list[dict[str, Any]]:
        """Protection and burden of the best plan with 1, 2, ..., K checkpoints."""
        _g, demand, ids, _c, cov, burden = self._setup()
        total = max(float(demand.weight.sum()), 1e-9)
        out = []
        for k in range(1, (max_count or self.count) + 1):
            chosen, protection, _ = self._solve_k(cov, demand.weight, burden, k)
            out.append(
                {
                    "checkpoints": k,
                    "selected": [ids[j] for j in chosen.tolist()],
                    "protection": protection,
                    "protection_share": protection / total,
                    "burden_vehicle_hours_per_day": float(burden[chosen].sum()),
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "selected": self.selected_,
            "checkpoints": self.checkpoints_,
            "protection": self.protection_,
            "protection_share": self.protection_share_,
            "total_weight": self.total_weight_,
            "burden_vehicle_hours_per_day": self.burden_,
            "delay_s": self.delay_s,
            "hours_per_day": self.hours_per_day,
            "reach_m": self.reach_m,
            "status": self.status_,
            "gap": self.gap_,
            "data_label": self.scenario.labels.get("roads", "schematic"),
        }
