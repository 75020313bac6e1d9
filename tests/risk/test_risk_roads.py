"""Risk on a real road network: per-segment risk from a forecast grid, the planning engines'
`--risk` file, and risk-aware convoy routes on the Andorra OSM extract.

The incidents here are NOTIONAL (generated round one point of Andorra's main road): no real
incident data exists for the OSM extracts in ../shared/data.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from corridorguard.cli import app
from corridorguard.risk import Events, Grid, relative_rates, road_segment_risk

OSM = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real" / "osm"
runner = CliRunner()
HOT = (1.583, 42.533)  # Encamp, on the CG-2 between Andorra la Vella and Pas de la Casa


def test_road_segment_risk_known_answer() -> None:
    grid = Grid.around_points([70.0, 70.5], [30.0, 30.2], cell_m=5000, buffer_m=30_000)
    lam = np.full(grid.n_active, 2.0)  # 2 expected incidents per 25 km² cell
    lon = np.array([70.1, 70.4, 80.0])  # the last one far outside the region
    lat = np.array([30.05, 30.1, 10.0])
    length = np.array([300.0, 1200.0, 500.0])
    expected, inside = road_segment_risk(grid, lam, lon, lat, length, buffer_m=1000)
    assert inside.tolist() == [1.0, 1.0, 0.0]
    density = 2.0 / 25e6
    assert expected[:2] == pytest.approx(density * 2000 * length[:2])
    assert expected[2] == 0.0


def test_around_points_is_around_events() -> None:
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(70, 71, 40), rng.uniform(30, 31, 40)
    ev = Events(lon=lon, lat=lat, t=np.sort(rng.uniform(0, 1e8, 40)), weight=np.ones(40))
    a = Grid.around_events(ev, cell_m=4000)
    b = Grid.around_points(lon, lat, cell_m=4000)
    assert (a.crs, a.x0, a.y0, a.nx, a.ny) == (b.crs, b.x0, b.y0, b.nx, b.ny)
    assert np.array_equal(a.mask, b.mask)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1e3, allow_nan=False), min_size=1, max_size=30), st.floats(0, 0.5))
def test_relative_rates(values: list[float], floor: float) -> None:
    rel = relative_rates(dict(enumerate(values)), floor)
    mean = float(np.mean(values))
    for k, v in enumerate(values):
        assert rel[k] == (pytest.approx(max(floor, v / mean)) if mean > 0 else 1.0)


def _notional_incidents(path: Path, n: int = 240, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    t0 = dt.date(2024, 1, 1)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "lon", "lat", "time", "type"])
        for i in range(n):
            if rng.random() < 0.7:
                lon, lat = HOT[0] + rng.normal(0, 0.004), HOT[1] + rng.normal(0, 0.003)
            else:
                lon, lat = rng.uniform(1.45, 1.75), rng.uniform(42.45, 42.62)
            day = t0 + dt.timedelta(days=int(rng.integers(0, 700)))
            w.writerow([i, round(lon, 5), round(lat, 5), day.isoformat(), "notional"])


def test_risk_forecast_on_osm_roads_then_risk_aware_convoy(tmp_path: Path) -> None:
    events, out = tmp_path / "notional.csv", tmp_path / "rf"
    _notional_incidents(events)
    pbf = str(OSM / "andorra-latest.osm.pbf")
    r = runner.invoke(
        app,
        [
            "risk",
            "forecast",
            "--events",
            str(events),
            "--format",
            "csv",
            "--cell-km",
            "1",
            "--model",
            "count",
            "--roads",
            pbf,
            "--out",
            str(out),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    planning = json.loads((out / "planning_risk.json").read_text())
    assert set(planning) == {"edges"}
    assert len(planning["edges"]) == doc["roads"]["segments"] > 20_000
    rel = np.array(list(planning["edges"].values()))
    assert rel.min() >= 0.1 and rel.max() > 5  # the hotspot stands out
    with open(out / "road_risk.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(planning["edges"])
    near = [
        r
        for r in rows
        if abs(float(r["lon"]) - HOT[0]) < 0.003 and abs(float(r["lat"]) - HOT[1]) < 0.003
    ]
    far = [r for r in rows if float(r["lon"]) > 1.7]
    assert near and far
    assert min(float(r["relative"]) for r in near) > max(float(r["relative"]) for r in far)

    def convoy(lam: str) -> dict:
        res = runner.invoke(
            app,
            [
                "route",
                "convoy",
                "--roads",
                pbf,
                "--from",
                "1.5218,42.5063",
                "--to",
                "1.7334,42.5400",
                "--risk",
                str(out / "planning_risk.json"),
                "--risk-weight",
                lam,
                "--json",
            ],
        )
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout)["routes"][0]

    fast, safe = convoy("0"), convoy("600")
    assert safe["exposure"] < 0.7 * fast["exposure"]  # it goes round the hotspot...
    assert safe["eta_s"] > fast["eta_s"]  # ... and takes longer


def test_route_convoy_roads_rejects_a_foreign_risk_file(tmp_path: Path) -> None:
    risk = tmp_path / "risk.json"
    risk.write_text(json.dumps({"edges": {"dasu__pattan": 2.0}}))
    res = runner.invoke(
        app,
        [
            "route",
            "convoy",
            "--roads",
            str(OSM / "liechtenstein-latest.osm.pbf"),
            "--from",
            "9.52,47.14",
            "--to",
            "9.51,47.20",
            "--risk",
            str(risk),
        ],
    )
    assert res.exit_code == 2 and "unknown road segment 'dasu__pattan'" in res.stderr
