"""Convoy routing: risk-aware cost, penalty alternatives, route game, schedule, exports."""

from __future__ import annotations

from datetime import time

import gpxpy
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.routing.convoy import ConvoyRouter
from corridorguard.routing.game import solve_route_game
from corridorguard.routing.graph import RoadGraph
from corridorguard.scenario.model import Scenario


def _quiet_ends(grid: Scenario) -> dict[str, float]:
    """Risk 1 everywhere except the segments touching the origin/destination nodes."""
    ends = {"n1_0", "n1_4"}
    return {e.id: 0.0 if {e.source, e.target} & ends else 1.0 for e in grid.edges}


def test_route_cost_is_sum_of_its_edges(grid: Scenario) -> None:
    router = ConvoyRouter.for_movement(grid, "m1", risk_weight=300.0, days=5).solve()
    g = RoadGraph.from_scenario(grid)
    for r in router.routes_:
        edges = [grid.edges[g.edge_index(e)] for e in r.edges]
        assert r.eta_s == pytest.approx(sum(e.travel_time_s for e in edges))
        assert r.distance_m == pytest.approx(sum(e.length_m for e in edges))
        assert r.exposure == pytest.approx(sum(e.length_m / 1000 for e in edges))
        assert r.cost == pytest.approx(r.eta_s + 300.0 * r.exposure)
        assert r.nodes[0] == "n0_0" and r.nodes[-1] == "n0_4"
    costs = [r.cost for r in router.routes_]
    assert costs == sorted(costs)
    assert len({tuple(r.edges) for r in router.routes_}) == len(router.routes_)
    assert sum(r.probability for r in router.routes_) == pytest.approx(1.0)


def test_risk_aware_route_avoids_risky_segment(grid: Scenario) -> None:
    risk = {e.id: 1.0 for e in grid.edges}
    risk["h0_2"] = 50.0
    fast = ConvoyRouter(
        RoadGraph.from_scenario(grid),
        "n0_0",
        "n0_4",
        risk_weight=0.0,
        edge_risk=risk,
        alternatives=1,
    ).solve()
    safe = ConvoyRouter(
        RoadGraph.from_scenario(grid),
        "n0_0",
        "n0_4",
        risk_weight=600.0,
        edge_risk=risk,
        alternatives=1,
    ).solve()
    assert "h0_2" in fast.routes_[0].edges
    assert "h0_2" not in safe.routes_[0].edges
    assert safe.routes_[0].exposure < fast.routes_[0].exposure


def test_game_leaves_ambusher_indifferent(grid: Scenario) -> None:
    router = ConvoyRouter(
        RoadGraph.from_scenario(grid),
        "n1_0",
        "n1_4",
        alternatives=4,
        edge_risk=_quiet_ends(grid),
        max_stretch=3.0,
        people=20,
    ).solve()
    game = router.game_
    assert game is not None and len(router.routes_) >= 2
    used = game.route_probs > 1e-7
    assert used.sum() >= 2  # genuinely mixed
    assert np.allclose(game.route_loss[used], game.value, rtol=1e-6)
    assert (game.route_loss >= game.value - 1e-6).all()
    assert game.ambush_probs.sum() == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(1, 5),
    e=st.integers(1, 8),
    seed=st.integers(0, 10_000),
)
def test_game_equilibrium_property(k: int, e: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    inc = rng.random((k, e)) < 0.5
    inc[np.arange(k), rng.integers(0, e, k)] = True
    harm = rng.uniform(0, 5, e)
    cost = rng.uniform(0, 1, k)
    res = solve_route_game(inc, harm, cost, tie_cost=rng.uniform(0, 1, k))
    loss = inc * harm[None, :] + cost[:, None]
    # the convoy's mix guarantees the value against every ambush site ...
    assert (res.route_probs @ loss <= res.value + 1e-7).all()
    # ... the ambusher's mix guarantees it against every route, with equality on used routes
    assert (res.route_loss >= res.value - 1e-7).all()
    used = res.route_probs > 1e-6  # numerically positive
    assert np.allclose(res.route_loss[used], res.value, atol=1e-7)


def test_schedule_is_seeded_and_respects_daylight(grid: Scenario) -> None:
    kw = {"window": (time(5, 0), time(16, 0)), "day_only": True, "days": 20, "alternatives": 3}
    a = ConvoyRouter(RoadGraph.from_scenario(grid), "n0_0", "n3_4", seed=7, **kw).solve()
    b = ConvoyRouter(RoadGraph.from_scenario(grid), "n0_0", "n3_4", seed=7, **kw).solve()
    assert a.schedule_ == b.schedule_ and a.seed_ == 7
    for day in a.schedule_:
        h, m = map(int, day["depart"].split(":"))
        dep = h * 60 + m
        r = a.routes_[day["route"]]
        assert dep >= 6 * 60 and dep <= 16 * 60
        assert dep + r.eta_s / 60 <= 18 * 60 + 1
    late = dict(kw, window=(time(17, 50), time(17, 55)))
    with pytest.raises(ValidationError):
        ConvoyRouter(RoadGraph.from_scenario(grid), "n0_0", "n3_4", **late).solve()


def test_exports(grid: Scenario) -> None:
    router = ConvoyRouter.for_movement(grid, "m1", alternatives=2).solve()
    gj = router.to_geojson()
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == len(router.routes_)
    assert gj["features"][0]["properties"]["data_label"] == "notional"
    parsed = gpxpy.parse(router.to_gpx())
    assert len(parsed.routes) == len(router.routes_)
    first = parsed.routes[0].points[0]
    assert (first.longitude, first.latitude) == pytest.approx(router.routes_[0].coords[0])
    d = router.to_dict()
    assert d["seed"] == 0 and d["routes"][0]["eta_min"] > 0


def test_errors(grid: Scenario) -> None:
    g = RoadGraph.from_scenario(grid)
    with pytest.raises(NotFoundError):
        ConvoyRouter(g, "n0_0", "nowhere")
    with pytest.raises(ValidationError):
        ConvoyRouter(g, "n0_0", "n0_0")
    with pytest.raises(ValidationError):
        ConvoyRouter(g, "n0_0", "n0_1", alternatives=0)
    with pytest.raises(NotFoundError):
        ConvoyRouter.for_movement(grid, "nope")
