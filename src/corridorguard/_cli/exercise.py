"""``corridorguard exercise run|example``: play an inject script against a plan."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from corridorguard._cli._common import JSON_OPTION, print_json
from corridorguard.simulate.exercise import AfterAction, example_script, load_script, run_exercise

app = typer.Typer(
    no_args_is_help=True,
    help="Exercises: run a YAML inject script against a plan and get the after-action summary.",
)


@app.command("run")
def run(
    script: Path = typer.Argument(..., help="The inject script (YAML); see docs/simulate.md."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run SCRIPT and print the after-action summary (detection, hand-offs, response, KPIs)."""
    result = run_exercise(load_script(script))
    if as_json:
        print_json({"ok": True, **result.to_dict()})
    else:
        _print(result)


@app.command("validate")
def validate(
    script: Path = typer.Argument(..., help="The inject script (YAML)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check SCRIPT (fields, references, times) without running it."""
    s = load_script(script)
    summary = {
        "ok": True,
        "file": str(script),
        "exercise": s.exercise.name,
        "injects": len(s.injects),
        "units": len(s.units),
        "targets": len(s.targets),
    }
    if as_json:
        print_json(summary)
    else:
        typer.echo(
            f"{script}: ok ({summary['injects']} injects, {summary['units']} units, "
            f"{summary['targets']} targets)"
        )


@app.command("example")
def example(
    path_only: bool = typer.Option(False, "--path", help="Print the file's path, not its text."),
) -> None:
    """Print the example inject script shipped with corridorguard (a starting point)."""
    path = example_script()
    typer.echo(str(path) if path_only else path.read_text(encoding="utf-8"), nl=path_only)


def _fmt(value: float | None, unit: str = " min") -> str:
    return "-" if value is None else f"{value:.1f}{unit}"


def _print(r: AfterAction) -> None:
    console = Console(highlight=False)
    label = " [NOTIONAL data]" if r.notional else ""
    o = r.overall
    share = None if o["in_time_share"] is None else 100 * o["in_time_share"]
    console.print(f"[bold]After-action: {r.name}[/bold]{label}")
    console.print(
        f"{o['injects']} injects, {o['detected']} detected; mean time to detect "
        f"{_fmt(o['time_to_detect_min']['mean'])}; mean response {_fmt(o['response_min']['mean'])};"
        f" QRF in time {_fmt(share, '%')};"
        f" {o['handoffs']} hand-off(s), mean delay {_fmt(o['handoff_delay_min']['mean'])}"
    )
    table = Table(
        "inject",
        "time",
        "target",
        "type",
        "detected by",
        "detect",
        "hand-off",
        "QRF",
        "wait",
        "response",
        "outcome",
        title="Injects",
    )
    for x in r.injects:
        table.add_row(
            x.id,
            r.clock(x.at),
            x.target,
            x.type,
            x.detected_by or "-",
            _fmt(x.time_to_detect_min),
            _fmt(x.handoff_delay_min) if x.handoff else "-",
            x.qrf or "-",
            _fmt(x.qrf_wait_min),
            _fmt(x.response_min),
            x.outcome,
        )
    console.print(table)
    forces = Table(
        "force",
        "in area",
        "detected",
        "first det.",
        "detect mean",
        "sent",
        "received",
        "hand-off mean",
        "QRF sent",
        "response mean",
        "in time",
        title="KPIs per force",
    )
    for k in r.by_force.values():
        forces.add_row(
            k["name"],
            str(k["injects_in_area"]),
            str(k["detected_in_area"]),
            str(k["first_detections"]),
            _fmt(k["time_to_detect_min"]["mean"]),
            str(k["handoffs_sent"]),
            str(k["handoffs_received"]),
            _fmt(k["handoff_delay_min"]["mean"]),
            str(k["qrf_dispatches"]),
            _fmt(k["response_min"]["mean"]),
            str(k["in_time"]),
        )
    console.print(forces)
