"""Fixtures for the routing tests: a small grid corridor (notional) and the OSM extracts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from corridorguard.routing.graph import RoadGraph
from corridorguard.routing.osm import read_osm_pbf
from corridorguard.scenario.model import Scenario


@pytest.fixture(scope="session")
def grid(make_grid: Callable[..., Scenario]) -> Scenario:
    return make_grid()


OSM = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real" / "osm"


@pytest.fixture(scope="session")
def andorra() -> RoadGraph:
    return read_osm_pbf(OSM / "andorra-latest.osm.pbf")


@pytest.fixture(scope="session")
def liechtenstein() -> RoadGraph:
    return read_osm_pbf(OSM / "liechtenstein-latest.osm.pbf")
