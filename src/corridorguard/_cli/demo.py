"""``corridorguard demo``: what ``make demo`` runs."""

from __future__ import annotations

from pathlib import Path

import typer

from corridorguard.report.maps import write_corridor_map
from corridorguard.scenario import load_scenario
from corridorguard.scenario.export import write_geojson


def demo(out: Path = typer.Option(Path("out"), "--out", help="Output folder.")) -> None:
    """Quick look: map and GeoJSON of the built-in CPEC scenario (`make demo` runs `plan`)."""
    out.mkdir(parents=True, exist_ok=True)
    scenario = load_scenario("cpec")
    map_png = write_corridor_map(scenario, out / "corridor.png")
    geojson = write_geojson(scenario, out / "cpec.geojson")
    typer.echo(
        f"scenario {scenario.name}: {len(scenario.nodes)} nodes, {len(scenario.edges)} roads"
    )
    typer.echo(f"corridor map:   {map_png}")
    typer.echo(f"GeoJSON export: {geojson}")
