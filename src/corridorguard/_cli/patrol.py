"""``corridorguard patrol plan``: joint randomised patrol schedules for the partner forces."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import typer

from corridorguard._cli._common import JSON_OPTION, print_json, progress_bar
from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.scenario import Scenario

app = typer.Typer(no_args_is_help=True, help="Patrol routes and schedules on the road graph.")


def load_named_scenario(name: str) -> Scenario:
    """A built-in scenario by name, ``grid:RxC[:seed]`` (synthetic, notional) or a JSON file."""
    if name.startswith("grid:"):
        from corridorguard.patrol.synthetic import grid_scenario

        parts = name.split(":")
        try:
            rows, cols = (int(x) for x in parts[1].lower().split("x"))
            seed = int(parts[2]) if len(parts) > 2 else 0
        except ValueError:
            raise ValidationError("use grid:ROWSxCOLS[:SEED]", field="--scenario") from None
        return grid_scenario(rows, cols, units_per_force=5, n_sites=8, n_movements=2, seed=seed)
    path = Path(name)
    if path.suffix.lower() == ".json" and path.is_file():
        try:
            return Scenario.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise ValidationError(str(exc).splitlines()[0], file=str(path)) from None
    import corridorguard.scenario as scenario_pkg

    loader = getattr(scenario_pkg, "load_scenario", None)
    if loader is None:
        raise NotFoundError(f"unknown scenario {name!r}", field="--scenario")
    result: Scenario = loader(name)
    return result


@app.command("plan")
def plan(
    scenario: str = typer.Option(
        ..., "--scenario", help="Built-in name (e.g. cpec), a scenario JSON file or grid:RxC."
    ),
    days: int = typer.Option(7, "--days", min=1, max=366, help="Days of schedules to draw."),
    shift_hours: float | None = typer.Option(
        None, "--shift-hours", help="Shift length of every unit (default: each unit's own)."
    ),
    slot_minutes: float = typer.Option(60.0, "--slot-minutes", help="Time-slot length."),
    seed: int = typer.Option(0, "--seed", help="Seed of the schedule draw (recorded)."),
    out: Path = typer.Option(..., "--out", help="Output folder (plan.json, routes/, map PNG)."),
    method: str = typer.Option("sse", "--method", help="sse (Stackelberg) or maximin."),
    max_consecutive_hours: float | None = typer.Option(
        None, "--max-consecutive-hours", help="Longest time away from base (column generation)."
    ),
    min_rest_hours: float = typer.Option(
        0.0, "--min-rest-hours", help="Rest at base between outings (column generation)."
    ),
    start_date: str = typer.Option("2026-01-01", "--start-date", help="First day (ISO date)."),
    utc_offset: float = typer.Option(0.0, "--utc-offset", help="Local time minus UTC, hours."),
    entropy_threshold: float | None = typer.Option(
        None, "--entropy-threshold", help="Warn when schedule entropy (bits/day) is lower."
    ),
    map_day: int = typer.Option(0, "--map-day", help="Day drawn on the PNG map."),
    risk: Path | None = typer.Option(
        None, "--risk", help="Asset-risk JSON from the risk engine (per-site/edge probability)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Solve the joint and uncoordinated patrol games and write daily routes per unit."""
    from corridorguard.patrol.export import plot_day, write_unit_day_files
    from corridorguard.patrol.plan import PatrolConfig, plan_patrols

    try:
        first = date.fromisoformat(start_date)
    except ValueError:
        raise ValidationError("not an ISO date", field="--start-date") from None
    if not 0 <= map_day < days:
        raise ValidationError("must be one of the planned days", field="--map-day")
    sc = load_named_scenario(scenario)
    risk_map = None
    if risk is not None:
        from corridorguard.patrol.targets import risk_from_assets

        try:
            raw = json.loads(risk.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValidationError(f"cannot read risk file: {exc}", file=str(risk)) from None
        try:
            risk_map = risk_from_assets(raw)
        except ValidationError as exc:
            exc.file = str(risk)
            raise
    cfg = PatrolConfig(
        days=days,
        slot_minutes=slot_minutes,
        shift_hours=shift_hours,
        seed=seed,
        method=method,
        max_consecutive_hours=max_consecutive_hours,
        min_rest_hours=min_rest_hours,
        start_date=first,
        utc_offset_hours=utc_offset,
        entropy_threshold=entropy_threshold,
    )
    with progress_bar("Planning patrols", total=3 + days) as update:
        done = {"solve": 0, "sample": 0}

        def report(stage: str, k: int, total: int) -> None:
            done[stage] = k
            update(min(done["solve"], 3) + done["sample"])

        result = plan_patrols(sc, cfg, risk=risk_map, progress=report)
    out.mkdir(parents=True, exist_ok=True)
    with progress_bar("Writing routes", total=days) as update:
        files = write_unit_day_files(sc, result.schedules, out)
        update(days)
    map_png = plot_day(
        sc,
        result.schedules[map_day],
        out / f"map_day{map_day:02d}.png",
        title=f"Patrol routes, day {map_day} — {sc.name}",
    )
    data: dict[str, Any] = result.to_dict()
    warnings = []
    if entropy_threshold is not None and result.predictability_bits < entropy_threshold:
        warnings.append(
            f"schedule entropy {result.predictability_bits:.2f} bits/day is below "
            f"{entropy_threshold:.2f}"
        )
    data["warnings"] = warnings
    data["files"] = {"map": str(map_png), "routes": len(files), "plan": str(out / "plan.json")}
    (out / "plan.json").write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    if as_json:
        print_json(data)
        return
    typer.echo(f"scenario {sc.name}: {days} day(s), seed {seed}, solver {data['solver']}")
    typer.echo(
        f"defender utility {data['defender_utility']:.4f} joint, "
        f"{data['uncoordinated']['defender_utility']:.4f} uncoordinated "
        f"(value of coordination {data['value_of_coordination']:.4f})"
    )
    typer.echo(f"predictability: {result.predictability_bits:.1f} bits/day of schedule entropy")
    for w in warnings:
        typer.echo(f"warning: {w}", err=True)
    typer.echo(f"wrote {len(files)} route files, {out / 'plan.json'} and {map_png}")
