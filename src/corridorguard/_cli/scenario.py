"""``corridorguard scenario list|show|validate|export|map``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from corridorguard._cli._common import JSON_OPTION, print_json
from corridorguard.scenario import (
    builtin_scenarios,
    load_scenario,
    scenario_to_geojson,
    validate_scenario_folder,
)
from corridorguard.scenario.export import write_geojson
from corridorguard.scenario.summary import scenario_summary

app = typer.Typer(
    no_args_is_help=True, help="Corridor scenarios: list, show, validate, export, map."
)

NAME_ARG = typer.Argument(..., help="A built-in scenario name (e.g. cpec) or a scenario folder.")


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List the built-in scenarios."""
    rows = []
    for name in builtin_scenarios():
        sc = load_scenario(name)
        rows.append({"name": name, "title": sc.title, "labels": dict(sc.labels)})
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['name']}\t{row['title']}")


@app.command("show")
def show(name: str = NAME_ARG, as_json: bool = JSON_OPTION) -> None:
    """Summarise a scenario: counts, routes, sites, forces and units, labels."""
    summary = scenario_summary(load_scenario(name))
    if as_json:
        print_json(summary)
        return
    _print_summary(summary)


@app.command("validate")
def validate(
    path: Path = typer.Argument(..., help="A scenario folder (scenario.yaml + GeoJSON layers)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check a scenario folder; print every problem, one per line (exit 2 if any)."""
    errors = validate_scenario_folder(path)
    if as_json:
        print_json({"ok": not errors, "path": str(path), "errors": [e.to_dict() for e in errors]})
    elif errors:
        for err in errors:
            typer.echo(str(err))
        typer.echo(f"{len(errors)} problem(s) in {path}", err=True)
    else:
        typer.echo(f"{path}: valid")
    if errors:
        raise typer.Exit(2)


@app.command("export")
def export(
    name: str = NAME_ARG,
    out: Path = typer.Option(..., "--out", help="GeoJSON file to write."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Export nodes, roads and sites as one GeoJSON FeatureCollection (RFC 7946)."""
    scenario = load_scenario(name)
    write_geojson(scenario, out)
    _done(as_json, out, features=len(scenario_to_geojson(scenario)["features"]))


@app.command("map")
def map_(
    name: str = NAME_ARG,
    out: Path = typer.Option(..., "--out", help="PNG file to write."),
    dpi: int = typer.Option(150, "--dpi", min=50, max=600, help="Resolution."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Draw the corridor map (PNG): outline, roads by route, nodes, sites, data labels."""
    from corridorguard.report.maps import write_corridor_map

    write_corridor_map(load_scenario(name), out, dpi=dpi)
    _done(as_json, out)


def _done(as_json: bool, out: Path, **extra: Any) -> None:
    if as_json:
        print_json({"ok": True, "path": str(out), **extra})
    else:
        typer.echo(f"wrote {out}")


def _print_summary(s: dict[str, Any]) -> None:
    con = Console()
    con.print(f"[bold]{s['name']}[/bold]: {s['title']}")
    con.print(f"[dim]{s['description']}[/dim]")
    labels = ", ".join(f"{k}: [bold]{v}[/bold]" for k, v in s["labels"].items())
    con.print(f"labels: {labels}")
    c = s["counts"]
    con.print(
        f"{c['nodes']} nodes ({c['approximate_nodes']} approximate), {c['roads']} road segments "
        f"({c['road_km']} km), {c['components']} connected component(s), {c['sites']} sites, "
        f"{c['forces']} forces with {c['units']} units, {c['movements']} movements"
    )
    routes = Table("route", "segments", "km", "parts", "class", title="routes")
    for r in s["routes"]:
        routes.add_row(
            r["route"], str(r["segments"]), f"{r['length_km']:.0f}", str(r["parts"]),
            ", ".join(r["road_classes"]),
        )  # fmt: skip
    con.print(routes)
    sites = Table("id", "name", "type", "crit.", "workers", "node", title="sites")
    for x in s["sites"]:
        sites.add_row(
            x["id"], x["name"], x["type"], f"{x['criticality']:g}", str(x["workers"]),
            x["node"] or "",
        )  # fmt: skip
    con.print(sites)
    for f in s["forces"]:
        units = Table("unit", "kind", "count", "base", "km/h", "P(detect)", "P(interdict)")
        for u in f["units"]:
            units.add_row(
                u["id"], u["kind"], str(u["count"]), u["base"],
                "fixed" if u["kind"] == "camera" else f"{u['speed_kmh']:g}",
                f"{u['detection_prob']:.2f}", f"{u['interdiction_prob']:.2f}",
            )  # fmt: skip
        units.title = f"{f['name']} — jurisdiction: {', '.join(f['jurisdiction'])}"
        con.print(units)
    for m in s["movements"]:
        con.print(
            f"movement {m['id']}: {m['origin']} -> {m['destination']}, {m['people']} people in "
            f"{m['vehicles']} vehicles, departs {m['window_start'][:5]}-{m['window_end'][:5]}"
        )
    con.print("[dim]" + " ".join(s["attribution"]) + "[/dim]")
