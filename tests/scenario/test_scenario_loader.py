"""Scenario folders: every problem named by file, field path and (YAML) line; round trip."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridorguard.errors import CorridorError, NotFoundError, ValidationError
from corridorguard.scenario import (
    load_scenario,
    scenario_to_geojson,
    validate_scenario_folder,
    write_scenario_folder,
)
from corridorguard.scenario._yaml import load_yaml
from corridorguard.scenario.loader import BUILTIN_DIR, ScenarioInvalid
from corridorguard.scenario.model import Scenario


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    dest = tmp_path / "cpec"
    shutil.copytree(BUILTIN_DIR / "cpec", dest)
    return dest


def edit_layer(folder: Path, fname: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = folder / fname
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data), "utf-8")


def edit_yaml(folder: Path, old: str, new: str) -> int:
    """Replace the first ``old`` in scenario.yaml; return its 1-based line."""
    path = folder / "scenario.yaml"
    text = path.read_text("utf-8")
    assert old in text
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), "utf-8")
    return line


def only(errors: list[CorridorError]) -> CorridorError:
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def props(i: int, **kw: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        for key, value in kw.items():
            if value is _DELETE:
                del data["features"][i]["properties"][key]
            else:
                data["features"][i]["properties"][key] = value

    return change


_DELETE = object()


# --- GeoJSON layers --------------------------------------------------------------------------


def test_negative_criticality(folder: Path) -> None:
    edit_layer(folder, "sites.geojson", props(3, criticality=-1))
    err = only(validate_scenario_folder(folder))
    assert isinstance(err, ValidationError)
    assert err.file == "cpec/sites.geojson"
    assert err.field == "features[3].properties.criticality"
    assert "greater than or equal to 0" in err.message and "-1" in err.message
    assert str(err).startswith("cpec/sites.geojson: features[3].properties.criticality: ")


def test_geojson_line_numbers_when_features_are_on_their_own_lines(folder: Path) -> None:
    # The shipped files hold one feature per line: line = index + 2.
    edit = json.loads((folder / "sites.geojson").read_text("utf-8"))
    edit["features"][3]["properties"]["criticality"] = 9
    (folder / "sites.geojson").write_text(json.dumps(edit, indent=2), "utf-8")
    err = only(validate_scenario_folder(folder))
    lines = (folder / "sites.geojson").read_text("utf-8").splitlines()
    assert err.line is not None and lines[err.line - 1].strip() == "{"
    assert lines[err.line].strip() == '"type": "Feature",'
    assert sum(1 for ln in lines[: err.line] if ln == "    {") == 4  # the 4th feature (index 3)
    assert str(err).startswith(f"cpec/sites.geojson:{err.line}: features[3].properties")


def test_missing_field(folder: Path) -> None:
    edit_layer(folder, "sites.geojson", props(4, name=_DELETE))
    err = only(validate_scenario_folder(folder))
    assert (err.file, err.field) == ("cpec/sites.geojson", "features[4].properties.name")
    assert "missing" in err.message


def test_unknown_property_is_reported(folder: Path) -> None:
    edit_layer(folder, "nodes.geojson", props(0, population=1000))
    err = only(validate_scenario_folder(folder))
    assert (err.file, err.field) == ("cpec/nodes.geojson", "features[0].properties.population")
    assert "unknown field" in err.message


def test_unknown_node_reference_in_roads(folder: Path) -> None:
    edit_layer(folder, "roads.geojson", props(10, target="xyz"))
    err = only(validate_scenario_folder(folder))
    assert (err.file, err.field) == ("cpec/roads.geojson", "features[10].properties.target")
    assert "unknown node 'xyz'" in err.message


def test_unknown_node_reference_in_sites(folder: Path) -> None:
    edit_layer(folder, "sites.geojson", props(0, node="atlantis"))
    err = only(validate_scenario_folder(folder))
    assert (err.file, err.field) == ("cpec/sites.geojson", "features[0].properties.node")


def test_duplicate_node_id(folder: Path) -> None:
    def dup(data: dict[str, Any]) -> None:
        data["features"].append(json.loads(json.dumps(data["features"][5])))

    edit_layer(folder, "nodes.geojson", dup)
    errors = validate_scenario_folder(folder)
    err = only(errors)
    n = len(json.loads((folder / "nodes.geojson").read_text("utf-8"))["features"]) - 1
    assert (err.file, err.field) == ("cpec/nodes.geojson", f"features[{n}].properties.id")
    assert "duplicate id" in err.message and "features[5]" in err.message


def test_duplicate_road_id(folder: Path) -> None:
    def dup(data: dict[str, Any]) -> None:
        data["features"][7]["properties"]["id"] = data["features"][6]["properties"]["id"]

    edit_layer(folder, "roads.geojson", dup)
    err = only(validate_scenario_folder(folder))
    assert (err.file, err.field) == ("cpec/roads.geojson", "features[7].properties.id")


def test_parallel_segment_rejected(folder: Path) -> None:
    def parallel(data: dict[str, Any]) -> None:
        twin = json.loads(json.dumps(data["features"][0]))
        twin["properties"]["id"] = "twin"
        data["features"].append(twin)

    edit_layer(folder, "roads.geojson", parallel)
    err = only(validate_scenario_folder(folder))
    assert err.file == "cpec/roads.geojson" and "second segment" in err.message


def _swap_point(i: int) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        coords = data["features"][i]["geometry"]["coordinates"]
        data["features"][i]["geometry"]["coordinates"] = [coords[1], coords[0]]

    return change


@pytest.mark.parametrize("fname", ["nodes.geojson", "sites.geojson"])
def test_swapped_coordinates_inside_valid_range(folder: Path, fname: str) -> None:
    # [lat, lon] for Pakistan is still a valid position (e.g. [34.1, 73.2]): caught by the
    # boundary check, and the roads touching a swapped node are not reported twice.
    edit_layer(folder, fname, _swap_point(7))
    err = only(validate_scenario_folder(folder))
    assert (err.file, err.field) == (f"cpec/{fname}", "features[7].geometry.coordinates")
    assert "swapped" in err.message


def test_swapped_coordinates_without_boundary(folder: Path) -> None:
    edit_yaml(folder, "  boundary: boundary.geojson\n", "")
    assert validate_scenario_folder(folder) == []
    edit_layer(folder, "nodes.geojson", _swap_point(7))
    err = only(validate_scenario_folder(folder))
    assert err.field == "features[7].geometry.coordinates" and "swapped" in err.message


def test_latitude_out_of_range_suggests_swap(folder: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["features"][2]["geometry"]["coordinates"] = [35.9, 95.0]  # lat > 90

    edit_layer(folder, "nodes.geojson", change)
    errors = validate_scenario_folder(folder)
    assert errors[0].field == "features[2].geometry.coordinates"
    assert "[lon, lat]" in errors[0].message


def test_point_outside_boundary(folder: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["features"][0]["geometry"]["coordinates"] = [10.0, 50.0]

    edit_layer(folder, "sites.geojson", change)
    err = only(validate_scenario_folder(folder))
    assert "outside the scenario boundary" in err.message


def test_bad_road_geometry(folder: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["features"][3]["geometry"] = {"type": "Point", "coordinates": [70, 30]}
        data["features"][4]["geometry"]["coordinates"] = [[70, 30]]
        data["features"][5]["geometry"]["coordinates"] = [[1.0, 1.0], [2.0, 2.0]]

    edit_layer(folder, "roads.geojson", change)
    errors = validate_scenario_folder(folder)
    fields = [e.field for e in errors]
    assert fields == [
        "features[3].geometry",
        "features[4].geometry.coordinates",
        "features[5].geometry.coordinates",
    ]
    assert "LineString" in errors[0].message
    assert "km from nodes" in errors[2].message


def test_swapped_road_positions(folder: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        geom = data["features"][9]["geometry"]
        geom["coordinates"] = [[lat, lon] for lon, lat in geom["coordinates"]]

    edit_layer(folder, "roads.geojson", change)
    err = only(validate_scenario_folder(folder))
    assert (err.file, err.field) == ("cpec/roads.geojson", "features[9].geometry.coordinates")
    assert "swapped" in err.message


def test_length_in_kilometres_is_caught(folder: Path) -> None:
    data = json.loads((folder / "roads.geojson").read_text("utf-8"))
    km = data["features"][0]["properties"]["length_m"] / 1000
    edit_layer(folder, "roads.geojson", props(0, length_m=km))
    err = only(validate_scenario_folder(folder))
    assert err.field == "features[0].properties.length_m" and "kilometres" in err.message


def test_invalid_json_names_line(folder: Path) -> None:
    (folder / "sites.geojson").write_text('{"type": "FeatureCollection",\n "features": [}', "utf-8")
    err = only(validate_scenario_folder(folder))
    assert err.file == "cpec/sites.geojson" and err.line == 2


def test_missing_layer_file(folder: Path) -> None:
    (folder / "sites.geojson").unlink()
    err = only(validate_scenario_folder(folder))
    assert err.file == "cpec/sites.geojson" and "missing file" in err.message


# --- scenario.yaml ---------------------------------------------------------------------------


def test_unknown_unit_base_names_line(folder: Path) -> None:
    line = edit_yaml(folder, "base: karachi", "base: xyz")
    err = only(validate_scenario_folder(folder))
    assert err.file == "cpec/scenario.yaml" and err.line == line
    assert err.field is not None and err.field.startswith("forces[1].units[")
    assert err.field.endswith("].base")
    assert str(err).startswith(f"cpec/scenario.yaml:{line}: forces[1].units[")
    assert "unknown node 'xyz'" in err.message


def test_unit_base_outside_jurisdiction(folder: Path) -> None:
    line = edit_yaml(folder, "base: gwadar", "base: lahore")
    err = only(validate_scenario_folder(folder))
    assert err.line == line and "outside force 'force_b'" in err.message


def test_out_of_range_probability_and_bad_ref_both_reported(folder: Path) -> None:
    line_p = edit_yaml(folder, "detection_prob: 0.35", "detection_prob: 1.5")
    line_b = edit_yaml(folder, "base: chilas", "base: nowhere")
    errors = validate_scenario_folder(folder)
    assert [(e.line, e.field) for e in errors] == [
        (line_p, "forces[0].units[0].detection_prob"),
        (line_b, "forces[0].units[0].base"),
    ]


def test_missing_yaml_field_points_at_parent(folder: Path) -> None:
    line = edit_yaml(
        folder, "- id: dasu_islamabad\n  name: Dasu", "- id: dasu_islamabad\n  nom: Dasu"
    )
    errors = validate_scenario_folder(folder)
    by_field = {e.field: e for e in errors}
    assert by_field["movements[0].name"].line == line  # the item's first line
    assert by_field["movements[0].nom"].line == line + 1
    assert "unknown field" in by_field["movements[0].nom"].message


def test_movement_unknown_destination(folder: Path) -> None:
    line = edit_yaml(folder, "destination: islamabad", "destination: xyz")
    err = only(validate_scenario_folder(folder))
    assert (err.line, err.field) == (line, "movements[0].destination")


def test_unquoted_times_are_times(folder: Path) -> None:
    # YAML 1.1 reads 06:00 as the base-60 integer 360; our loader keeps it a time.
    edit_yaml(folder, "window_start: 06:00", "window_start: 06:00")
    text = (folder / "scenario.yaml").read_text("utf-8").replace("'06:00'", "06:00")
    (folder / "scenario.yaml").write_text(text, "utf-8")
    scenario = load_scenario(folder)
    assert scenario.movements[0].window_start.hour == 6


def test_yaml_syntax_error_has_line(folder: Path) -> None:
    line = edit_yaml(folder, "labels:\n", "labels: [\n")
    err = only(validate_scenario_folder(folder))
    assert err.file == "cpec/scenario.yaml" and err.line is not None and err.line >= line
    assert "not valid YAML" in err.message


def test_unknown_top_level_key(folder: Path) -> None:
    path = folder / "scenario.yaml"
    path.write_text(path.read_text("utf-8") + "colour: red\n", "utf-8")
    err = only(validate_scenario_folder(folder))
    n_lines = path.read_text("utf-8").count("\n")
    assert (err.field, err.line) == ("colour", n_lines)


def test_bad_label_value(folder: Path) -> None:
    line = edit_yaml(folder, "roads: schematic", "roads: surveyed")
    err = only(validate_scenario_folder(folder))
    assert (err.field, err.line) == ("labels.roads", line)


def test_many_problems_reported_together(folder: Path) -> None:
    edit_layer(folder, "sites.geojson", props(3, criticality=-1))
    edit_layer(folder, "roads.geojson", props(10, target="xyz"))
    edit_yaml(folder, "base: karachi", "base: xyz")
    errors = validate_scenario_folder(folder)
    assert {e.file for e in errors} == {
        "cpec/sites.geojson",
        "cpec/roads.geojson",
        "cpec/scenario.yaml",
    }
    with pytest.raises(ScenarioInvalid) as info:
        load_scenario(folder)
    assert len(info.value.errors) == 3
    assert "(and 2 more problem(s))" in info.value.message
    assert len(info.value.to_dict()["errors"]) == 3


def test_not_found() -> None:
    with pytest.raises(NotFoundError):
        load_scenario("no-such-scenario")
    errors = validate_scenario_folder("/no/such/folder")
    assert len(errors) == 1 and isinstance(errors[0], NotFoundError)


def test_validate_builtin_by_name() -> None:
    assert validate_scenario_folder("cpec") == []


def test_empty_folder(tmp_path: Path) -> None:
    err = only(validate_scenario_folder(tmp_path))
    assert "scenario.yaml" in str(err)


def test_line_map() -> None:
    _, lines = load_yaml("a: 1\nb:\n  - x: 1\n    y: 2\n  - x: 3\n")
    assert lines[("a",)] == 1
    assert lines[("b", 0, "y")] == 4
    assert lines[("b", 1)] == 5


# --- round trip, export, jurisdiction polygons -----------------------------------------------


def test_round_trip(tmp_path: Path) -> None:
    original = load_scenario("cpec")
    write_scenario_folder(original, tmp_path / "copy")
    assert validate_scenario_folder(tmp_path / "copy") == []
    assert load_scenario(tmp_path / "copy") == original
    assert load_scenario(tmp_path / "copy" / "scenario.yaml") == original


def test_geojson_export_layers_and_labels() -> None:
    sc = load_scenario("cpec")
    fc = scenario_to_geojson(sc)
    assert fc["type"] == "FeatureCollection"
    layers = [f["properties"]["layer"] for f in fc["features"]]
    assert layers.count("nodes") == len(sc.nodes)
    assert layers.count("roads") == len(sc.edges)
    assert layers.count("sites") == len(sc.sites)
    for f in fc["features"]:
        assert f["properties"]["label"] == sc.labels[f["properties"]["layer"]]
        geom = f["geometry"]
        first = geom["coordinates"] if geom["type"] == "Point" else geom["coordinates"][0]
        assert 60 < first[0] < 78 and 23 < first[1] < 38  # [lon, lat] order
    json.dumps(fc)  # plain JSON


def test_polygon_jurisdiction_from_file(folder: Path) -> None:
    square = {
        "type": "Polygon",
        "coordinates": [[[66, 24], [69, 24], [69, 26], [66, 26], [66, 24]]],
    }
    (folder / "karachi_area.geojson").write_text(json.dumps(square), "utf-8")
    edit_yaml(
        folder,
        "    provinces:\n    - Sindh\n    - Balochistan\n",
        "    polygon: karachi_area.geojson\n",
    )
    # Force B's Gwadar/Turbat/Khuzdar-based units now lie outside its polygon.
    errors = validate_scenario_folder(folder)
    assert errors and all("outside force 'force_b'" in e.message for e in errors)
    bases = {e.field for e in errors}
    assert all(f is not None and f.startswith("forces[1].units[") for f in bases)


# --- properties ------------------------------------------------------------------------------


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    keep=st.sets(st.integers(min_value=0, max_value=18), min_size=0, max_size=19),
    crit=st.floats(min_value=-3, max_value=8, allow_nan=False),
    workers=st.integers(min_value=0, max_value=10_000),
)
def test_random_site_subsets_round_trip(
    tmp_path_factory: pytest.TempPathFactory, keep: set[int], crit: float, workers: int
) -> None:
    base = load_scenario("cpec")
    sites = [s for i, s in enumerate(base.sites) if i in keep]
    out = tmp_path_factory.mktemp("rt")
    if not sites:
        scenario = base.model_copy(update={"sites": ()})
        write_scenario_folder(scenario, out)
        assert load_scenario(out) == scenario
        return
    first = sites[0].model_dump()
    first.update(criticality=crit, workers=workers)
    raw = Scenario.model_validate(
        {**base.model_dump(), "sites": [first] + [s.model_dump() for s in sites[1:]]}
    ) if 0 <= crit <= 5 else None  # fmt: skip
    if raw is not None:
        write_scenario_folder(raw, out)
        assert load_scenario(out) == raw
    else:
        write_scenario_folder(base.model_copy(update={"sites": tuple(sites)}), out)
        edit_layer(out, "sites.geojson", props(0, criticality=crit))
        err = only(validate_scenario_folder(out))
        assert err.field == "features[0].properties.criticality"


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_random_node_perturbation_keeps_geometry_checks_consistent(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    base = load_scenario("cpec")
    i = data.draw(st.integers(min_value=0, max_value=len(base.nodes) - 1))
    shift = data.draw(st.floats(min_value=0.05, max_value=0.5))
    out = tmp_path_factory.mktemp("perturb")
    write_scenario_folder(base, out)

    def move(fc: dict[str, Any]) -> None:
        fc["features"][i]["geometry"]["coordinates"][1] += shift

    edit_layer(out, "nodes.geojson", move)
    node = base.nodes[i]
    errors = validate_scenario_folder(out)
    # Moving a node up to ~55 km leaves roads' drawn ends off by > 2 km: each touching road
    # is reported (or the node itself, when it leaves the boundary); nothing else.
    touching = [e for e in base.edges if node.id in (e.source, e.target)]
    assert errors, "a node moved by >= 5.5 km must break its roads' drawn ends"
    assert {e.file for e in errors} <= {f"{out.name}/roads.geojson", f"{out.name}/nodes.geojson"}
    road_errors = [e for e in errors if e.file == f"{out.name}/roads.geojson"]
    node_errors = [e for e in errors if e.file == f"{out.name}/nodes.geojson"]
    if node_errors:  # left the boundary: the node is reported, its roads are not
        assert not road_errors
        assert node_errors[0].field == f"features[{i}].geometry.coordinates"
    else:
        touched = {f"features[{k}].geometry.coordinates" for k, e in enumerate(base.edges)
                   if e in touching}  # fmt: skip
        assert {e.field for e in road_errors} <= touched | {
            f"features[{k}].properties.length_m" for k, e in enumerate(base.edges) if e in touching
        }
        assert {e.field for e in road_errors} & touched


@settings(max_examples=40, deadline=None)
@given(
    features=st.lists(
        st.dictionaries(st.text(max_size=4), st.integers() | st.text(max_size=6), max_size=3)
        | st.integers(),
        max_size=6,
    ),
    indent=st.none() | st.integers(min_value=0, max_value=4),
    before=st.dictionaries(st.sampled_from(["name", "type", "crs"]), st.text(max_size=5)),
)
def test_feature_lines_match_json_layout(
    features: list[Any], indent: int | None, before: dict[str, str]
) -> None:
    from corridorguard.scenario._jsonpos import feature_lines

    text = json.dumps({**before, "features": features, "tail": [1, 2]}, indent=indent)
    lines = feature_lines(text)
    if not features:
        assert lines == []
        return
    if indent is None:  # minified: one line, so a line number would not help
        assert lines == ([1] if len(features) == 1 else [])
        return
    assert len(lines) == len(features)
    rows = text.split("\n")
    for line, feat in zip(lines, features, strict=True):
        assert rows[line - 1].strip().startswith(json.dumps(feat, indent=indent).split("\n")[0])


def test_polygon_jurisdiction_round_trip(folder: Path, tmp_path: Path) -> None:
    # A polygon covering all of force B's bases validates, and survives write -> load.
    square = {
        "type": "Polygon",
        "coordinates": [[[60, 23], [70, 23], [70, 31], [60, 31], [60, 23]]],
    }
    (folder / "south.geojson").write_text(json.dumps({"type": "Feature", "geometry": square}))
    edit_yaml(
        folder,
        "    provinces:\n    - Sindh\n    - Balochistan\n",
        "    polygon: south.geojson\n",
    )
    assert validate_scenario_folder(folder) == []
    sc = load_scenario(folder)
    assert sc.forces[1].jurisdiction.polygon == square
    assert sc.node_in_jurisdiction("force_b", "gwadar")
    assert not sc.node_in_jurisdiction("force_b", "lahore")
    write_scenario_folder(sc, tmp_path / "out")
    assert load_scenario(tmp_path / "out") == sc
