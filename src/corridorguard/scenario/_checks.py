"""Geometry and cross-reference checks for scenario folders (used by ``loader``).

Each check appends errors to the reader (``r.error``/``r.yaml_error``) and keeps going, so a
folder reports every problem at once.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from corridorguard.scenario.geo import haversine_m
from corridorguard.scenario.model import Edge, Force, Movement, Node, Site

__all__ = [
    "BOUNDARY_TOLERANCE_DEG",
    "ENDPOINT_TOLERANCE_M",
    "boundary_geometry",
    "cross_check",
    "line_data",
    "pad_times",
    "point_data",
    "resolve_polygon_file",
]

BOUNDARY_TOLERANCE_DEG = 0.1
"""How far (degrees) a node or site may lie outside the boundary outline (coast, border)."""
ENDPOINT_TOLERANCE_M = 2_000.0
"""How far a road's first/last vertex may lie from its source/target node."""
_SWAP_OUTLIER_M = 300_000.0


def _is_position(p: Any) -> bool:
    return (
        isinstance(p, list | tuple)
        and len(p) in (2, 3)
        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in p)
        and all(abs(x) < 1e300 and math.isfinite(x) for x in p)
    )


_SHORT_TIME = re.compile(r"^\d:\d\d(:\d\d)?$")


def pad_times(item: dict[str, Any]) -> dict[str, Any]:
    """``6:00`` -> ``06:00`` for movement windows (ISO 8601 wants two-digit hours)."""
    out = dict(item)
    for key in ("window_start", "window_end"):
        value = out.get(key)
        if isinstance(value, str) and _SHORT_TIME.match(value):
            out[key] = "0" + value
    return out


def _in_range(lon: float, lat: float) -> bool:
    return -180 <= lon <= 180 and -90 <= lat <= 90


def _with_id(feat: dict[str, Any]) -> dict[str, Any]:
    data = dict(feat["properties"])
    if "id" not in data and isinstance(feat.get("id"), str | int):
        data["id"] = str(feat["id"])
    return data


def point_data(
    r: Any, fname: str, i: int, feat: dict[str, Any], layer: str
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Model input of a Point feature (properties + lon/lat), or ``None`` after an error."""
    geom = feat.get("geometry")
    where = f"features[{i}].geometry"
    if not isinstance(geom, dict) or geom.get("type") != "Point":
        r.error(fname, where, f"{layer} must be GeoJSON Points")
        return None, {}
    coords = geom.get("coordinates")
    if coords is None or not _is_position(coords):
        r.error(fname, f"{where}.coordinates", "must be [lon, lat] numbers")
        return None, {}
    lon, lat = float(coords[0]), float(coords[1])
    if not _in_range(lon, lat):
        hint = (
            " (looks like [lat, lon]; GeoJSON order is [lon, lat])" if _in_range(lat, lon) else ""
        )
        r.error(fname, f"{where}.coordinates", f"[{lon}, {lat}] is not a valid [lon, lat]{hint}")
        return None, {}
    data = _with_id(feat)
    for key in ("lon", "lat"):
        if key in data:
            r.error(fname, f"features[{i}].properties.{key}", "unknown field (use the geometry)")
            return None, {}
    data["lon"], data["lat"] = lon, lat
    return data, {"lon": f"{where}.coordinates[0]", "lat": f"{where}.coordinates[1]"}


def line_data(
    r: Any, fname: str, i: int, feat: dict[str, Any], layer: str
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Model input of a LineString feature; its vertices are kept in ``r.geoms``."""
    geom = feat.get("geometry")
    where = f"features[{i}].geometry"
    if not isinstance(geom, dict) or geom.get("type") != "LineString":
        r.error(fname, where, f"{layer} must be GeoJSON LineStrings")
        return None, {}
    coords = geom.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2:
        r.error(fname, f"{where}.coordinates", "a LineString needs at least two positions")
        return None, {}
    for k, p in enumerate(coords):
        if not _is_position(p) or not _in_range(float(p[0]), float(p[1])):
            r.error(fname, f"{where}.coordinates[{k}]", f"{p!r} is not a valid [lon, lat]")
            return None, {}
    r.geoms[(layer, i)] = [(float(p[0]), float(p[1])) for p in coords]
    return _with_id(feat), {}


def boundary_geometry(r: Any, fname: str, data: Any) -> dict[str, Any] | None:
    """The Polygon/MultiPolygon of a boundary file (geometry, Feature or FeatureCollection)."""
    from shapely.geometry import mapping, shape
    from shapely.ops import unary_union

    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        geoms = [f.get("geometry") for f in data.get("features") or [] if isinstance(f, dict)]
    elif isinstance(data, dict) and data.get("type") == "Feature":
        geoms = [data.get("geometry")]
    else:
        geoms = [data]
    polys = [g for g in geoms if isinstance(g, dict) and g.get("type") in _POLYGONAL]
    if not polys or len(polys) != len(geoms):
        r.error(fname, "geometry", "a boundary must be Polygon or MultiPolygon geometries")
        return None
    try:
        shapes = [shape(g) for g in polys]
    except Exception as exc:  # shapely raises several types for malformed coordinates
        r.error(fname, "geometry.coordinates", f"malformed polygon: {exc}")
        return None
    bad = [k for k, s in enumerate(shapes) if not s.is_valid]
    if bad:
        r.error(fname, f"features[{bad[0]}].geometry", "invalid polygon (self-intersecting?)")
        return None
    if len(polys) == 1:
        return dict(polys[0])
    return dict(mapping(unary_union(shapes)))


_POLYGONAL = ("Polygon", "MultiPolygon")


def resolve_polygon_file(r: Any, item: dict[str, Any], i: int, folder: Path) -> dict[str, Any]:
    """A force whose ``jurisdiction.polygon`` names a GeoJSON file gets the geometry inline."""
    jur = item.get("jurisdiction")
    if not isinstance(jur, dict) or not isinstance(jur.get("polygon"), str):
        return item
    fname = jur["polygon"]
    path = folder / fname
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        r.yaml_error(("forces", i, "jurisdiction", "polygon"), f"cannot read {fname!r}: {exc}")
        return {**item, "jurisdiction": {**jur, "polygon": None}}
    geom = boundary_geometry(r, fname, data)
    return {**item, "jurisdiction": {**jur, "polygon": geom}}


# --- cross-references ------------------------------------------------------------------------


def _duplicates(r: Any, fname: str, items: list[tuple[int, Any]]) -> None:
    first: dict[str, int] = {}
    for i, obj in items:
        if obj.id in first:
            msg = f"duplicate id {obj.id!r} (first used by features[{first[obj.id]}])"
            r.error(fname, f"features[{i}].properties.id", msg)
        else:
            first[obj.id] = i


def _yaml_duplicates(r: Any, key: str, items: list[tuple[int, Any]]) -> None:
    first: dict[str, int] = {}
    for i, obj in items:
        if obj.id in first:
            r.yaml_error(
                (key, i, "id"), f"duplicate id {obj.id!r} (first used by {key}[{first[obj.id]}])"
            )
        else:
            first[obj.id] = i


def _check_edges(
    r: Any, fname: str, edges: list[tuple[int, Edge]], nodes: dict[str, Node], misplaced: set[str]
) -> None:
    """References, loops, parallel segments; geometry unless an end node is misplaced."""
    pairs: dict[frozenset[str], int] = {}
    for i, e in edges:
        where = f"features[{i}].properties"
        missing = [end for end in ("source", "target") if getattr(e, end) not in nodes]
        for end in missing:
            if getattr(e, end) not in r.invalid_ids:
                r.error(fname, f"{where}.{end}", f"unknown node {getattr(e, end)!r}")
        if e.source == e.target:
            r.error(fname, f"{where}.target", "a segment cannot join a node to itself")
        if missing or e.source == e.target:
            continue
        pair = frozenset((e.source, e.target))
        if pair in pairs:
            msg = (
                f"second segment between {e.source!r} and {e.target!r} "
                f"(first: features[{pairs[pair]}]); split one with an intermediate node"
            )
            r.error(fname, f"{where}.source", msg)
        pairs.setdefault(pair, i)
        if not {e.source, e.target} & misplaced:
            _check_edge_geometry(r, fname, i, e, nodes)


def _check_edge_geometry(r: Any, fname: str, i: int, e: Edge, nodes: dict[str, Node]) -> None:
    a, b = nodes[e.source], nodes[e.target]
    coords = r.geoms.get(("roads", i))
    if coords:
        gap = _end_gap(coords[0], coords[-1], a, b)
        if gap > ENDPOINT_TOLERANCE_M:
            swapped = _end_gap(coords[0][::-1], coords[-1][::-1], a, b)
            if swapped <= ENDPOINT_TOLERANCE_M:
                msg = "positions look swapped ([lat, lon]); GeoJSON order is [lon, lat]"
            else:
                msg = (
                    f"LineString ends are {gap / 1000:.1f} km from nodes "
                    f"{e.source!r}/{e.target!r} (wrong node? wrong geometry?)"
                )
            r.error(fname, f"features[{i}].geometry.coordinates", msg)
    straight = haversine_m(a.lon, a.lat, b.lon, b.lat)
    if e.length_m < 0.999 * straight - 1.0:
        msg = (
            f"{e.length_m:.0f} m is shorter than the straight-line distance {straight:.0f} m "
            "between its nodes (kilometres instead of metres?)"
        )
        r.error(fname, f"features[{i}].properties.length_m", msg)


def _end_gap(first: Any, last: Any, a: Node, b: Node) -> float:
    """Largest distance of a line's ends from nodes ``a``/``b`` (either direction), metres."""
    (x0, y0), (x1, y1) = first, last
    fwd = max(haversine_m(x0, y0, a.lon, a.lat), haversine_m(x1, y1, b.lon, b.lat))
    back = max(haversine_m(x0, y0, b.lon, b.lat), haversine_m(x1, y1, a.lon, a.lat))
    return min(fwd, back)


def _check_forces(r: Any, forces: list[tuple[int, Force]], nodes: dict[str, Node]) -> None:
    _yaml_duplicates(r, "forces", forces)
    seen: dict[str, str] = {}
    for fi, f in forces:
        for ui, u in enumerate(f.units):
            path = ("forces", fi, "units", ui)
            if u.id in seen:
                r.yaml_error((*path, "id"), f"duplicate unit id {u.id!r} (also in {seen[u.id]})")
            seen.setdefault(u.id, f"forces[{fi}].units[{ui}]")
            node = nodes.get(u.base)
            if node is None and u.base not in r.invalid_ids:
                r.yaml_error((*path, "base"), f"unknown node {u.base!r}")
            elif node is not None and not f.jurisdiction.contains(
                node.lon, node.lat, node.province
            ):
                msg = f"base {u.base!r} ({node.province}) is outside force {f.id!r}'s jurisdiction"
                r.yaml_error((*path, "base"), msg)


def check_raw_references(r: Any, key: str, i: int, item: Any, nodes: set[str]) -> None:
    """Node references of a force or movement that failed model validation."""
    if not isinstance(item, dict):
        return
    refs: list[tuple[tuple[str | int, ...], Any]] = []
    if key == "forces" and isinstance(item.get("units"), list):
        refs = [(("units", u, "base"), unit.get("base")) for u, unit in enumerate(item["units"])
                if isinstance(unit, dict)]  # fmt: skip
    elif key == "movements":
        refs = [((end,), item.get(end)) for end in ("origin", "destination")]
    for path, ref in refs:
        if isinstance(ref, str) and ref not in nodes:
            r.yaml_error((key, i, *path), f"unknown node {ref!r}")


def _check_movements(r: Any, movements: list[tuple[int, Movement]], nodes: dict[str, Node]) -> None:
    _yaml_duplicates(r, "movements", movements)
    for i, m in movements:
        for end in ("origin", "destination"):
            if getattr(m, end) not in nodes and getattr(m, end) not in r.invalid_ids:
                r.yaml_error(("movements", i, end), f"unknown node {getattr(m, end)!r}")
        if m.origin == m.destination:
            r.yaml_error(("movements", i, "destination"), "same as origin")


def _check_positions(
    r: Any, fname: str, items: list[tuple[int, Any]], inside: Any,
    anchors: list[tuple[float, float]],
) -> set[str]:  # fmt: skip
    """Points outside the boundary, or far from every other point when swapped are near.

    Returns the ids of the misplaced items."""
    bad: set[str] = set()
    for i, obj in items:
        where = f"features[{i}].geometry.coordinates"
        if inside is not None:
            if inside(obj.lon, obj.lat):
                continue
            bad.add(obj.id)
            if _in_range(obj.lat, obj.lon) and inside(obj.lat, obj.lon):
                r.error(fname, where, _swap_msg(obj))
            else:
                r.error(fname, where, f"[{obj.lon}, {obj.lat}] lies outside the scenario boundary")
            continue
        others = [p for p in anchors if p != (obj.lon, obj.lat)]
        if not others or not _in_range(obj.lat, obj.lon):
            continue
        near = min(haversine_m(obj.lon, obj.lat, x, y) for x, y in others)
        near_swapped = min(haversine_m(obj.lat, obj.lon, x, y) for x, y in others)
        if near > _SWAP_OUTLIER_M and near_swapped < near / 5:
            bad.add(obj.id)
            r.error(fname, where, _swap_msg(obj))
    return bad


def _swap_msg(obj: Any) -> str:
    return (
        f"[{obj.lon}, {obj.lat}] looks swapped: [{obj.lat}, {obj.lon}] fits the scenario; "
        "GeoJSON order is [lon, lat]"
    )


def _inside_fn(boundary: dict[str, Any] | None) -> Any:
    if boundary is None:
        return None
    from shapely import Point
    from shapely.geometry import shape
    from shapely.prepared import prep

    area = prep(shape(boundary).buffer(BOUNDARY_TOLERANCE_DEG))
    return lambda lon, lat: bool(area.covers(Point(lon, lat)))


def cross_check(
    r: Any,
    layers: dict[str, str],
    nodes: list[tuple[int, Node]],
    edges: list[tuple[int, Edge]],
    sites: list[tuple[int, Site]],
    forces: list[tuple[int, Force]],
    movements: list[tuple[int, Movement]],
    boundary: dict[str, Any] | None,
) -> None:
    """References between layers, duplicates, geometry plausibility."""
    by_id = {n.id: n for _, n in nodes}
    nfile, efile, sfile = (layers.get(k, LAYER_DEFAULT[k]) for k in ("nodes", "roads", "sites"))
    _duplicates(r, nfile, nodes)
    _duplicates(r, efile, edges)
    _duplicates(r, sfile, sites)
    anchors = [(n.lon, n.lat) for n in by_id.values()]
    inside = _inside_fn(boundary)
    misplaced = _check_positions(r, nfile, nodes, inside, anchors)
    _check_positions(r, sfile, sites, inside, anchors)
    _check_edges(r, efile, edges, by_id, misplaced)
    for i, s in sites:
        if s.node is not None and s.node not in by_id and s.node not in r.invalid_ids:
            r.error(sfile, f"features[{i}].properties.node", f"unknown node {s.node!r}")
    _check_forces(r, forces, by_id)
    _check_movements(r, movements, by_id)
    for key, i, item in r.failed:
        check_raw_references(r, key, i, item, set(by_id) | r.invalid_ids)


LAYER_DEFAULT = {"nodes": "nodes.geojson", "roads": "roads.geojson", "sites": "sites.geojson"}
