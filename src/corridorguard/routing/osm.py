"""Importers of real road data into :class:`~corridorguard.routing.graph.RoadGraph`.

* :func:`read_osm_pbf` -- an OpenStreetMap PBF extract through ``pyrosm`` (driving network,
  unsimplified; one-way tags honoured). Data from OSM is ODbL 1.0: credit
  "© OpenStreetMap contributors".
* :func:`read_geojson` -- a GeoJSON (RFC 7946) layer of LineString / MultiLineString roads, e.g.
  a HOT export or Natural Earth roads; every vertex becomes a node (shared vertices join lines).

Travel speeds come from a numeric ``maxspeed`` tag when present, else from
:data:`DEFAULT_SPEEDS_KMH` by road class.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from pathlib import Path as FsPath
from typing import Any

import numpy as np

from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.routing.graph import RoadGraph, haversine_m

__all__ = ["DEFAULT_SPEEDS_KMH", "parse_maxspeed", "read_geojson", "read_osm_pbf"]

DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "expressway": 90.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "national_highway": 70.0,
    "primary": 60.0,
    "primary_link": 40.0,
    "provincial": 55.0,
    "secondary": 50.0,
    "secondary_link": 35.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "track": 15.0,
    "local": 30.0,
    "road": 30.0,
}
"""Free-flow speed (km/h) by road class, used when a road has no usable ``maxspeed``.
Rough rural defaults in the spirit of OSMnx's imputation; override per deployment."""

_FALLBACK_KMH = 30.0
_ONEWAY_FWD = {"yes", "true", "1"}
_ONEWAY_REV = {"-1", "reverse"}
_MPH = 1.609344


def parse_maxspeed(value: Any) -> float | None:
    """``"50"`` -> 50, ``"30 mph"`` -> 48.3, ``"50;70"`` -> 50; ``None`` when not numeric."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, int | float):
        return float(value) if value > 0 else None
    m = re.match(r"\s*(\d+(?:\.\d+)?)\s*(mph)?", str(value))
    if not m:
        return None
    v = float(m.group(1)) * (_MPH if m.group(2) else 1.0)
    return v if v > 0 else None


def _speeds(classes: list[Any], maxspeeds: list[Any], table: Mapping[str, float]) -> np.ndarray:
    out = np.empty(len(classes), dtype=np.float64)
    for i, (c, ms) in enumerate(zip(classes, maxspeeds, strict=True)):
        v = parse_maxspeed(ms)
        out[i] = v if v is not None else table.get(str(c), _FALLBACK_KMH)
    return out


def _direction(
    oneway: list[Any], junction: list[Any] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(forward allowed, backward allowed) per edge from ``oneway``/``junction`` tags."""
    fwd = np.ones(len(oneway), dtype=bool)
    bwd = np.ones(len(oneway), dtype=bool)
    for i, o in enumerate(oneway):
        s = str(o).strip().lower() if o is not None else ""
        if s in _ONEWAY_FWD or (junction is not None and str(junction[i]) == "roundabout"):
            bwd[i] = False
        elif s in _ONEWAY_REV:
            fwd[i] = False
    return fwd, bwd


def _assemble(
    u: np.ndarray,
    v: np.ndarray,
    length_m: np.ndarray,
    speed_kmh: np.ndarray,
    fwd: np.ndarray,
    bwd: np.ndarray,
    *,
    n_nodes: int,
    lon: np.ndarray,
    lat: np.ndarray,
    node_ids: list[Any],
    edge_ids: list[Any],
    edge_attrs: dict[str, np.ndarray],
) -> RoadGraph:
    time_s = length_m / (speed_kmh / 3.6)
    eidx = np.arange(u.shape[0], dtype=np.int64)
    tail = np.concatenate([u[fwd], v[bwd]])
    head = np.concatenate([v[fwd], u[bwd]])
    edge = np.concatenate([eidx[fwd], eidx[bwd]])
    return RoadGraph.from_arcs(
        tail,
        head,
        length_m[edge],
        time_s[edge],
        n_nodes=n_nodes,
        edge=edge,
        lon=lon,
        lat=lat,
        node_ids=node_ids,
        edge_ids=edge_ids,
        edge_attrs={"length_m": length_m, "time_s": time_s, "speed_kmh": speed_kmh, **edge_attrs},
        label="real",
    )


def read_osm_pbf(
    path: str | FsPath,
    *,
    network: str = "driving",
    speeds_kmh: Mapping[str, float] | None = None,
) -> RoadGraph:
    """Read the road network of an OSM PBF extract with ``pyrosm``.

    Node ids are OSM node ids; edge ids are positions in pyrosm's edge table, with the OSM way
    id in ``edge_attrs["osm_way_id"]`` and the ``highway`` class in ``edge_attrs["road_class"]``.
    """
    p = FsPath(path)
    if not p.is_file():
        raise NotFoundError(f"no such file: {p}", file=str(p))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyrosm/geopandas deprecation chatter
        from pyrosm import OSM

        nodes, edges = OSM(str(p)).get_network(network_type=network, nodes=True)
    if edges is None or len(edges) == 0:
        raise ValidationError(f"no {network} roads in {p.name}", file=str(p))
    node_osm = np.asarray(nodes["id"], dtype=np.int64)
    order = np.argsort(node_osm)
    node_osm = node_osm[order]
    lon = np.asarray(nodes["lon"], dtype=np.float64)[order]
    lat = np.asarray(nodes["lat"], dtype=np.float64)[order]
    uo = np.asarray(edges["u"], dtype=np.int64)
    vo = np.asarray(edges["v"], dtype=np.int64)
    u = np.searchsorted(node_osm, uo)
    v = np.searchsorted(node_osm, vo)
    if np.any(u >= node_osm.size) or np.any(node_osm[np.minimum(u, node_osm.size - 1)] != uo):
        raise ValidationError("edge refers to a node missing from the extract", file=str(p))
    if np.any(v >= node_osm.size) or np.any(node_osm[np.minimum(v, node_osm.size - 1)] != vo):
        raise ValidationError("edge refers to a node missing from the extract", file=str(p))
    classes = [str(c) for c in edges["highway"].tolist()]
    maxs = edges["maxspeed"].tolist() if "maxspeed" in edges else [None] * len(edges)
    table = {**DEFAULT_SPEEDS_KMH, **(speeds_kmh or {})}
    speed = _speeds(classes, maxs, table)
    junction = edges["junction"].tolist() if "junction" in edges else None
    fwd, bwd = _direction(
        edges["oneway"].tolist() if "oneway" in edges else [None] * len(edges), junction
    )
    length = np.asarray(edges["length"], dtype=np.float64)
    return _assemble(
        u,
        v,
        length,
        speed,
        fwd,
        bwd,
        n_nodes=node_osm.size,
        lon=lon,
        lat=lat,
        node_ids=node_osm.tolist(),
        edge_ids=list(range(len(edges))),
        edge_attrs={
            "osm_way_id": np.asarray(edges["id"], dtype=np.int64),
            "road_class": np.asarray(classes, dtype=object),
        },
    )


_CLASS_FIELDS = ("highway", "road_class", "fclass", "type", "class")
_SPEED_FIELDS = ("speed_kmh", "maxspeed")


def read_geojson(
    source: str | FsPath | Mapping[str, Any],
    *,
    speeds_kmh: Mapping[str, float] | None = None,
    class_field: str | None = None,
    precision: int = 7,
) -> RoadGraph:
    """Read a GeoJSON FeatureCollection of road lines.

    Vertices are joined when their coordinates agree to ``precision`` decimal places. Each
    segment between consecutive vertices is one edge with id ``"<feature id or index>:<k>"``.
    Properties used when present: the class (``class_field`` or the first of
    ``highway``, ``road_class``, ``fclass``, ``type``, ``class``), ``speed_kmh``/``maxspeed``,
    ``oneway``.
    """
    fname: str | None = None
    if isinstance(source, Mapping):
        doc: Any = source
    else:
        fname = str(source)
        try:
            doc = json.loads(FsPath(source).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFoundError(f"no such file: {source}", file=fname) from None
        except json.JSONDecodeError as exc:
            raise ValidationError(f"not JSON: {exc.msg}", file=fname, line=exc.lineno) from None
    if not isinstance(doc, Mapping) or doc.get("type") != "FeatureCollection":
        raise ValidationError("expected a GeoJSON FeatureCollection", file=fname, field="type")
    table = {**DEFAULT_SPEEDS_KMH, **(speeds_kmh or {})}
    pos: dict[tuple[float, float], int] = {}
    us: list[int] = []
    vs: list[int] = []
    classes: list[str] = []
    maxs: list[Any] = []
    ones: list[Any] = []
    eids: list[str] = []
    for fi, feat in enumerate(doc.get("features") or []):
        geom = (feat or {}).get("geometry") or {}
        props = (feat or {}).get("properties") or {}
        gtype = geom.get("type")
        if gtype == "LineString":
            lines = [geom.get("coordinates") or []]
        elif gtype == "MultiLineString":
            lines = geom.get("coordinates") or []
        else:
            continue
        cfield = class_field or next((f for f in _CLASS_FIELDS if f in props), None)
        cls = str(props.get(cfield, "road")) if cfield else "road"
        spd = next((props[f] for f in _SPEED_FIELDS if props.get(f) is not None), None)
        fid = feat.get("id", fi)
        k = 0
        for line in lines:
            ids = []
            for ci, c in enumerate(line):
                try:
                    key = (round(float(c[0]), precision), round(float(c[1]), precision))
                except (TypeError, ValueError, IndexError):
                    raise ValidationError(
                        "bad coordinate", file=fname, field=f"features[{fi}].geometry[{ci}]"
                    ) from None
                ids.append(pos.setdefault(key, len(pos)))
            for a, b in itertools.pairwise(ids):
                if a == b:
                    continue
                us.append(a)
                vs.append(b)
                classes.append(cls)
                maxs.append(spd)
                ones.append(props.get("oneway"))
                eids.append(f"{fid}:{k}")
                k += 1
    if not us:
        raise ValidationError("no LineString roads in the layer", file=fname, field="features")
    coords = np.array(list(pos.keys()), dtype=np.float64)
    u = np.asarray(us, dtype=np.int64)
    v = np.asarray(vs, dtype=np.int64)
    length = haversine_m(coords[u, 0], coords[u, 1], coords[v, 0], coords[v, 1])
    length = np.maximum(length, 1e-3)
    fwd, bwd = _direction(ones)
    return _assemble(
        u,
        v,
        length,
        _speeds(classes, maxs, table),
        fwd,
        bwd,
        n_nodes=len(pos),
        lon=coords[:, 0],
        lat=coords[:, 1],
        node_ids=list(range(len(pos))),
        edge_ids=eids,
        edge_attrs={"road_class": np.asarray(classes, dtype=object)},
    )
