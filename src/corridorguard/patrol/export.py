"""Exports of a patrol plan: GeoJSON (RFC 7946), GPX 1.1 and KML per unit and day, and a PNG map.

Road segments have no stored geometry in the scenario model, so a leg is drawn as the straight line
between its two nodes. Every file carries the scenario's data labels (``notional`` data stays
labelled as such).
"""

from __future__ import annotations

import json
import textwrap
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from corridorguard.patrol.schedule import Route
from corridorguard.scenario import Scenario

__all__ = ["plot_day", "route_geojson", "route_gpx", "route_kml", "write_unit_day_files"]

FORCE_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")


def _xy(scenario: Scenario, node: str) -> list[float]:
    n = scenario.node(node)
    return [n.lon, n.lat]


def route_geojson(scenario: Scenario, routes: Sequence[Route]) -> dict[str, Any]:
    """A FeatureCollection: one LineString per move / drone leg, one Point per wait."""
    feats = []
    for r in routes:
        for i, leg in enumerate(r.legs):
            props = {
                "force": r.force_id,
                "unit": r.unit_id,
                "resource": r.resource,
                "layer": r.layer,
                "leg": i,
                "kind": leg.kind,
                "segment": leg.edge,
                "from": leg.from_node,
                "to": leg.to_node,
                "start": leg.start.isoformat(),
                "end": leg.end.isoformat(),
            }
            if leg.kind == "wait":
                geom = {"type": "Point", "coordinates": _xy(scenario, leg.from_node)}
            else:
                geom = {
                    "type": "LineString",
                    "coordinates": [_xy(scenario, leg.from_node), _xy(scenario, leg.to_node)],
                }
            feats.append({"type": "Feature", "geometry": geom, "properties": props})
    return {
        "type": "FeatureCollection",
        "features": feats,
        "metadata": {"scenario": scenario.name, "labels": dict(scenario.labels)},
    }


def route_gpx(scenario: Scenario, routes: Sequence[Route]) -> str:
    """GPX 1.1: one track per route, a timed point at every node the route passes."""
    import gpxpy.gpx

    gpx = gpxpy.gpx.GPX()
    gpx.creator = "corridorguard"
    labels = ", ".join(f"{k}={v}" for k, v in sorted(scenario.labels.items()))
    gpx.description = f"Patrol routes, scenario {scenario.name}" + (
        f" (data: {labels})" if labels else ""
    )
    for r in routes:
        trk = gpxpy.gpx.GPXTrack(name=f"{r.unit_id} #{r.resource} {r.layer}")
        seg = gpxpy.gpx.GPXTrackSegment()
        for i, leg in enumerate(r.legs):
            if i == 0:
                lon, lat = _xy(scenario, leg.from_node)
                seg.points.append(
                    gpxpy.gpx.GPXTrackPoint(lat, lon, time=leg.start, name=leg.from_node)
                )
            lon, lat = _xy(scenario, leg.to_node)
            seg.points.append(gpxpy.gpx.GPXTrackPoint(lat, lon, time=leg.end, name=leg.to_node))
        trk.segments.append(seg)
        gpx.tracks.append(trk)
    return str(gpx.to_xml(version="1.1"))


def route_kml(scenario: Scenario, routes: Sequence[Route]) -> str:
    """KML: a folder per route, a timed LineString per leg and a Point per wait."""
    import simplekml

    kml = simplekml.Kml(name=f"corridorguard patrols — {scenario.name}")
    for r in routes:
        folder = kml.newfolder(name=f"{r.unit_id} #{r.resource} {r.layer}")
        for leg in r.legs:
            if leg.kind == "wait":
                lon, lat = _xy(scenario, leg.from_node)
                obj = folder.newpoint(name=f"wait {leg.from_node}", coords=[(lon, lat)])
            else:
                a, b = _xy(scenario, leg.from_node), _xy(scenario, leg.to_node)
                obj = folder.newlinestring(
                    name=leg.edge or f"{leg.from_node}-{leg.to_node}",
                    coords=[(a[0], a[1]), (b[0], b[1])],
                )
            obj.timespan.begin = leg.start.isoformat()
            obj.timespan.end = leg.end.isoformat()
    return str(kml.kml())


def write_unit_day_files(
    scenario: Scenario, schedules: Sequence[Sequence[Route]], out_dir: Path
) -> list[Path]:
    """``out_dir/routes/<unit>/day<NN>.{geojson,gpx,kml}`` for every unit and day."""
    written: list[Path] = []
    for day, routes in enumerate(schedules):
        by_unit: dict[str, list[Route]] = defaultdict(list)
        for r in routes:
            by_unit[r.unit_id].append(r)
        for unit, rs in sorted(by_unit.items()):
            folder = out_dir / "routes" / unit
            folder.mkdir(parents=True, exist_ok=True)
            base = folder / f"day{day:02d}"
            pairs = (
                (".geojson", json.dumps(route_geojson(scenario, rs), indent=1)),
                (".gpx", route_gpx(scenario, rs)),
                (".kml", route_kml(scenario, rs)),
            )
            for ext, text in pairs:
                path = base.with_suffix(ext)
                path.write_text(text, encoding="utf-8")
                written.append(path)
    return written


def plot_day(scenario: Scenario, routes: Sequence[Route], path: Path, *, title: str = "") -> Path:
    """A PNG map of one day's routes over the road graph (matplotlib, Agg backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 7), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for e in scenario.edges:
        a, b = _xy(scenario, e.source), _xy(scenario, e.target)
        ax.plot([a[0], b[0]], [a[1], b[1]], color="#cccccc", lw=0.8, zorder=1)
    force_ids = [f.id for f in scenario.forces]
    seen: set[str] = set()
    for r in routes:
        colour = FORCE_COLOURS[force_ids.index(r.force_id) % len(FORCE_COLOURS)]
        for leg in r.legs:
            if leg.kind == "wait":
                continue
            a, b = _xy(scenario, leg.from_node), _xy(scenario, leg.to_node)
            label = r.force_id if r.force_id not in seen else None
            seen.add(r.force_id)
            ax.plot(
                [a[0], b[0]],
                [a[1], b[1]],
                color=colour,
                lw=2.2 if leg.kind == "move" else 1.2,
                ls="-" if leg.kind == "move" else "--",
                alpha=0.55,
                zorder=2,
                label=label,
            )
    if scenario.sites:
        ax.scatter(
            [s.lon for s in scenario.sites],
            [s.lat for s in scenario.sites],
            marker="*",
            s=90,
            color="black",
            zorder=3,
            label="sites",
        )
    labels = ", ".join(f"{k}: {v}" for k, v in sorted(scenario.labels.items()))
    note = textwrap.fill(f"data: {labels}", 100) if labels else ""
    heading = title or f"Patrol routes — {scenario.name}"
    ax.set_title(heading + (f"\n{note}" if note else ""), fontsize=9)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(loc="best", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
