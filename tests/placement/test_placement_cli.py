"""``corridorguard place ...`` on a JSON MCLP file and on the built-in CPEC scenario."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from corridorguard.cli import app

runner = CliRunner()

PROBLEM = {
    "demand": [
        {"id": "d1", "lon": 72.90, "lat": 35.27, "weight": 5.0},
        {"id": "d2", "lon": 73.50, "lat": 34.50, "weight": 3.0},
        {"id": "d3", "lon": 73.05, "lat": 33.70, "weight": 2.0},
    ],
    "candidates": [
        {"id": "c1", "lon": 72.92, "lat": 35.28},
        {"id": "c2", "lon": 73.49, "lat": 34.52},
        {"id": "c3", "lon": 73.06, "lat": 33.69},
    ],
    "radius_m": 10000,
    "p": 2,
}


def test_place_solve_json(tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text(json.dumps(PROBLEM))
    res = runner.invoke(app, ["place", "solve", str(f), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out == {
        "selected": ["c1", "c2"],
        "covered_weight": 8.0,
        "bound": 8.0,
        "gap": 0.0,
        "method": "exact",
    }
    res = runner.invoke(app, ["place", "solve", str(f), "--method", "heuristic"])
    assert res.exit_code == 0 and "c1, c2" in res.stdout


def test_place_solve_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"demand": [],\n "p": 1')
    res = runner.invoke(app, ["place", "solve", str(bad), "--json"])
    assert res.exit_code == 2
    err = json.loads(res.stdout)
    assert err["ok"] is False and err["file"] == str(bad) and err["line"] == 2
    bad.write_text(json.dumps({**PROBLEM, "p": 9}))
    res = runner.invoke(app, ["place", "solve", str(bad)])
    assert res.exit_code == 2 and "p: must be an integer" in res.stderr
    res = runner.invoke(app, ["place", "solve", str(tmp_path / "none.json")])
    assert res.exit_code == 2 and "no such file" in res.stderr


def test_place_on_cpec(tmp_path: Path) -> None:
    png = tmp_path / "drones.png"
    gaps = tmp_path / "gaps.geojson"
    res = runner.invoke(
        app,
        [
            "place",
            "sensors",
            "--scenario",
            "cpec",
            "--kind",
            "drone",
            "--count",
            "4",
            "--png",
            str(png),
            "--gaps",
            str(gaps),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert len(out["selected"]) == 4 and 0 < out["coverage_share"] < 1
    assert out["data_label"] == "schematic"
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert json.loads(gaps.read_text())["type"] == "FeatureCollection"
    res = runner.invoke(
        app,
        [
            "place",
            "sensors",
            "--scenario",
            "cpec",
            "--kind",
            "camera",
            "--count",
            "5",
            "--method",
            "heuristic",
        ],
    )
    assert res.exit_code == 0 and "cameras at" in res.stdout
    res = runner.invoke(
        app, ["place", "checkpoints", "--scenario", "cpec", "--count", "2", "--frontier", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [r["checkpoints"] for r in out["frontier"]] == [1, 2]
    assert out["burden_vehicle_hours_per_day"] > 0
    res = runner.invoke(
        app,
        [
            "place",
            "qrf",
            "--scenario",
            "cpec",
            "--minutes",
            "60",
            "--png",
            str(tmp_path / "q.png"),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert 0 < out["share_within"] < 1 and "dasu_hpp" in out["sites"]


def test_place_user_errors() -> None:
    res = runner.invoke(app, ["place", "sensors", "--scenario", "nowhere", "--json"])
    assert res.exit_code == 2 and json.loads(res.stdout)["ok"] is False
    res = runner.invoke(app, ["place", "sensors", "--scenario", "cpec", "--kind", "tank"])
    assert res.exit_code == 2 and "camera or drone" in res.stderr
