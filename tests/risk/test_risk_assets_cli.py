"""Asset risk (known answers on a flat forecast) and the ``risk`` CLI on the real files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from corridorguard.cli import app
from corridorguard.risk import Grid, asset_risk, laea_crs, scenario_covariates
from corridorguard.scenario.model import Edge, Node, Scenario, Site

MAPPING = json.dumps(
    {
        "time": "Date",
        "lon": "Longitude",
        "lat": "Latitude",
        "type": "Primary Type",
        "source_id": "Case Number",
        "time_format": "%m/%d/%Y %I:%M:%S %p",
    }
)


def risk_cli(*words: str, **options: str | bool) -> Result:
    """``corridorguard WORDS --opt-name VALUE ...`` (``True`` gives a bare flag)."""
    argv = list(words)
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        argv += [flag] if value is True else [flag, str(value)]
    return CliRunner().invoke(app, argv)


def _scenario(lon0: float = 70.0, lat0: float = 30.0) -> Scenario:
    return Scenario(
        name="t",
        nodes=(
            Node(id="a", name="A", lon=lon0, lat=lat0),
            Node(id="b", name="B", lon=lon0 + 0.2, lat=lat0),
        ),
        edges=(Edge(id="e1", source="a", target="b", route="N-1", length_m=20000, speed_kmh=60),),
        sites=(
            Site(id="s1", name="Dam", type="dam", lon=lon0 + 0.1, lat=lat0 + 0.1, criticality=4),
            Site(id="s2", name="Edge", type="camp", lon=lon0 + 0.6, lat=lat0, criticality=1),
        ),
    )


def test_asset_risk_on_a_flat_forecast() -> None:
    sc = _scenario()
    g0 = Grid.around_scenario(sc, cell_m=500.0, buffer_m=8000.0)
    # flat forecast over a box round nodes a, b and the dam only (s2 lies outside it)
    g = Grid(laea_crs(70.1, 30.05), -15000, -15000, 500.0, 60, 60, np.ones((60, 60), dtype=bool))
    assert g0.n_active > 0
    density = 0.01  # expected events per cell (0.25 km²) -> 0.04 per km²
    risk = asset_risk(sc, g, np.full(g.n_active, density), site_radius_m=3000, edge_buffer_m=1000)
    dam, far = risk.sites
    want = 0.04 * np.pi * 9.0
    assert dam.expected == pytest.approx(want, rel=0.02)
    assert dam.weighted == pytest.approx(4 * dam.expected)
    assert dam.probability == pytest.approx(1 - np.exp(-dam.expected))
    assert dam.coverage == pytest.approx(1.0, abs=0.02)
    assert far.expected == 0 and far.coverage == 0
    (edge,) = risk.edges
    length_km = (
        float(np.hypot(*np.diff(np.array(g.project([70.0, 70.2], [30.0, 30.0])), axis=1).ravel()))
        / 1000
    )
    assert edge.expected == pytest.approx(0.04 * (2 * length_km + np.pi), rel=0.03)
    rows = risk.rows()
    assert [r["kind"] for r in rows] == ["site", "site", "edge"]
    assert json.loads(json.dumps(risk.to_json()))["sites"][0]["id"] == "s1"


def test_scenario_covariates_are_distances() -> None:
    sc = _scenario()
    g = Grid.around_scenario(sc, cell_m=1000.0, buffer_m=5000.0)
    cov = scenario_covariates(sc, g)
    assert set(cov) == {"log1p_dist_road_km", "log1p_dist_site_km"}
    road, site = np.expm1(cov["log1p_dist_road_km"]), np.expm1(cov["log1p_dist_site_km"])
    assert road.min() < 1.0 and site.min() < 1.0
    # every cell is in the mask because it is near the road or near a site (5 km + half diagonal)
    assert np.all(np.minimum(road, site) <= 5.8)
    assert road.max() > 30  # cells round the far site are far from the road


def test_cli_backtest_json_on_chicago(shared_data: Path) -> None:
    csv = shared_data / "real" / "chicago_southside_2016_sample.csv"
    r = risk_cli(
        "risk",
        "backtest",
        events=str(csv),
        format="csv",
        mapping=MAPPING,
        cell_km="0.15",
        start="2016-10-01",
        end="2016-12-31",
        step_days="7",
        horizon_days="7",
        models="uniform,count,kde",
        no_tune=True,
        n_boot="100",
        json=True,
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["n_origins"] == 13
    assert doc["n_test_events"] + doc["n_test_events_outside_region"] == 241
    for m in doc["models"].values():
        assert set(m["hit_rate"]) == set(m["pai"]) == {"0.01", "0.02", "0.05", "0.1", "0.2"}
        assert isinstance(m["loglik_per_event"], float) and isinstance(m["brier"], float)
    assert doc["best_model"]["name"] in doc["models"]
    assert {"estimate", "low", "high"} <= set(doc["best_model"]["pai_ratio"])


def test_cli_backtest_on_ucdp_reduced(shared_data: Path) -> None:
    ged = shared_data / "real" / "ucdp" / "ged_syria.csv"
    r = risk_cli(
        "risk",
        "backtest",
        events=str(ged),
        format="ucdp",
        cell_km="25",
        start="2019-06-01",
        end="2019-07-01",
        step_days="7",
        horizon_days="7",
        models="uniform,count,stkde",
        no_tune=True,
        n_boot="50",
        json=True,
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["n_origins"] == 4 and doc["n_test_events"] > 50
    assert doc["models"]["count"]["pai"]["0.05"] > 1.5


def test_cli_forecast_writes_grid_heatmap_and_assets(shared_data: Path, tmp_path: Path) -> None:
    csv = shared_data / "real" / "chicago_southside_2016_sample.csv"
    sc = _scenario(-87.63, 41.78)
    sc_file = tmp_path / "sc.json"
    sc_file.write_text(sc.model_dump_json(), encoding="utf-8")
    out = tmp_path / "out"
    r = risk_cli(
        "risk",
        "forecast",
        events=str(csv),
        format="csv",
        mapping=MAPPING,
        cell_km="0.3",
        model="stkde",
        horizon_days="7",
        out=str(out),
        scenario=str(sc_file),
        json=True,
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["model"] == "stkde" and doc["start"].startswith("2017-01-01")
    gj = json.loads((out / "risk_grid.geojson").read_text())
    assert len(gj["features"]) == doc["n_cells"]
    total = sum(f["properties"]["expected"] for f in gj["features"])
    assert total == pytest.approx(doc["expected_total"], rel=1e-6)
    assert (out / "risk_heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = (out / "asset_risk.csv").read_text().splitlines()
    assert lines[0].startswith("kind,id,name") and len(lines) == 4


def test_cli_errors_are_one_line(tmp_path: Path, shared_data: Path) -> None:
    r = risk_cli(
        "risk",
        "backtest",
        events=str(tmp_path / "nope.csv"),
        format="ucdp",
        cell_km="10",
        start="2019-01-01",
        end="2019-02-01",
    )
    assert r.exit_code == 2 and "no such file" in r.output and "Traceback" not in r.output
    ged = shared_data / "real" / "ucdp" / "ged_syria.csv"
    r = risk_cli(
        "risk",
        "backtest",
        events=str(ged),
        format="ucdp",
        cell_km="10",
        start="2019-01-01",
        end="2019-02-01",
        models="magic",
        json=True,
    )
    assert r.exit_code == 2
    assert json.loads(r.stdout)["error"] == "config"


def test_cli_backtest_with_region_and_scenario_covariates(
    shared_data: Path, tmp_path: Path
) -> None:
    csv = shared_data / "real" / "chicago_southside_2016_sample.csv"
    region = tmp_path / "region.geojson"
    ring = [[-87.70, 41.72], [-87.55, 41.72], [-87.55, 41.85], [-87.70, 41.85], [-87.70, 41.72]]
    region.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}), encoding="utf-8")
    sc_file = tmp_path / "sc.json"
    sc_file.write_text(_scenario(-87.66, 41.76).model_dump_json(), encoding="utf-8")
    r = risk_cli(
        "risk",
        "backtest",
        events=str(csv),
        format="csv",
        mapping=MAPPING,
        cell_km="0.5",
        start="2016-12-03",
        end="2016-12-31",
        models="uniform",
        region=str(region),
        scenario=str(sc_file),
        no_tune=True,
        n_boot="50",
        json=True,
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert set(doc["models"]) == {"uniform", "etas_cov"}
    # ~12.4 km x 14.4 km at 0.5 km cells
    assert 650 <= doc["n_cells"] <= 760
    assert doc["best_model"]["name"] == "etas_cov"


def test_cli_forecast_on_the_corridor_region(shared_data: Path, tmp_path: Path) -> None:
    csv = shared_data / "real" / "chicago_southside_2016_sample.csv"
    sc_file = tmp_path / "sc.json"
    sc_file.write_text(_scenario(-87.66, 41.76).model_dump_json(), encoding="utf-8")
    base = [
        "risk",
        "forecast",
        "--events",
        str(csv),
        "--format",
        "csv",
        "--mapping",
        MAPPING,
        "--cell-km",
        "0.5",
        "--model",
        "count",
        "--out",
        str(tmp_path / "o"),
        "--json",
    ]
    r = CliRunner().invoke(app, [*base, "--scenario", str(sc_file), "--corridor-km", "1"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    # a 2 km wide band along ~16.6 km of road plus a 1 km disc per site, at 0.25 km² cells
    assert 120 <= doc["n_cells"] <= 190
    risk = json.loads((tmp_path / "o" / "asset_risk.json").read_text())
    # the 2 km road band is about half inside the 1 km corridor region
    assert 0.35 < risk["edges"][0]["coverage"] < 0.65
    # the planning engines' --risk file: the same assets, relative rates (mean 1, floor 0.1)
    planning = json.loads((tmp_path / "o" / "planning_risk.json").read_text())
    assert set(planning["edges"]) == {e["id"] for e in risk["edges"]}
    assert set(planning["sites"]) == {s["id"] for s in risk["sites"]}
    per_km = {e["id"]: e["expected"] / e["length_m"] for e in risk["edges"]}
    mean = sum(per_km.values()) / len(per_km)
    for eid, v in planning["edges"].items():
        assert v == pytest.approx(max(0.1, per_km[eid] / mean))
    from corridorguard._cli.place import read_risk

    edges, sites = read_risk(tmp_path / "o" / "planning_risk.json")
    assert edges == planning["edges"] and sites == planning["sites"]
    r = CliRunner().invoke(app, [*base, "--corridor-km", "1"])
    assert r.exit_code == 2 and "needs --scenario" in r.output
