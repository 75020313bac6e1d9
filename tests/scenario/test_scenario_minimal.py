"""A minimal hand-written scenario folder, as documented in docs/scenario.md."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

from corridorguard.report.maps import corridor_figure
from corridorguard.scenario import load_scenario, scenario_to_geojson, validate_scenario_folder

SCENARIO_YAML = """\
# A two-segment toy corridor (every value notional).
name: toy
title: Toy corridor
labels: {nodes: approximate, roads: schematic, sites: notional, forces: notional}
attribution: invented for a test
forces:
  - id: f1
    name: Force one
    jurisdiction: {provinces: [North]}
    units:
      - {id: p1, kind: patrol, count: 2, base: a}
      - {id: d1, kind: drone, base: b, range_km: 30, endurance_min: 60}
movements:
  - id: m1
    name: Shift change
    origin: a
    destination: c
    window_start: 6:30      # unquoted, YAML 1.1 would read 390
    window_end: 08:00
    people: 12
"""


def _point(fid: str, lon: float, lat: float, **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def _road(a: str, b: str, pa: list[float], pb: list[float], length: float) -> dict[str, object]:
    props = {"id": f"{a}-{b}", "source": a, "target": b, "route": "R1", "length_m": length,
             "speed_kmh": 60}  # fmt: skip
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [pa, [10.05, 50.05], pb]},
        "properties": props,
    }


def _write(folder: Path) -> None:
    folder.mkdir()
    (folder / "scenario.yaml").write_text(SCENARIO_YAML, "utf-8")
    nodes = [
        _point("a", 10.0, 50.0, name="A", province="North"),
        _point("b", 10.1, 50.1, name="B", province="North"),
        _point("c", 10.3, 50.1, name="C", province="South", approximate=True),
    ]
    roads = [
        _road("a", "b", [10.0, 50.0], [10.1, 50.1], 14_500),
        _road("b", "c", [10.1, 50.1], [10.3, 50.1], 16_000),
    ]
    sites = [_point("s1", 10.12, 50.11, name="Plant", type="power_plant", criticality=3, node="b")]
    for name, feats in (("nodes", nodes), ("roads", roads), ("sites", sites)):
        fc = {"type": "FeatureCollection", "features": feats}
        (folder / f"{name}.geojson").write_text(json.dumps(fc, indent=2), "utf-8")


def test_minimal_folder_loads(tmp_path: Path) -> None:
    folder = tmp_path / "toy"
    _write(folder)
    assert validate_scenario_folder(folder) == []
    sc = load_scenario(folder)
    assert [n.id for n in sc.nodes] == ["a", "b", "c"]  # ids from the Feature "id" member
    assert sc.node("c").approximate and not sc.node("a").approximate
    assert sc.edges[0].terrain == "plain" and sc.edges[0].road_class == "national_highway"
    assert sc.sites[0].workers == 0 and sc.sites[0].approximate
    assert sc.movements[0].window_start == time(6, 30)
    assert sc.attribution == ("invented for a test",)
    assert sc.boundary is None and sc.circuity == {}
    assert sc.node_in_jurisdiction("f1", "a") and not sc.node_in_jurisdiction("f1", "c")
    assert len(scenario_to_geojson(sc)["features"]) == 6
    fig = corridor_figure(sc)
    assert not fig.axes[0].child_axes  # too small for a zoomed inset


def test_minimal_folder_errors_with_lines(tmp_path: Path) -> None:
    folder = tmp_path / "toy"
    _write(folder)
    text = SCENARIO_YAML.replace("base: b,", "base: c,")  # c is in South: outside f1
    (folder / "scenario.yaml").write_text(text, "utf-8")
    errors = validate_scenario_folder(folder)
    assert [(e.file, e.line, e.field) for e in errors] == [
        ("toy/scenario.yaml", 12, "forces[0].units[1].base")
    ]
