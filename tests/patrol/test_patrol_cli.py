"""``corridorguard patrol plan`` end to end, and the GeoJSON / GPX / KML / PNG exports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import gpxpy
import pytest
from typer.testing import CliRunner

from corridorguard.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("patrol")
    args = ["patrol", "plan", "--scenario", "grid:3x4:1", "--days", "2", "--shift-hours", "6"]
    args += ["--slot-minutes", "60", "--seed", "7", "--out", str(out), "--json"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout), out


def test_json_report(run: tuple[dict, Path]) -> None:
    data, out = run
    for key in (
        "defender_utility",
        "attacker_utility",
        "value_of_coordination",
        "coverage",
        "predictability",
        "forces",
        "seed",
    ):
        assert key in data
    assert data["seed"] == 7 and data["days"] == 2
    assert data["labels"]["roads"] == "notional"
    assert set(data["forces"]) == {"west", "east"}
    for force in data["forces"].values():
        for unit in force["units"].values():
            assert len(unit["days"]) == 2
            for day in unit["days"]:
                for route in day["routes"]:
                    assert route["legs"][0]["from"] == route["legs"][-1]["to"]
    assert json.loads((out / "plan.json").read_text())["seed"] == 7


def test_files_per_unit_and_day(run: tuple[dict, Path]) -> None:
    data, out = run
    units = [u for f in data["forces"].values() for u in f["units"]]
    for unit in units:
        for day in (0, 1):
            base = out / "routes" / unit / f"day{day:02d}"
            gj = json.loads(base.with_suffix(".geojson").read_text())
            assert gj["type"] == "FeatureCollection" and gj["features"]
            kinds = {f["geometry"]["type"] for f in gj["features"]}
            assert kinds <= {"Point", "LineString"}
            for f in gj["features"]:
                assert f["properties"]["unit"] == unit
            gpx = gpxpy.parse(base.with_suffix(".gpx").read_text())
            assert gpx.tracks and all(
                p.time is not None for t in gpx.tracks for p in t.segments[0].points
            )
            root = ET.fromstring(base.with_suffix(".kml").read_text())
            assert root.tag.endswith("kml")
    png = Path(data["files"]["map"])
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_text_output_and_errors(tmp_path: Path) -> None:
    args = ["patrol", "plan", "--scenario", "grid:2x3", "--days", "1", "--out", str(tmp_path)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "value of coordination" in res.stdout
    bad = runner.invoke(app, ["patrol", "plan", "--scenario", "nowhere", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "nowhere" in bad.output
    bad = runner.invoke(
        app,
        [
            "patrol",
            "plan",
            "--scenario",
            "grid:2x3",
            "--out",
            str(tmp_path),
            "--slot-minutes",
            "7",
            "--json",
        ],
    )
    assert bad.exit_code == 2
    assert json.loads(bad.stdout)["field"] == "slot_minutes"


def test_column_generation_from_the_cli(tmp_path: Path) -> None:
    args = ["patrol", "plan", "--scenario", "grid:2x3", "--days", "1", "--out", str(tmp_path)]
    args += [
        "--shift-hours",
        "4",
        "--max-consecutive-hours",
        "2",
        "--min-rest-hours",
        "1",
        "--json",
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["solver"] == "column-generation"


def test_scenario_json_file(tmp_path: Path) -> None:
    from corridorguard.patrol.synthetic import grid_scenario

    path = tmp_path / "sc.json"
    path.write_text(grid_scenario(2, 3, seed=3).model_dump_json())
    res = runner.invoke(
        app,
        [
            "patrol",
            "plan",
            "--scenario",
            str(path),
            "--days",
            "1",
            "--out",
            str(tmp_path / "o"),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["scenario"] == "grid-2x3-s3"


def test_risk_file_from_the_risk_engine(tmp_path: Path) -> None:
    from corridorguard.patrol.targets import risk_from_assets

    risk = {
        "sites": [{"id": "site0", "probability": 0.4}],
        "edges": [{"id": "e0_0_0_1", "probability": 0.1}, {"id": "e0_1_0_2", "probability": 0.0}],
    }
    mult = risk_from_assets(risk)
    assert mult["site0"] == pytest.approx(0.4 / (0.5 / 3))
    assert mult["e0_1_0_2"] == pytest.approx(0.1)  # floored
    path = tmp_path / "risk.json"
    path.write_text(json.dumps(risk))
    args = ["patrol", "plan", "--scenario", "grid:2x3", "--days", "1", "--out", str(tmp_path)]
    res = runner.invoke(app, [*args, "--risk", str(path), "--json"])
    assert res.exit_code == 0, res.output
    path.write_text(json.dumps({"sites": [{"id": "x", "probability": 3}]}))
    bad = runner.invoke(app, [*args, "--risk", str(path), "--json"])
    assert bad.exit_code == 2 and json.loads(bad.stdout)["file"] == str(path)
