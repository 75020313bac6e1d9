"""Cameras, drones, checkpoints and QRF coverage on a notional grid corridor."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.placement.checkpoints import CheckpointPlacement
from corridorguard.placement.demand import corridor_demand, road_network_distance
from corridorguard.placement.qrf import QRFCoverage
from corridorguard.placement.sensors import SensorPlacement, drone_radius_m
from corridorguard.routing.graph import RoadGraph
from corridorguard.scenario.model import Scenario


def test_demand_weights_are_length_times_risk(grid: Scenario) -> None:
    g = RoadGraph.from_scenario(grid)
    d = corridor_demand(grid, g, piece_m=4000)
    road = d.kind == "road"
    assert d.weight[road].sum() == pytest.approx(sum(e.length_m for e in grid.edges) / 1000)
    assert d.weight[~road].tolist() == [50.0, 20.0]  # criticality × 10 km
    risky = corridor_demand(grid, g, edge_risk={"h0_0": 2.0}, site_risk={"dam": 1.0})
    assert risky.weight[risky.kind == "road"].sum() == pytest.approx(40.0)
    assert risky.weight[risky.kind == "site"].tolist() == [50.0, 0.0]
    with pytest.raises(NotFoundError):
        corridor_demand(grid, g, site_risk={"nope": 1.0})


def test_network_distance_to_pieces(grid: Scenario) -> None:
    g = RoadGraph.from_scenario(grid)
    d = corridor_demand(grid, g, piece_m=10_000)
    src = np.array([g.node_index("n0_0")])
    dist = road_network_distance(g, d, src)[0]
    first = [i for i in range(d.size) if d.ref[i] == "h0_0"]
    assert sorted(dist[first].tolist()) == pytest.approx([5000.0, 15000.0])


def test_cameras_exact_beats_or_equals_every_pair(grid: Scenario) -> None:
    plan = SensorPlacement(grid, kind="camera", count=2, range_m=12_000).solve()
    assert len(plan.selected_) == 2
    assert plan.status_ == "optimal"
    assert 0 < plan.coverage_share_ <= 1
    # brute force over node pairs with the same coverage model
    g = RoadGraph.from_scenario(grid)
    cand = np.arange(g.n_nodes)
    cov = plan.coverage(g, plan.demand_, cand).toarray() > 0
    best = max(
        float(plan.demand_.weight[cov[:, list(s)].any(axis=1)].sum())
        for s in itertools.combinations(range(g.n_nodes), 2)
    )
    assert plan.covered_weight_ == pytest.approx(best)
    assert plan.bound_ >= plan.covered_weight_ - 1e-9
    # the gaps layer holds exactly the uncovered weight
    gap_w = sum(f["properties"]["weight"] for f in plan.gaps_["features"])
    assert gap_w == pytest.approx(plan.total_weight_ - plan.covered_weight_)


def test_drones_heuristic_and_existing(grid: Scenario) -> None:
    plan = SensorPlacement(
        grid, kind="drone", count=2, range_m=25_000, method="heuristic", existing=["n3_4"]
    ).solve()
    assert "n3_4" in plan.selected_
    exact = SensorPlacement(grid, kind="drone", count=2, range_m=25_000, existing=["n3_4"]).solve()
    assert plan.covered_weight_ <= exact.covered_weight_ + 1e-9 <= plan.bound_ + 2e-9
    with pytest.raises(ValidationError):
        SensorPlacement(grid, kind="drone", count=0).solve()
    with pytest.raises(NotFoundError):
        SensorPlacement(grid, kind="drone", count=2, existing=["zz"]).solve()
    assert drone_radius_m(40, 60, 80) == pytest.approx(40_000)
    assert drone_radius_m(None, 30, 60) == pytest.approx(15_000)


def test_checkpoints_trade_protection_for_burden(grid: Scenario) -> None:
    base = CheckpointPlacement(grid, count=2, reach_m=25_000).solve()
    assert len(base.selected_) <= 2
    assert base.burden_ == pytest.approx(
        sum(c["burden_vehicle_hours_per_day"] for c in base.checkpoints_)
    )
    capped = CheckpointPlacement(grid, count=2, reach_m=25_000, burden_budget=5.0).solve()
    assert capped.burden_ <= 5.0 + 1e-9
    assert capped.protection_ <= base.protection_ + 1e-9
    heavy = CheckpointPlacement(grid, count=2, reach_m=25_000, burden_penalty=1e6).solve()
    assert heavy.burden_ <= capped.burden_ + 1e-9
    front = base.frontier(3)
    assert [f["checkpoints"] for f in front] == [1, 2, 3]
    prot = [f["protection"] for f in front]
    assert prot == sorted(prot)  # more checkpoints never protect less
    # burden formula: traffic × delay / 3600 × hours
    one = front[0]["selected"][0]
    edge = next(e for e in grid.edges if e.id == one)
    assert front[0]["burden_vehicle_hours_per_day"] == pytest.approx(
        edge.traffic_vph * 120 / 3600 * 12
    )
    with pytest.raises(ValidationError):
        CheckpointPlacement(grid, delay_s=-1)


def test_qrf_coverage_and_bases(grid: Scenario) -> None:
    cov = QRFCoverage(grid, minutes=30).solve()
    assert cov.bases == ["n0_0"]
    assert cov.sites_["camp"] == pytest.approx((3 * 17_000) / (40 / 3.6) / 60)
    assert 0 < cov.share_within_ < 1
    wider = QRFCoverage(grid, minutes=600).solve()
    assert wider.share_within_ == pytest.approx(1.0)
    med = cov.place_bases(2, objective="p-median")
    cen = cov.place_bases(2, objective="p-center")
    assert len(med["bases"]) == 2 and len(cen["bases"]) == 2
    assert cen["max_minutes"] <= med["max_minutes"] + 1e-9
    assert med["mean_minutes"] <= cen["mean_minutes"] + 1e-9
    with pytest.raises(ValidationError):
        QRFCoverage(grid, minutes=0)
