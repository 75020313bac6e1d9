"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from pathlib import Path

import pytest

from corridorguard.scenario.model import (
    Edge,
    Force,
    Jurisdiction,
    Movement,
    Node,
    Scenario,
    Site,
    Unit,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real datasets; read-only)."""
    path = SHARED / "data"
    assert path.is_dir(), f"missing {path}"
    return path


def grid_scenario(rows: int = 4, cols: int = 5, *, sites: tuple[Site, ...] = ()) -> Scenario:
    """A notional rows × cols grid near Dasu; row 0 is a fast highway, the rest slower."""
    nodes = [
        Node(id=f"n{r}_{c}", name=f"n{r}_{c}", lon=72.0 + 0.2 * c, lat=35.0 + 0.15 * r)
        for r in range(rows)
        for c in range(cols)
    ]
    edges = []
    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols:
                edges.append(
                    Edge(
                        id=f"h{r}_{c}",
                        source=f"n{r}_{c}",
                        target=f"n{r}_{c + 1}",
                        route="N-35",
                        length_m=20_000 + 1000 * r,
                        speed_kmh=80 if r == 0 else 50,
                        traffic_vph=400 if r == 0 else 50,
                    )
                )
            if r + 1 < rows:
                edges.append(
                    Edge(
                        id=f"v{r}_{c}",
                        source=f"n{r}_{c}",
                        target=f"n{r + 1}_{c}",
                        route="L",
                        road_class="local",
                        length_m=17_000,
                        speed_kmh=40,
                        traffic_vph=20,
                    )
                )
    qrf = Unit(id="qrf1", kind="qrf", base="n0_0", speed_kmh=60)
    force = Force(id="f1", name="Force", jurisdiction=Jurisdiction(provinces=("X",)), units=(qrf,))
    mv = Movement(
        id="m1",
        name="convoy",
        origin="n0_0",
        destination=f"n0_{cols - 1}",
        window_start=time(7, 0),
        window_end=time(9, 0),
        people=30,
    )
    return Scenario(
        name="grid",
        labels={"roads": "notional"},
        nodes=tuple(nodes),
        edges=tuple(edges),
        forces=(force,),
        movements=(mv,),
        sites=sites,
    )


@pytest.fixture(scope="session")
def make_grid() -> Callable[..., Scenario]:
    """The notional grid-corridor builder shared by the routing and placement tests."""
    return grid_scenario


@pytest.fixture(autouse=True, scope="session")
def _cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Caches (parsed road graphs) go to a temporary folder, not the user's cache."""
    import os

    os.environ["CORRIDORGUARD_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
