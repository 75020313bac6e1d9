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
    for i, r in enumerate(routes):
        xs, ys = zip(*r.coords, strict=True)
        focus.extend(r.coords)
        ax.plot(
            xs,
            ys,
            color=_ROUTE_COLOURS[i % len(_ROUTE_COLOURS)],
            lw=5 - min(i, 3),
            alpha=0.8,
            zorder=5.9 - 0.1 * i,
            label=f"route {r.index}: {r.eta_s / 60:.0f} min, p={r.probability:.2f}",
        )
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


@app.command("convoy")
def convoy(
    scenario: str = typer.Option(..., "--scenario", help="A built-in scenario name or folder."),
    origin: str = typer.Option(..., "--from", help="Origin node id."),
    destination: str = typer.Option(..., "--to", help="Destination node id."),
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
    """Risk-aware convoy routes with k alternatives, a randomised choice and departure times."""
    from corridorguard._cli.place import read_risk

    sc = load_scenario(scenario)
    er, _ = read_risk(risk)
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
    graph = RoadGraph.from_scenario(sc)
    with progress_bar("routing", total=None):
        router = ConvoyRouter(graph, origin, destination, **kw).solve()
    out = router.to_dict()
    out["movement"] = None if mv is None else mv.id
    if gpx is not None:
        gpx.write_text(router.to_gpx(), encoding="utf-8")
        out["gpx"] = str(gpx)
    if geojson is not None:
        geojson.write_text(json.dumps(router.to_geojson()), encoding="utf-8")
        out["geojson"] = str(geojson)
    if png is not None:
        plan_map(
            sc,
            png,
            title=f"Convoy {origin} -> {destination}: {len(router.routes_)} routes",
            routes=router.routes_,
        )
        out["png"] = str(png)
    if as_json:
        print_json(out)
        return
    for r in router.routes_:
        typer.echo(
            f"route {r.index}: {r.eta_s / 60:.0f} min, {r.distance_m / 1000:.0f} km, exposure "
            f"{r.exposure:.1f}, p={r.probability:.2f} via {' - '.join(map(str, r.nodes))}"
        )
    if router.chokepoints_:
        typer.echo(
            f"shared by every route (escort/checkpoint candidates): "
            f"{', '.join(map(str, router.chokepoints_))}"
        )
    for d in router.schedule_[:7]:
        typer.echo(
            f"  day {d['day']}: route {d['route']} depart {d['depart']} arrive {d['arrive']}"
        )
    typer.echo(f"(seed {router.seed_}; {graph.label} road data)")
