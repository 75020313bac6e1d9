"""Adapters from engine results to simulator coverage, on hand-made routes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from corridorguard.patrol.schedule import Leg, Route
from corridorguard.pipeline.coverage import (
    ConvoyDay,
    TargetIndex,
    checkpoint_coverage,
    patrol_presence,
)
from corridorguard.pipeline.plans import sim_targets
from corridorguard.scenario import load_scenario

DAY0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def index() -> TargetIndex:
    sc = load_scenario("cpec")
    return TargetIndex(sim_targets(sc, {}), sc)


def _route(legs: list[Leg]) -> Route:
    return Route("force_a", "u1", 0, 0, "u1/c0/s0", 0, np.zeros(0, dtype=np.int64), tuple(legs))


def test_presence_is_the_share_of_the_day_on_each_target(index: TargetIndex) -> None:
    legs = [
        Leg("move", "chilas", "dasu", "chilas__dasu", DAY0, DAY0 + timedelta(hours=6)),
        Leg("wait", "dasu", "dasu", None, DAY0 + timedelta(hours=6), DAY0 + timedelta(hours=9)),
    ]
    pres = patrol_presence(index, [[_route(legs)]], "u1", day_starts=[DAY0], convoys={})
    assert pres.shape == (1, index.n)
    assert pres[0, index.pos["chilas__dasu"]] == pytest.approx(6 / 24)
    assert pres[0, index.pos["dasu_hpp"]] == pytest.approx(3 / 24)  # the site at node dasu
    assert pres.sum() == pytest.approx(9 / 24)
    other = patrol_presence(index, [[_route(legs)]], "u2", day_starts=[DAY0], convoys={})
    assert not other.any()


def test_convoy_is_covered_where_a_patrol_is_on_its_segment_as_it_passes(
    index: TargetIndex,
) -> None:
    edge = index.edge["chilas__dasu"]
    t_edge = index.edge_time_s["chilas__dasu"]
    on = Leg("move", "chilas", "dasu", "chilas__dasu", DAY0, DAY0 + timedelta(seconds=t_edge))
    convoy = {"dasu_islamabad": [ConvoyDay(("chilas__dasu",), 0.0)]}
    pres = patrol_presence(index, [[_route([on])]], "u1", day_starts=[DAY0], convoys=convoy)
    assert pres[0, index.pos["dasu_islamabad"]] == pytest.approx(1.0)
    late = {"dasu_islamabad": [ConvoyDay(("chilas__dasu",), t_edge + 3600.0)]}
    pres = patrol_presence(index, [[_route([on])]], "u1", day_starts=[DAY0], convoys=late)
    assert pres[0, index.pos["dasu_islamabad"]] == 0.0
    assert edge.length_m > 0


def test_checkpoint_covers_its_segment_end_sites_and_route_share(index: TargetIndex) -> None:
    e1, e2 = index.edge["chilas__dasu"], index.edge["dasu__pattan"]
    routes = {"dasu_islamabad": [(1.0, ["chilas__dasu", "dasu__pattan"])]}
    cov = checkpoint_coverage(index, ["chilas__dasu"], routes)
    assert cov[index.pos["chilas__dasu"]] == 1.0
    assert cov[index.pos["dasu_hpp"]] == 1.0 and cov[index.pos["diamer_bhasha"]] == 1.0
    share = e1.length_m / (e1.length_m + e2.length_m)
    assert cov[index.pos["dasu_islamabad"]] == pytest.approx(share)
    assert cov[index.pos["gwadar_port"]] == 0.0


def test_incidents_outside_the_corridor_are_not_used() -> None:
    from corridorguard.pipeline.forecast import events_from, forecast_risk

    sc = load_scenario("cpec")
    far = [{"lon": 36.3, "lat": 33.5, "time": DAY0 - timedelta(days=k)} for k in range(60)]
    fc = forecast_risk(sc, events_from(far), horizon_days=3, seed=0)
    assert fc.status == "prior" and fc.n_events == 0
    assert "60 of the 60 given incidents lie outside the corridor" in fc.reason
    assert fc.expected.sum() > 0  # flat prior, still a forecast
