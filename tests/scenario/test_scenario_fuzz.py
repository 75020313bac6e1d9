"""Any corruption of a scenario folder gives CorridorErrors with file and field, never a crash."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from corridorguard.errors import CorridorError
from corridorguard.scenario import load_scenario, validate_scenario_folder
from corridorguard.scenario.loader import BUILTIN_DIR

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
LAYERS = {"nodes.geojson": 97, "roads.geojson": 106, "sites.geojson": 19}


def _copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("fuzz") / "cpec"
    shutil.copytree(BUILTIN_DIR / "cpec", dest, ignore=shutil.ignore_patterns("boundary.geojson"))
    text = (dest / "scenario.yaml").read_text("utf-8").replace("  boundary: boundary.geojson\n", "")
    (dest / "scenario.yaml").write_text(text, "utf-8")
    return dest


@settings(max_examples=20, deadline=None)
@given(
    data=st.data(),
    fname=st.sampled_from(sorted(LAYERS)),
    where=st.sampled_from(["properties", "geometry", "coordinates", "feature"]),
    value=JSON_VALUES,
)
def test_geojson_corruption_never_crashes(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, fname: str, where: str,
    value: Any,
) -> None:  # fmt: skip
    folder = _copy(tmp_path_factory)
    fc = json.loads((folder / fname).read_text("utf-8"))
    i = data.draw(st.integers(min_value=0, max_value=LAYERS[fname] - 1))
    feat = fc["features"][i]
    if where == "properties":
        key = data.draw(st.sampled_from([*feat["properties"], "extra"]))
        feat["properties"][key] = value
    elif where == "geometry":
        feat["geometry"] = value
    elif where == "coordinates":
        feat["geometry"]["coordinates"] = value
    else:
        fc["features"][i] = value
    (folder / fname).write_text(json.dumps(fc), "utf-8")
    errors = validate_scenario_folder(folder)
    assert all(isinstance(e, CorridorError) for e in errors)
    assert all(e.file and e.file.startswith("cpec/") for e in errors)
    if errors:
        assert all(e.field for e in errors)
        with pytest.raises(CorridorError):
            load_scenario(folder)


def _yaml_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _yaml_paths(v, (*path, k))
    elif isinstance(node, list):
        for k, v in enumerate(node):
            out += _yaml_paths(v, (*path, k))
    return out


@settings(max_examples=20, deadline=None)
@given(data=st.data(), value=JSON_VALUES)
def test_yaml_corruption_never_crashes(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, value: Any
) -> None:
    folder = _copy(tmp_path_factory)
    doc = yaml.safe_load((folder / "scenario.yaml").read_text("utf-8"))
    paths = [p for p in _yaml_paths(doc) if p and p[0] != "layers"]
    path = data.draw(st.sampled_from(paths))
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    try:
        text = yaml.safe_dump(doc, allow_unicode=True)
    except yaml.YAMLError:
        return
    (folder / "scenario.yaml").write_text(text, "utf-8")
    errors = validate_scenario_folder(folder)
    assert all(isinstance(e, CorridorError) for e in errors)
    for e in errors:
        assert e.file == "cpec/scenario.yaml" or (e.file or "").startswith("cpec/")
        if e.file == "cpec/scenario.yaml":
            assert e.line is not None and e.line >= 1
