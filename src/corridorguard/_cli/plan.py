"""``corridorguard plan``: the main job (forecast, joint plan, evaluation, report)."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from corridorguard._cli._common import DB_OPTION, JSON_OPTION, print_json, progress_bar
from corridorguard.errors import ConfigError, NotFoundError

__all__ = ["load_incidents", "plan"]

STAGES = {
    "forecast": "forecast (backtest or prior)",
    "game": "site-guard game",
    "patrols": "joint patrol plan",
    "placement": "placement + convoy routes",
    "simulate": "simulate plans",
    "what-if": "what-if curves",
    "report": "write outputs",
}


class _Bars:
    """One rich bar per pipeline stage, opened when the stage reports first."""

    def __init__(self) -> None:
        self.stack = ExitStack()
        self.stage: str | None = None
        self.update: Any = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage != self.stage:
            self.stack.close()
            self.stack = ExitStack()
            self.update = self.stack.enter_context(
                progress_bar(STAGES.get(stage, stage), total=total)
            )
            self.stage = stage
        self.update(done, total)

    def close(self) -> None:
        self.stack.close()


def load_incidents(
    events: Path | None, fmt: str, mapping: str | None, db: str | None
) -> tuple[list[Any] | None, str]:
    """Incident records from a file, else from the store, else ``None`` (built-in layer)."""
    if events is not None:
        from corridorguard.incidents import read_incidents

        if not events.exists():
            raise NotFoundError(f"no such file: {events}", file=str(events), field="events")
        mp = json.loads(mapping) if mapping else None
        result = read_incidents(events, fmt, mapping=mp)
        return list(result.records), f"{events.name} ({fmt}, {len(result.records)} incidents)"
    if db is not None:
        from corridorguard.store import open_store

        with open_store(db) as store:
            rows = [s.incident for s in store.incidents.list()]
        if rows:
            return rows, f"store ({len(rows)} incidents)"
        return None, "built-in CPEC layer (the store holds no incidents)"
    return None, "built-in CPEC layer (13 reported attacks)"


def plan(
    scenario: str = typer.Option("cpec", "--scenario", help="Built-in scenario name or folder."),
    events: Path | None = typer.Option(None, "--events", help="Incident file to forecast from."),
    fmt: str = typer.Option("ucdp", "--format", help="ucdp|gtd|acled|csv|geojson"),
    mapping: str | None = typer.Option(None, "--mapping", help="Column mapping (JSON, csv)."),
    db: str | None = DB_OPTION,
    days: int = typer.Option(7, "--days", min=1, max=60, help="Plan length in days."),
    seed: int = typer.Option(0, "--seed", help="Seed for every random choice (recorded)."),
    out: Path = typer.Option(Path("out"), "--out", help="Output folder."),
    dask: str | None = typer.Option(None, "--dask", help="Dask scheduler address."),
    sim_days: int = typer.Option(
        200_000, "--sim-days", min=1_000, help="Simulated attacker-days per plan."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Forecast, plan both forces' patrols, place checkpoints/sensors/QRF, route convoys,
    evaluate against the static baseline by simulation and write the report."""
    from corridorguard.pipeline import SimSizes, run_plan
    from corridorguard.scenario import load_scenario

    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder", field="out")
    sc = load_scenario(scenario)
    records, source = load_incidents(events, fmt, mapping, db)
    bars = _Bars()
    t0 = time.perf_counter()
    try:
        result = run_plan(
            sc, records, days=days, seed=seed, out_dir=out, progress=bars, dask=dask,
            sizes=SimSizes(compare_days=sim_days, what_if_days=max(1_000, sim_days // 5)),
            incidents_source=source,
        )  # fmt: skip
    finally:
        bars.close()
    wall = time.perf_counter() - t0
    from corridorguard.pipeline.document import answer

    ans = answer(result)
    if as_json:
        fc = result.forecast
        print_json(
            {
                "out": str(out),
                "files": {"report": str(out / "report.html"), "plan": str(out / "plan.json")},
                "seed": seed,
                "forecast": {"status": fc.status, "model": fc.model, "reason": fc.reason},
                "answer": ans,
                "seconds": wall,
            }
        )
        return
    _summary(result, ans, out, wall)


def _ci(e: dict[str, Any] | None, d: int = 2) -> str:
    if not e or e.get("mean") is None:
        return "–"
    return f"{e['mean']:.{d}f} [{e['low']:.{d}f},{e['high']:.{d}f}]"


def _summary(result: Any, ans: dict[str, Any], out: Path, wall: float) -> None:
    con = Console()
    fc = result.forecast
    tag = "[green]validated[/]" if fc.validated else "[bold red]NOT VALIDATED (prior)[/]"
    con.rule(f"[bold]corridorguard plan: {result.scenario.name} · seed {result.seed}")
    con.print(f"Forecast: {fc.model} — {tag}. {fc.reason}.", highlight=False)
    tab = Table(title="Are current measures enough? (harm per attacker-day, 95% CI)")
    for col in ("plan", "harm", "vs static", "interdicted", "civ. delay"):
        tab.add_column(col, justify="left" if col == "plan" else "right")
    for name, p in ans["plans"].items():
        diff = "baseline" if name == "static" else _ci(p["harm_vs_static"], 1)
        if name != "static" and p["significant"]:
            diff += "*"
        tab.add_row(
            name[:6] + "." if name == "uncoordinated" else name,
            _ci(p["harm"], 1),
            diff,
            f"{p['interdicted']['mean']:.3f}",
            f"{p['delay_vehicle_hours_per_day']:,.0f}",
        )
    con.print(tab)
    con.print(f"[bold]{ans['verdict'].capitalize()}.[/]  (* = CI of the difference excludes 0)")
    burden = "; ".join(
        f"{n}: {p['delay_vehicle_hours_per_day']:,.0f} vehicle-hours delay, "
        f"{p['stops_per_day']:,.0f} stops"
        for n, p in ans["plans"].items()
    )
    con.print(f"Civilian burden per day — {burden}.", highlight=False)
    coord = ans["value_of_coordination_harm"]["uncoordinated_minus_optimised"]
    con.print(
        f"Value of coordination (harm, uncoordinated − joint): {_ci(coord)}; "
        f"patrol game {result.patrol.value_of_coordination:.3f}, "
        f"site game {result.game['value_of_coordination']:.3f} (defender utility)."
    )
    marg = Table(title="Marginal value of more resources (harm change per unit added)")
    marg.add_column("resource")
    marg.add_column("levels")
    marg.add_column("harm", justify="right")
    marg.add_column("per unit", justify="right")
    for k, m in ans["marginal_value"].items():
        per = ", ".join("–" if v is None else f"{v:+.2f}" for v in m["marginal_per_unit"])
        marg.add_row(
            k, " → ".join(map(str, m["levels"])), " → ".join(f"{h:.1f}" for h in m["harm"]), per
        )
    con.print(marg)
    con.print(
        "[yellow]Notional forces, traffic and lethality: the numbers rank plans; they do not "
        "predict casualties.[/]"
    )
    con.print(f"report: {out / 'report.html'}   plan: {out / 'plan.json'}   ({wall:.0f} s)")
