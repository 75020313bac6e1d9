"""Write a scenario as a folder (``scenario.yaml`` + GeoJSON layers) or one FeatureCollection.

The folder written by :func:`write_scenario_folder` loads back with
:func:`~corridorguard.scenario.loader.load_scenario` into an equal :class:`Scenario`
(round trip). Roads are written as straight two-point LineStrings between their end nodes: in a
schematic graph ``length_m`` is authoritative, not the drawn geometry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from corridorguard.scenario.model import Edge, Force, Movement, Node, Scenario, Site

__all__ = ["LAYER_FILES", "scenario_to_geojson", "write_scenario_folder"]

LAYER_FILES: dict[str, str] = {
    "nodes": "nodes.geojson",
    "roads": "roads.geojson",
    "sites": "sites.geojson",
    "boundary": "boundary.geojson",
}
"""Default file name of each GeoJSON layer inside a scenario folder."""

_NODE_KEYS = ("id", "name", "province", "approximate", "source")
_EDGE_KEYS = (
    "id",
    "source",
    "target",
    "route",
    "road_class",
    "terrain",
    "length_m",
    "speed_kmh",
    "traffic_vph",
)
_SITE_KEYS = (
    "id",
    "name",
    "type",
    "criticality",
    "workers",
    "operator",
    "province",
    "node",
    "approximate",
    "notional_fields",
)


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def node_feature(node: Node) -> dict[str, Any]:
    """A node as a GeoJSON Point feature."""
    props = {k: getattr(node, k) for k in _NODE_KEYS}
    return {
        "type": "Feature",
        "id": node.id,
        "geometry": _point(node.lon, node.lat),
        "properties": props,
    }


def edge_feature(edge: Edge, scenario: Scenario) -> dict[str, Any]:
    """A road segment as a straight two-point GeoJSON LineString feature."""
    a, b = scenario.node(edge.source), scenario.node(edge.target)
    props = {k: getattr(edge, k) for k in _EDGE_KEYS}
    geometry = {"type": "LineString", "coordinates": [[a.lon, a.lat], [b.lon, b.lat]]}
    return {"type": "Feature", "id": edge.id, "geometry": geometry, "properties": props}


def site_feature(site: Site) -> dict[str, Any]:
    """A project site as a GeoJSON Point feature."""
    props: dict[str, Any] = {k: getattr(site, k) for k in _SITE_KEYS}
    props["notional_fields"] = list(site.notional_fields)
    return {
        "type": "Feature",
        "id": site.id,
        "geometry": _point(site.lon, site.lat),
        "properties": props,
    }


def _collection(features: list[dict[str, Any]], **members: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", **members, "features": features}


def _force_dict(force: Force) -> dict[str, Any]:
    data = force.model_dump(mode="json", exclude_defaults=False)
    jur = data["jurisdiction"]
    data["jurisdiction"] = {k: v for k, v in jur.items() if v not in (None, [], ())}
    data["units"] = [
        {k: v for k, v in unit.items() if v is not None} for unit in data.get("units", [])
    ]
    return data


def _movement_dict(movement: Movement) -> dict[str, Any]:
    data = movement.model_dump(mode="json")
    for key in ("window_start", "window_end"):
        value = getattr(movement, key)
        data[key] = value.strftime("%H:%M:%S" if value.second else "%H:%M")
    return data


def scenario_yaml_dict(
    scenario: Scenario, *, layers: dict[str, str] | None = None
) -> dict[str, Any]:
    """The ``scenario.yaml`` document of a scenario (layers referenced by file name)."""
    files = dict(layers or LAYER_FILES)
    if scenario.boundary is None:
        files.pop("boundary", None)
    return {
        "name": scenario.name,
        "title": scenario.title,
        "description": scenario.description,
        "labels": dict(scenario.labels),
        "attribution": list(scenario.attribution),
        "circuity": dict(scenario.circuity),
        "layers": files,
        "forces": [_force_dict(f) for f in scenario.forces],
        "movements": [_movement_dict(m) for m in scenario.movements],
    }


def _dump_json(path: Path, data: dict[str, Any]) -> None:
    """Write a FeatureCollection with one feature per line (compact, diff-friendly)."""
    head = {k: v for k, v in data.items() if k != "features"}
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in data["features"]]
    text = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n'
    text += ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8")


def write_scenario_folder(scenario: Scenario, path: str | Path) -> Path:
    """Write ``scenario`` as a scenario folder at ``path`` (created if needed); returns the path.

    Files: ``scenario.yaml``, ``nodes.geojson``, ``roads.geojson``, ``sites.geojson`` and, when
    the scenario has a boundary, ``boundary.geojson``. Existing files of those names are
    overwritten; other files in the folder are left alone.
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    labels = scenario.labels
    doc = scenario_yaml_dict(scenario)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    (folder / "scenario.yaml").write_text(text, encoding="utf-8")
    _dump_json(
        folder / LAYER_FILES["nodes"],
        _collection(
            [node_feature(n) for n in scenario.nodes], name="nodes", label=labels.get("nodes")
        ),
    )
    _dump_json(
        folder / LAYER_FILES["roads"],
        _collection(
            [edge_feature(e, scenario) for e in scenario.edges],
            name="roads",
            label=labels.get("roads"),
        ),
    )
    _dump_json(
        folder / LAYER_FILES["sites"],
        _collection(
            [site_feature(s) for s in scenario.sites], name="sites", label=labels.get("sites")
        ),
    )
    if scenario.boundary is not None:
        feature = {
            "type": "Feature",
            "geometry": scenario.boundary,
            "properties": {"name": "boundary"},
        }
        _dump_json(
            folder / LAYER_FILES["boundary"],
            _collection([feature], name="boundary", label=labels.get("boundary")),
        )
    return folder


def scenario_to_geojson(scenario: Scenario) -> dict[str, Any]:
    """One RFC 7946 FeatureCollection with every node, road and site of ``scenario``.

    Each feature carries a ``layer`` property (``nodes``, ``roads``, ``sites``) and a ``label``
    property (the scenario's data label for that layer, e.g. ``schematic``), so a reader never
    mistakes schematic or notional data for surveyed fact. Scenario metadata (name, title,
    labels, attribution) are foreign members of the collection.
    """
    labels = scenario.labels
    features: list[dict[str, Any]] = []
    layers: list[tuple[str, list[dict[str, Any]]]] = [
        ("nodes", [node_feature(n) for n in scenario.nodes]),
        ("roads", [edge_feature(e, scenario) for e in scenario.edges]),
        ("sites", [site_feature(s) for s in scenario.sites]),
    ]
    for layer, feats in layers:
        for feat in feats:
            feat["properties"] = {"layer": layer, "label": labels.get(layer), **feat["properties"]}
            features.append(feat)
    return _collection(
        features,
        name=scenario.name,
        title=scenario.title,
        labels=dict(labels),
        attribution=list(scenario.attribution),
    )


def write_geojson(scenario: Scenario, path: str | Path) -> Path:
    """Write :func:`scenario_to_geojson` to ``path`` (parent folders created); returns it."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(scenario_to_geojson(scenario), ensure_ascii=False) + "\n", "utf-8")
    return out
