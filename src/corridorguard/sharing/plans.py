"""What of a plan's free-form ``content`` is shared, and how: routes and an area summary.

A plan's ``content`` (JSON, written by planners or the patrol planner) may hold:

* ``routes``: a list of ``{"name", "unit"?, "callsign"?, "start"?, "points": [[lon, lat], ...]}``,
  or a GeoJSON FeatureCollection as written by :func:`corridorguard.patrol.export.route_geojson`
  (LineString legs joined per ``unit`` in order);
* ``checkpoints`` and ``sensors``: lists of objects, optionally with ``lon``/``lat``.

:func:`plan_routes` turns the routes into :class:`~corridorguard.sharing.records.RouteRecord`
(CoT ``b-m-r``), carrying the plan's marking; :func:`plan_summary` gives the area-level public
parts: counts and a bounding box. Malformed entries are skipped (content is free-form), never
guessed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from corridorguard.errors import ValidationError
from corridorguard.sharing.records import RouteRecord, parse_time

__all__ = ["PlanSummary", "plan_routes", "plan_summary"]

PlanSummary = dict[str, Any]


def _point(p: Any) -> tuple[float, float] | None:
    if not isinstance(p, list | tuple) or len(p) < 2:
        return None
    try:
        lon, lat = float(p[0]), float(p[1])
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


def _geojson_routes(fc: Mapping[str, Any]) -> list[dict[str, Any]]:
    per_unit: dict[str, dict[str, Any]] = {}
    for f in fc.get("features") or []:
        if not isinstance(f, Mapping):
            continue
        geom, props = f.get("geometry") or {}, f.get("properties") or {}
        if not isinstance(geom, Mapping) or geom.get("type") != "LineString":
            continue
        unit = str(props.get("unit", "route")) if isinstance(props, Mapping) else "route"
        r = per_unit.setdefault(unit, {"name": unit, "unit": unit, "points": []})
        for p in geom.get("coordinates") or []:
            if not r["points"] or list(r["points"][-1]) != list(p):
                r["points"].append(p)
        if isinstance(props, Mapping) and "start" not in r and props.get("start"):
            r["start"] = props["start"]
    return list(per_unit.values())


def _raw_routes(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    routes = content.get("routes")
    if isinstance(routes, Mapping) and routes.get("type") == "FeatureCollection":
        return _geojson_routes(routes)
    if isinstance(routes, list):
        return [r for r in routes if isinstance(r, Mapping)]  # type: ignore[misc]
    return []


def plan_routes(
    content: Mapping[str, Any], *, plan_id: str, title: str, marking: Mapping[str, Any]
) -> list[RouteRecord]:
    """The patrol routes of a plan, each with the plan's marking (``originator``, ``tlp``,
    ``rel_to``, ``red_recipients``, ``created_by``)."""
    out: list[RouteRecord] = []
    for k, r in enumerate(_raw_routes(content)):
        pts = [p for p in (_point(x) for x in r.get("points") or []) if p is not None]
        if len(pts) < 2:
            continue
        start = r.get("start")
        try:
            when = parse_time(start, field_name="start") if isinstance(start, str) else None
        except ValidationError:
            when = None
        name = str(r.get("name") or r.get("unit") or f"route {k + 1}")[:200]
        out.append(
            RouteRecord(
                id=f"{plan_id}.{k}",
                name=f"{title[:100]}: {name}",
                points=tuple(pts),
                callsign=str(r["callsign"])[:100] if r.get("callsign") else None,
                start=when,
                **marking,
            )
        )
    return out


def plan_summary(content: Mapping[str, Any]) -> PlanSummary:
    """Area-level summary: numbers of routes, checkpoints, sensors; bounding box of all points."""
    per_route = [
        [p for p in (_point(x) for x in r.get("points") or []) if p] for r in _raw_routes(content)
    ]
    routes = [r for r in per_route if len(r) >= 2]  # as in plan_routes
    pts = [p for r in routes for p in r]
    counts = {}
    for key in ("checkpoints", "sensors"):
        items = content.get(key)
        items = items if isinstance(items, list) else []
        counts[key] = len(items)
        for it in items:
            if isinstance(it, Mapping):
                p = _point([it.get("lon"), it.get("lat")])
                if p is not None:
                    pts.append(p)
    bbox = None
    if pts:
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        bbox = (min(xs), min(ys), max(xs), max(ys))
    return {"patrols": len(routes), **counts, "bbox": bbox}
