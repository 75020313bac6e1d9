"""``corridorguard route convoy`` on the built-in CPEC scenario."""

from __future__ import annotations

import json
from pathlib import Path

import gpxpy
from typer.testing import CliRunner

from corridorguard.cli import app

runner = CliRunner()


def test_convoy_dasu_islamabad(tmp_path: Path) -> None:
    png, gpx, gj = tmp_path / "c.png", tmp_path / "c.gpx", tmp_path / "c.geojson"
    res = runner.invoke(
        app,
        [
            "route",
            "convoy",
            "--scenario",
            "cpec",
            "--from",
            "dasu",
            "--to",
            "islamabad",
            "--alternatives",
            "3",
            "--png",
            str(png),
            "--gpx",
            str(gpx),
            "--geojson",
            str(gj),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["movement"] == "dasu_islamabad" and out["day_only"] is True
    routes = out["routes"]
    assert len(routes) >= 2
    assert routes[0]["nodes"][0] == "dasu" and routes[0]["nodes"][-1] == "islamabad"
    assert abs(sum(r["probability"] for r in routes) - 1) < 1e-9
    assert "dasu__pattan" in out["chokepoints"]  # one road leaves Dasu southwards
    assert len(out["schedule"]) == 14 and out["seed"] == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert len(gpxpy.parse(gpx.read_text()).routes) == len(routes)
    assert len(json.loads(gj.read_text())["features"]) == len(routes)
    text = runner.invoke(
        app,
        [
            "route",
            "convoy",
            "--scenario",
            "cpec",
            "--from",
            "dasu",
            "--to",
            "islamabad",
            "--seed",
            "3",
        ],
    )
    assert text.exit_code == 0 and "seed 3" in text.stdout


def test_convoy_errors() -> None:
    res = runner.invoke(
        app,
        ["route", "convoy", "--scenario", "cpec", "--from", "dasu", "--to", "atlantis", "--json"],
    )
    assert res.exit_code == 2
    assert json.loads(res.stdout)["error"] == "not_found"
    res = runner.invoke(
        app,
        [
            "route",
            "convoy",
            "--scenario",
            "cpec",
            "--from",
            "dasu",
            "--to",
            "islamabad",
            "--movement",
            "gwadar_karachi",
        ],
    )
    assert res.exit_code == 2 and "gwadar" in res.stderr
