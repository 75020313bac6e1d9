"""``corridorguard route convoy``: risk-aware, diverse, randomised convoy routes; plan maps."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import typer

from corridorguard._cli._common import JSON_OPTION, print_json, progress_bar
from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.routing.convoy import ConvoyRouter
from corridorguard.routing.graph import RoadGraph
from corridorguard.scenario import Scenario, load_scenario

app = typer.Typer(no_args_is_help=True, help="Convoy routing on a scenario's road graph.")

_ROUTE_COLOURS = ["#c0392b", "#2471a3", "#229954", "#7d3c98", "#d68910", "#17a589"]


def plan_map(
    scenario: Scenario,
    path: Path,
    *,
    title: str,
    sensors: Sequence[str] = (),
    sensor_radius_m: float | None = None,
    gaps: dict[str, Any] | None = None,
    checkpoints: Sequence[str] = (),
    bases: Sequence[str] = (),
    response: tuple[Any, np.ndarray, float] | None = None,
    routes: Sequence[Any] = (),
) -> Path:
    """A PNG plan map: the scenario base map with the plan drawn over it (Agg, no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from corridorguard.report.maps import draw_scenario, label_note

    fig = Figure(figsize=(10, 10))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.07, 0.08, 0.9, 0.84))
    draw_scenario(ax, scenario, label_sites=False)
    focus: list[tuple[float, float]] = []
    segs: list[Any] = []
    pts: list[Any] = []
    for f in (gaps or {}).get("features", []):
        g = f["geometry"]
        (segs if g["type"] == "LineString" else pts).append(g["coordinates"])
    if segs:
        from matplotlib.collections import LineCollection

        ax.add_collection(
            LineCollection(
                segs, colors="#e67e22", linewidths=4, alpha=0.55, zorder=2.5, label="coverage gap"
            )
        )
    if pts:
        px, py = zip(*pts, strict=True)
        ax.scatter(px, py, s=60, marker="x", c="#e67e22", zorder=5)
    for nid in sensors:
        n = scenario.node(nid)
        focus.append((n.lon, n.lat))
        ax.scatter(n.lon, n.lat, s=70, marker="^", c="#1f618d", edgecolors="white", zorder=6)
        if sensor_radius_m:
            dlat = sensor_radius_m / 111_195.0
            dlon = dlat / max(math.cos(math.radians(n.lat)), 1e-6)
            t = np.linspace(0, 2 * np.pi, 73)
            ax.plot(
                n.lon + dlon * np.cos(t),
                n.lat + dlat * np.sin(t),
                color="#1f618d",
                lw=0.8,
                zorder=4,
            )
    for eid in checkpoints:
        e = next(x for x in scenario.edges if x.id == eid)
        a, b = scenario.node(e.source), scenario.node(e.target)
        focus.append(((a.lon + b.lon) / 2, (a.lat + b.lat) / 2))
        ax.plot([a.lon, b.lon], [a.lat, b.lat], color="black", lw=5, alpha=0.6, zorder=4)
        ax.scatter(
            (a.lon + b.lon) / 2,
            (a.lat + b.lat) / 2,
            s=90,
            marker="s",
            c="#f1c40f",
            edgecolors="black",
            zorder=6,
        )
    if response is not None:
        demand, minutes, limit = response
        ok = np.isfinite(minutes) & (minutes <= limit)
        ax.scatter(
            demand.lon[ok], demand.lat[ok], s=8, c="#27ae60", zorder=4.5, label=f"<= {limit:g} min"
        )
        ax.scatter(
            demand.lon[~ok], demand.lat[~ok], s=8, c="#c0392b", zorder=4.5, label=f"> {limit:g} min"
        )
        ax.legend(loc="lower left", fontsize=8)
    for nid in bases:
        n = scenario.node(nid)
        ax.scatter(n.lon, n.lat, s=120, marker="*", c="#8e44ad", edgecolors="white", zorder=7)
    for r in routes:
        focus.extend(r.coords)
    _draw_routes(ax, routes, lw=(5, 3), alpha=0.8, zorder=5.9, km=False)
    if routes:
        ax.legend(loc="lower left", fontsize=8)
    x0, y0, x1, y1 = scenario.bbox()
    if routes and focus:
        xs_, ys_ = zip(*focus, strict=True)
        pad = 0.4
        x0, x1, y0, y1 = min(xs_) - pad, max(xs_) + pad, min(ys_) - pad, max(ys_) + pad
    ax.set_xlim(x0 - 0.3, x1 + 0.3)
    ax.set_ylim(y0 - 0.3, y1 + 0.3)
    ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
    ax.set_title(title, fontsize=11)
    ax.text(
        0.5,
        0.995,
        label_note(scenario),
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontsize=9,
        fontweight="bold",
        color="#7b241c",
        bbox={"boxstyle": "round", "facecolor": "#fff3cd", "edgecolor": "#c0392b"},
        zorder=10,
    )
    fig.text(0.07, 0.02, "\n".join(scenario.attribution), fontsize=6.5, color="#555555")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    return path


def _draw_routes(
    ax: Any, routes: Sequence[Any], *, lw: tuple[int, int], alpha: float, zorder: float, km: bool
) -> None:
    """Routes best first: widest line (``lw[0]``, thinning by one per route down to
    ``lw[0] - lw[1]``), each in its own colour, labelled with ETA (and km) and probability."""
    for i, r in enumerate(routes):
        xs, ys = zip(*r.coords, strict=True)
        dist = f", {r.distance_m / 1000:.1f} km" if km else ""
        ax.plot(
            xs,
            ys,
            color=_ROUTE_COLOURS[i % len(_ROUTE_COLOURS)],
            lw=lw[0] - min(i, lw[1]),
            alpha=alpha,
            zorder=zorder - 0.1 * i,
            label=f"route {r.index}: {r.eta_s / 60:.0f} min{dist}, p={r.probability:.2f}",
        )


@app.command("convoy")
def convoy(
    scenario: str | None = typer.Option(
        None, "--scenario", help="A built-in scenario name or folder (or give --roads)."
    ),
    roads: Path | None = typer.Option(
        None,
        "--roads",
        help="Route on a real road network instead: an OSM extract (.osm.pbf) or a GeoJSON "
        "line layer (.geojson/.json).",
    ),
    origin: str = typer.Option(
        ..., "--from", help="Origin node id, or LON,LAT (snapped to the nearest node)."
    ),
    destination: str = typer.Option(
        ..., "--to", help="Destination node id, or LON,LAT (snapped to the nearest node)."
    ),
    alternatives: int = typer.Option(3, "--alternatives", help="Number of routes (k)."),
    risk_weight: float = typer.Option(
        60.0, "--risk-weight", help="Seconds of travel worth one unit of exposure (lambda)."
    ),
    movement: str | None = typer.Option(
        None, "--movement", help="Movement id (default: the one with these end points)."
    ),
    day_only: bool | None = typer.Option(
        None, "--day-only/--any-time", help="Daylight movement (default: from the movement)."
    ),
    days: int = typer.Option(14, "--days", help="Days of randomised schedule to draw."),
    seed: int = typer.Option(0, "--seed", help="Seed of the schedule draw (recorded)."),
    risk: Path | None = typer.Option(None, "--risk", help='Risk JSON {"edges": {id: rate}}.'),
    gpx: Path | None = typer.Option(None, "--gpx", help="Write the routes as GPX 1.1."),
    geojson: Path | None = typer.Option(None, "--geojson", help="Write the routes as GeoJSON."),
    png: Path | None = typer.Option(None, "--png", help="Write a PNG map of the routes."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Risk-aware convoy routes with k alternatives, a randomised choice and departure times.

    The end points are node ids or ``LON,LAT`` positions, snapped to the nearest node of the
    main connected road network. On a scenario, its movement between them sets the window,
    people and daylight rule; on ``--roads`` (real OSM or GeoJSON roads) there is none.
    """
    from corridorguard._cli.place import read_risk

    if (scenario is None) == (roads is None):
        raise ValidationError("give exactly one of --scenario and --roads", field="--scenario")
    er, _ = read_risk(risk)
    if roads is not None:
        if movement is not None:
            raise ValidationError("--movement needs --scenario", field="--movement")
        with progress_bar("reading roads", total=None):
            graph = read_roads(roads)
        er = _road_risk_keys(graph, er, risk)
        s_id, s_snap = endpoint(graph, origin, "--from")
        t_id, t_snap = endpoint(graph, destination, "--to")
        opts: dict[str, Any] = {
            "edge_risk": er,
            "risk_weight": risk_weight,
            "alternatives": alternatives,
        }
        if day_only is not None:
            opts["day_only"] = day_only
        with progress_bar("routing", total=None):
            router = ConvoyRouter(graph, s_id, t_id, days=days, seed=seed, **opts).solve()
        out = router.to_dict()
        out["roads"] = str(roads)
        out["snapped"] = {"from": s_snap, "to": t_snap}
        ways = graph.edge_attrs.get("osm_way_id")
        if ways is not None:  # OSM: segments are pieces of ways; name the ways
            pos = [graph.edge_index(e) for e in router.chokepoints_]
            out["chokepoint_osm_ways"] = list(dict.fromkeys(int(w) for w in ways[pos]))
        _write_outputs(router, out, gpx, geojson)
        if png is not None:
            source = (
                "OpenStreetMap extract (c) OpenStreetMap contributors, ODbL"
                if roads.name.lower().endswith(".pbf")
                else roads.name
            )
            road_map(
                graph,
                png,
                router.routes_,
                title=f"Convoy on {roads.name}",
                source=source,
                edge_risk=router.edge_risk if er else None,
            )
            out["png"] = str(png)
        _report(router, out, as_json, graph.label)
        return
    assert scenario is not None
    sc = load_scenario(scenario)
    graph = RoadGraph.from_scenario(sc)
    origin, s_snap = endpoint(graph, origin, "--from")
    destination, t_snap = endpoint(graph, destination, "--to")
    mv = None
    if movement is not None:
        mv = next((m for m in sc.movements if m.id == movement), None)
        if mv is None:
            raise NotFoundError(f"unknown movement {movement!r}", field="--movement")
    else:
        mv = next(
            (m for m in sc.movements if m.origin == origin and m.destination == destination), None
        )
    kw: dict[str, Any] = {
        "edge_risk": er,
        "risk_weight": risk_weight,
        "alternatives": alternatives,
        "days": days,
        "seed": seed,
    }
    if mv is not None:
        if (mv.origin, mv.destination) != (origin, destination):
            raise ValidationError(
                f"movement {mv.id} runs {mv.origin} -> {mv.destination}", field="--movement"
            )
        kw.update(
            window=(mv.window_start, mv.window_end), people=max(mv.people, 1), day_only=mv.day_only
        )
    if day_only is not None:
        kw["day_only"] = day_only
    with progress_bar("routing", total=None):
        router = ConvoyRouter(graph, origin, destination, **kw).solve()
    out = router.to_dict()
    out["movement"] = None if mv is None else mv.id
    if s_snap or t_snap:
        out["snapped"] = {"from": s_snap, "to": t_snap}
    _write_outputs(router, out, gpx, geojson)
    if png is not None:
        plan_map(
            sc,
            png,
            title=f"Convoy {origin} -> {destination}: {len(router.routes_)} routes",
            routes=router.routes_,
        )
        out["png"] = str(png)
    _report(router, out, as_json, graph.label)


def _write_outputs(
    router: ConvoyRouter, out: dict[str, Any], gpx: Path | None, geojson: Path | None
) -> None:
    if gpx is not None:
        gpx.write_text(router.to_gpx(), encoding="utf-8")
        out["gpx"] = str(gpx)
    if geojson is not None:
        geojson.write_text(json.dumps(router.to_geojson()), encoding="utf-8")
        out["geojson"] = str(geojson)


def _report(router: ConvoyRouter, out: dict[str, Any], as_json: bool, label: str) -> None:
    if as_json:
        print_json(out)
        return
    for r in router.routes_:
        via = " - ".join(map(str, r.nodes))
        if len(r.nodes) > 40:  # real road networks: hundreds of nodes per route
            via = f"{r.nodes[0]} - ... ({len(r.nodes) - 2} nodes) - {r.nodes[-1]}"
        typer.echo(
            f"route {r.index}: {r.eta_s / 60:.0f} min, {r.distance_m / 1000:.1f} km, exposure "
            f"{r.exposure:.1f}, p={r.probability:.2f} via {via}"
        )
    for end, snap in (out.get("snapped") or {}).items():
        typer.echo(f"{end}: snapped to node {snap['node']} ({snap['distance_m']:.0f} m away)")
    if out.get("chokepoint_osm_ways"):
        w = out["chokepoint_osm_ways"]
        typer.echo(
            f"shared by every route: {len(router.chokepoints_)} segments on {len(w)} OSM ways "
            f"(escort/checkpoint candidates): {', '.join(map(str, w[:8]))}"
            + (f" (and {len(w) - 8} more)" if len(w) > 8 else "")
        )
    elif router.chokepoints_:
        shown = ", ".join(map(str, router.chokepoints_[:10]))
        more = len(router.chokepoints_) - 10
        typer.echo(
            f"shared by every route (escort/checkpoint candidates): {shown}"
            + (f" (and {more} more)" if more > 0 else "")
        )
    for d in router.schedule_[:7]:
        typer.echo(
            f"  day {d['day']}: route {d['route']} depart {d['depart']} arrive {d['arrive']}"
        )
    typer.echo(f"(seed {router.seed_}; {label} road data)")


def read_roads(path: Path) -> RoadGraph:
    """A road graph from an OSM PBF extract or a GeoJSON line layer, by the file's suffix.

    The graph is cached as ``.npz`` in the user cache folder (``CORRIDORGUARD_CACHE_DIR``
    overrides it), keyed by the file's absolute path, size and modification time: parsing a
    country's PBF takes minutes, loading the cached graph milliseconds. A damaged cache entry
    is ignored and rewritten."""
    from corridorguard.routing.osm import read_geojson, read_osm_pbf

    name = path.name.lower()
    if not name.endswith((".pbf", ".geojson", ".json")):
        raise ValidationError(
            "road files are .osm.pbf (OpenStreetMap) or .geojson/.json (line layers)",
            file=str(path),
            field="--roads",
        )
    if not path.is_file():
        raise NotFoundError(f"no such file: {path}", file=str(path), field="--roads")
    cached = _roads_cache(path)
    if cached.is_file():
        try:
            return RoadGraph.load_npz(cached)
        except (OSError, ValueError, KeyError, ValidationError):
            cached.unlink(missing_ok=True)
    graph = read_osm_pbf(path) if name.endswith(".pbf") else read_geojson(path)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        graph.save_npz(cached)
    except (OSError, ValidationError):
        pass  # a read-only cache folder or ids that cannot be saved: no cache
    return graph


def _roads_cache(path: Path) -> Path:
    import hashlib
    import os

    import platformdirs

    root = os.environ.get("CORRIDORGUARD_CACHE_DIR") or platformdirs.user_cache_dir("corridorguard")
    st = path.stat()
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|v1"
    return Path(root) / "roads" / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".npz")


def endpoint(graph: RoadGraph, text: str, flag: str) -> tuple[Any, dict[str, Any] | None]:
    """A route end: a node id of ``graph`` or ``LON,LAT`` snapped to its nearest node.

    Returns the node id and, for a position, ``{"node", "lon", "lat", "distance_m"}``."""
    parts = text.split(",")
    if len(parts) == 2:
        try:
            lon, lat = float(parts[0]), float(parts[1])
        except ValueError:
            lon = lat = math.nan
        if math.isfinite(lon) and math.isfinite(lat):
            try:
                i, dist = graph.nearest_node(lon, lat)
            except ValidationError as exc:
                raise ValidationError(exc.message, field=flag) from None
            nid = graph.node_ids[i]
            snap = {"node": nid, "lon": float(graph.lon[i]), "lat": float(graph.lat[i])}
            return nid, {**snap, "distance_m": dist}
    for key in (text, _as_int(text)):
        if key is not None and graph.has_node(key):
            return key, None
    raise NotFoundError(f"unknown node {text!r} (give a node id or LON,LAT)", field=flag)


def _road_risk_keys(
    graph: RoadGraph, risk: dict[str, float] | None, path: Path | None
) -> dict[Any, float] | None:
    """``--risk`` edge keys (JSON strings) as the road graph's edge ids (OSM: integers)."""
    if not risk:
        return risk
    out: dict[Any, float] = {}
    for key, value in risk.items():
        k: Any = key
        if not graph.has_edge(key):
            k = _as_int(key)
            if k is None or not graph.has_edge(k):
                raise NotFoundError(
                    f"unknown road segment {key!r} (risk files for --roads come from "
                    "`risk forecast --roads` on the same file)",
                    file=None if path is None else str(path),
                    field=f"edges.{key}",
                )
        out[k] = value
    return out


def _as_int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def road_map(
    graph: RoadGraph,
    path: Path,
    routes: Sequence[Any],
    *,
    title: str,
    source: str,
    edge_risk: np.ndarray | None = None,
) -> Path:
    """A PNG of a real road network with the routes drawn over it (Agg, no pyplot); with
    ``edge_risk`` (relative rate per segment), segments at twice the mean or more in red."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 10))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.07, 0.08, 0.9, 0.84))
    segs = np.stack(
        [
            np.column_stack([graph.lon[graph.tail], graph.lat[graph.tail]]),
            np.column_stack([graph.lon[graph.head], graph.lat[graph.head]]),
        ],
        axis=1,
    )
    ax.add_collection(LineCollection(list(segs), colors="#9a9a9a", linewidths=0.5, zorder=1))
    if edge_risk is not None:
        hot = np.asarray(edge_risk)[graph.edge] >= 2.0
        if hot.any():
            ax.add_collection(
                LineCollection(
                    list(segs[hot]),
                    colors="#f39c12",
                    linewidths=2.5,
                    alpha=0.6,
                    zorder=1.5,
                    label="risk >= 2x mean",
                )
            )
    _draw_routes(ax, routes, lw=(4, 2), alpha=0.85, zorder=3.0, km=True)
    if routes:
        ax.legend(loc="lower left", fontsize=8)
        pts = np.array([c for r in routes for c in r.coords])
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        pad = 0.15 * max(x1 - x0, y1 - y0, 0.01)
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
    else:
        ax.autoscale()
    y0, y1 = ax.get_ylim()
    ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
    ax.set_title(title, fontsize=11)
    fig.text(
        0.07,
        0.02,
        f"Roads ({graph.label} data): {source}",
        fontsize=7,
        color="#555555",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    return path
