"""``corridorguard scenario ...`` and ``corridorguard demo``: exit codes, JSON, files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corridorguard.cli import app
from corridorguard.scenario import load_scenario
from corridorguard.scenario.loader import BUILTIN_DIR

runner = CliRunner()
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    dest = tmp_path / "broken"
    shutil.copytree(BUILTIN_DIR / "cpec", dest)
    sites = json.loads((dest / "sites.geojson").read_text("utf-8"))
    sites["features"][3]["properties"]["criticality"] = -1
    (dest / "sites.geojson").write_text(json.dumps(sites), "utf-8")
    text = (dest / "scenario.yaml").read_text("utf-8")
    (dest / "scenario.yaml").write_text(text.replace("base: karachi", "base: xyz", 1), "utf-8")
    return dest


def test_list() -> None:
    result = runner.invoke(app, ["scenario", "list"])
    assert result.exit_code == 0
    assert result.output.startswith("cpec\t")
    result = runner.invoke(app, ["scenario", "list", "--json"])
    assert json.loads(result.output)[0]["name"] == "cpec"


def test_show_json() -> None:
    result = runner.invoke(app, ["scenario", "show", "cpec", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["counts"]["nodes"] == len(load_scenario("cpec").nodes)
    assert data["counts"]["components"] == 1
    assert data["labels"]["roads"] == "schematic"
    routes = {r["route"]: r for r in data["routes"]}
    assert routes["N-35"]["parts"] == 1 and routes["N-35"]["length_km"] > 500
    assert len(data["forces"]) == 2 and data["forces"][0]["units"]


def test_show_text_mentions_labels_and_tables() -> None:
    result = runner.invoke(app, ["scenario", "show", "cpec"])
    assert result.exit_code == 0, result.output
    for word in ("schematic", "notional", "routes", "sites", "N-35", "Partner force A"):
        assert word in result.output


def test_show_folder_path(tmp_path: Path) -> None:
    shutil.copytree(BUILTIN_DIR / "cpec", tmp_path / "mine")
    result = runner.invoke(app, ["scenario", "show", str(tmp_path / "mine"), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["name"] == "cpec"


def test_validate_valid() -> None:
    result = runner.invoke(app, ["scenario", "validate", str(BUILTIN_DIR / "cpec")])
    assert result.exit_code == 0
    assert "valid" in result.output


def test_validate_broken_lists_every_error(broken: Path) -> None:
    result = runner.invoke(app, ["scenario", "validate", str(broken)])
    assert result.exit_code == 2
    lines = [ln for ln in result.stdout.splitlines() if ln.strip()]
    assert len(lines) == 2
    assert lines[0] == (
        "broken/sites.geojson: features[3].properties.criticality: "
        "Input should be greater than or equal to 0 (got -1)"
    )
    assert lines[1].startswith("broken/scenario.yaml:")
    assert "forces[1].units[" in lines[1] and "unknown node 'xyz'" in lines[1]
    assert "Traceback" not in result.output


def test_validate_broken_json(broken: Path) -> None:
    result = runner.invoke(app, ["scenario", "validate", str(broken), "--json"])
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert [e["file"] for e in data["errors"]] == ["broken/sites.geojson", "broken/scenario.yaml"]
    assert data["errors"][1]["line"] > 0 and data["errors"][0]["field"].endswith("criticality")


def test_show_broken_is_one_line_error(broken: Path) -> None:
    result = runner.invoke(app, ["scenario", "show", str(broken)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: broken/sites.geojson: features[3]")
    assert "(and 1 more problem(s))" in result.stderr
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["scenario", "show", str(broken), "--json"])
    data = json.loads(result.stdout)
    assert data["error"] == "invalid" and len(data["errors"]) == 2


def test_unknown_scenario_exit_2() -> None:
    result = runner.invoke(app, ["scenario", "export", "atlantis", "--out", "x.geojson", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"] == "not_found"


def test_export(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "cpec.geojson"
    result = runner.invoke(app, ["scenario", "export", "cpec", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text("utf-8"))
    assert data["type"] == "FeatureCollection"
    assert json.loads(result.stdout)["features"] == len(data["features"])
    assert {f["properties"]["layer"] for f in data["features"]} == {"nodes", "roads", "sites"}


def test_map_and_demo(tmp_path: Path) -> None:
    out = tmp_path / "map.png"
    result = runner.invoke(app, ["scenario", "map", "cpec", "--out", str(out), "--dpi", "60"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == PNG_MAGIC
    demo_dir = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--out", str(demo_dir)])
    assert result.exit_code == 0, result.output
    assert (demo_dir / "corridor.png").read_bytes()[:8] == PNG_MAGIC
    assert json.loads((demo_dir / "cpec.geojson").read_text("utf-8"))["features"]
    assert str(demo_dir / "corridor.png") in result.output
