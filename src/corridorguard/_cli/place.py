"""``corridorguard place solve|sensors|checkpoints|qrf``: sensor, checkpoint and QRF planning."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, cast

import typer

from corridorguard._cli._common import JSON_OPTION, print_json, progress_bar
from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.placement.checkpoints import CheckpointPlacement
from corridorguard.placement.mclp import solve_mclp
from corridorguard.placement.qrf import QRFCoverage
from corridorguard.placement.sensors import SensorPlacement
from corridorguard.scenario import load_scenario

app = typer.Typer(
    no_args_is_help=True,
    help="Place cameras, drones, checkpoints and quick-reaction forces; solve MCLP files.",
)

SCENARIO = typer.Option(..., "--scenario", help="A built-in scenario name (e.g. cpec) or folder.")
RISK = typer.Option(
    None, "--risk", help='Risk JSON: {"edges": {edge id: rate}, "sites": {site id: rate}}.'
)
PNG = typer.Option(None, "--png", help="Write a PNG map of the plan here.")
METHOD = typer.Option("exact", "--method", help="exact (HiGHS MIP) or heuristic (greedy+swap).")
TIME_LIMIT = typer.Option(30.0, "--time-limit", help="Seconds for the exact solver.")


def read_json(path: Path) -> Any:
    """Read a JSON file; user errors carry the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"no such file: {path}", file=str(path)) from None
    except OSError as exc:
        raise ValidationError(f"cannot read: {exc.strerror}", file=str(path)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"not JSON: {exc.msg}", file=str(path), line=exc.lineno) from None


def read_risk(path: Path | None) -> tuple[dict[str, float] | None, dict[str, float] | None]:
    """``--risk`` file -> (edge risk, site risk) mappings (None when absent)."""
    if path is None:
        return None, None
    doc = read_json(path)
    if not isinstance(doc, dict) or not set(doc) <= {"edges", "sites"}:
        raise ValidationError('expected {"edges": {...}, "sites": {...}}', file=str(path))
    out: list[dict[str, float] | None] = []
    for key in ("edges", "sites"):
        part = doc.get(key)
        if part is not None and not isinstance(part, dict):
            raise ValidationError("must be an object", file=str(path), field=key)
        out.append(part or None)
    return out[0], out[1]


def _progress(label: str) -> Any:
    return progress_bar(label, total=None)


@app.command("solve")
def solve(
    file: Path = typer.Argument(..., help="A JSON MCLP problem (see docs/placement.md)."),
    method: str = METHOD,
    time_limit: float = TIME_LIMIT,
    as_json: bool = JSON_OPTION,
) -> None:
    """Solve a JSON maximal-covering problem (great-circle distance)."""
    if method not in ("exact", "heuristic"):
        raise ValidationError("method must be exact or heuristic", field="--method")
    problem = read_json(file)
    try:
        with _progress("MCLP") as update:
            out = solve_mclp(
                problem,
                method=cast(Any, method),
                time_limit=time_limit,
                progress=update,
            )
    except ValidationError as exc:
        exc.file = exc.file or str(file)
        raise
    if as_json:
        print_json(out)
        return
    typer.echo(
        f"{len(out['selected'])} selected, covered {out['covered_weight']:.6g} "
        f"(bound {out['bound']:.6g}, gap {out['gap']:.2%}, {out['method']}): "
        + ", ".join(str(s) for s in out["selected"])
    )


@app.command("sensors")
def sensors(
    scenario: str = SCENARIO,
    kind: str = typer.Option("camera", "--kind", help="camera or drone."),
    count: int = typer.Option(10, "--count", help="Sensors to place."),
    range_m: float | None = typer.Option(
        None, "--range-m", help="Camera range along the road / drone orbit radius (m)."
    ),
    existing: str = typer.Option("", "--existing", help="Comma-separated nodes already fitted."),
    candidates: str = typer.Option(
        "", "--candidates", help="Comma-separated nodes allowed (launch sites); default all."
    ),
    risk: Path | None = RISK,
    method: str = METHOD,
    time_limit: float = TIME_LIMIT,
    gaps: Path | None = typer.Option(None, "--gaps", help="Write the coverage gaps GeoJSON."),
    png: Path | None = PNG,
    as_json: bool = JSON_OPTION,
) -> None:
    """Place cameras or drones to cover the most risk-weighted road and site demand."""
    if kind not in ("camera", "drone"):
        raise ValidationError("kind must be camera or drone", field="--kind")
    if method not in ("exact", "heuristic"):
        raise ValidationError("method must be exact or heuristic", field="--method")
    sc = load_scenario(scenario)
    er, sr = read_risk(risk)
    plan = SensorPlacement(
        sc,
        kind=cast(Any, kind),
        count=count,
        range_m=range_m,
        existing=[x for x in existing.split(",") if x],
        candidates=[x for x in candidates.split(",") if x] or None,
        edge_risk=er,
        site_risk=sr,
        method=cast(Any, method),
        time_limit=time_limit,
    )
    with _progress(f"placing {kind}s") as update:
        plan.solve(progress=update)
    out = plan.to_dict()
    if gaps is not None:
        gaps.write_text(json.dumps(plan.gaps_), encoding="utf-8")
        out["gaps_file"] = str(gaps)
    if png is not None:
        from corridorguard._cli.route import plan_map

        plan_map(
            sc,
            png,
            title=f"{count} {kind}s: {plan.coverage_share_:.0%} of risk covered",
            sensors=plan.selected_,
            sensor_radius_m=plan.range_m if kind == "drone" else None,
            gaps=plan.gaps_,
        )
        out["png"] = str(png)
    if as_json:
        print_json(out)
        return
    del out["gaps"]
    typer.echo(
        f"{kind}s at {', '.join(plan.selected_)}: {plan.coverage_share_:.1%} of risk-weighted "
        f"demand covered (bound {plan.bound_:.6g}, gap {plan.gap_:.2%}; "
        f"{sc.labels.get('roads', 'schematic')} road data)"
    )


@app.command("checkpoints")
def checkpoints(
    scenario: str = SCENARIO,
    count: int = typer.Option(3, "--count", help="Maximum number of checkpoints."),
    reach_km: float = typer.Option(15.0, "--reach-km", help="Road km protected each side."),
    delay_s: float = typer.Option(120.0, "--delay-s", help="Mean delay per vehicle (s)."),
    hours: float = typer.Option(12.0, "--hours", help="Staffed hours per day."),
    burden_budget: float | None = typer.Option(
        None, "--burden-budget", help="Cap on civilian burden (vehicle-hours/day)."
    ),
    burden_penalty: float = typer.Option(
        0.0, "--burden-penalty", help="Protection given up per vehicle-hour of burden."
    ),
    frontier: bool = typer.Option(False, "--frontier", help="Also trace 1..count checkpoints."),
    risk: Path | None = RISK,
    time_limit: float = TIME_LIMIT,
    png: Path | None = PNG,
    as_json: bool = JSON_OPTION,
) -> None:
    """Place checkpoints on road segments: protection gained against civilian burden."""
    sc = load_scenario(scenario)
    er, sr = read_risk(risk)
    plan = CheckpointPlacement(
        sc,
        count=count,
        reach_m=reach_km * 1000.0,
        delay_s=delay_s,
        hours_per_day=hours,
        burden_budget=burden_budget,
        burden_penalty=burden_penalty,
        edge_risk=er,
        site_risk=sr,
        time_limit=time_limit,
    ).solve()
    out = plan.to_dict()
    if frontier:
        with progress_bar("protection vs burden", total=count) as update:
            rows = []
            for k in range(1, count + 1):
                rows.extend(plan.frontier(k)[-1:])
                update(k)
        out["frontier"] = rows
    if png is not None:
        from corridorguard._cli.route import plan_map

        plan_map(
            sc,
            png,
            title=(
                f"{len(plan.selected_)} checkpoints: "
                f"{plan.protection_share_:.0%} protected, "
                f"{plan.burden_:.0f} vehicle-h/day burden"
            ),
            checkpoints=plan.selected_,
        )
        out["png"] = str(png)
    if as_json:
        print_json(out)
        return
    typer.echo(
        f"checkpoints on {', '.join(plan.selected_)}: {plan.protection_share_:.1%} of risk "
        f"protected; civilian burden {plan.burden_:.1f} vehicle-hours/day "
        f"({sc.labels.get('traffic', 'notional')} traffic)"
    )
    for row in out.get("frontier", []):
        typer.echo(
            f"  {row['checkpoints']} checkpoint(s): {row['protection_share']:.1%} protected, "
            f"{row['burden_vehicle_hours_per_day']:.1f} vehicle-h/day"
        )


@app.command("qrf")
def qrf(
    scenario: str = SCENARIO,
    minutes: float = typer.Option(30.0, "--minutes", help="Response-time threshold T."),
    bases: str = typer.Option("", "--bases", help="Comma-separated base nodes (default: units)."),
    place: int = typer.Option(0, "--place", help="Also choose this many best base nodes."),
    objective: str = typer.Option("p-median", "--objective", help="p-median or p-center."),
    risk: Path | None = RISK,
    png: Path | None = PNG,
    as_json: bool = JSON_OPTION,
) -> None:
    """Quick-reaction force coverage: response times and risk reachable within T minutes."""
    sc = load_scenario(scenario)
    er, sr = read_risk(risk)
    cov = QRFCoverage(
        sc,
        bases=[b for b in bases.split(",") if b] or None,
        minutes=minutes,
        edge_risk=er,
        site_risk=sr,
    ).solve()
    out = cov.to_dict()
    if place > 0:
        if objective not in ("p-median", "p-center"):
            raise ValidationError("objective must be p-median or p-center", field="--objective")
        with progress_bar(f"{objective} bases", total=None):
            out["placement"] = cov.place_bases(place, objective=cast(Any, objective))
    if png is not None:
        from corridorguard._cli.route import plan_map

        plan_map(
            sc,
            png,
            title=(
                f"QRF: {cov.share_within_:.0%} of risk within {minutes:g} min "
                f"of {', '.join(cov.bases)}"
            ),
            bases=cov.bases,
            response=(cov.demand_, cov.minutes_, minutes),
        )
        out["png"] = str(png)
    if as_json:
        print_json(out)
        return
    typer.echo(
        f"{cov.share_within_:.1%} of risk-weighted demand within {minutes:g} min of "
        f"{', '.join(cov.bases)}"
    )
    slow = sorted(cov.sites_.items(), key=lambda kv: -kv[1])[:5]
    for sid, m in slow:
        typer.echo(f"  {sid}: {m:.0f} min" if math.isfinite(m) else f"  {sid}: unreachable")
    if "placement" in out:
        p = out["placement"]
        typer.echo(
            f"best {place} base(s) ({objective}): {', '.join(p['bases'])}; mean "
            f"{p['mean_minutes']:.0f} min, worst {p['max_minutes']:.0f} min, "
            f"{p['share_within']:.1%} within T"
        )
