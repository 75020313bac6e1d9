"""Fixtures for the placement tests: a small notional grid corridor with sites."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from corridorguard.scenario.model import Scenario, Site

SITES = (
    Site(id="dam", name="Dam", type="dam", lon=72.41, lat=35.16, criticality=5, node="n1_2"),
    Site(id="camp", name="Camp", type="camp", lon=72.0, lat=35.45, criticality=2, node="n3_0"),
)


@pytest.fixture(scope="session")
def grid(make_grid: Callable[..., Scenario]) -> Scenario:
    return make_grid(sites=SITES)
