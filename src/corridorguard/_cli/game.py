"""``corridorguard game solve|sample``: Stackelberg security games from JSON files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from corridorguard._cli._common import JSON_OPTION, print_json
from corridorguard.errors import ConfigError
from corridorguard.games import (
    burden_frontier,
    coordination_value,
    load_game,
    make_solver,
    sample_plans,
)

app = typer.Typer(
    no_args_is_help=True,
    help="Security games: solve, sample daily plans, coordinate forces, burden frontier.",
)

SOLVER_HELP = "auto | origami | eraser | multilp | hetero | qr | maximin | robust"
LAM_OPTION = typer.Option(None, "--lam", help="qr: quantal-response rationality (default 0.76).")
SUQR_OPTION = typer.Option(
    None,
    "--suqr",
    help="qr: SUQR weights 'w1,w2,w3' (coverage, reward, penalty), e.g. -9.85,0.37,0.15.",
)


def _options(solver: str, lam: float | None, suqr: str | None) -> dict[str, Any]:
    if lam is None and suqr is None:
        return {}
    if solver != "qr":
        raise ConfigError("--lam and --suqr apply to --solver qr", field="solver")
    if suqr is None:
        return {"lam": lam}
    try:
        w1, w2, w3 = (float(x) for x in suqr.split(","))
    except ValueError:
        raise ConfigError("--suqr needs three numbers 'w1,w2,w3'", field="suqr") from None
    return {"weights": (w1, w2, w3)}


@app.command("solve")
def solve_cmd(
    file: Path = typer.Argument(..., help="Game JSON file (docs/game-format.md)."),
    solver: str = typer.Option("auto", "--solver", help=SOLVER_HELP),
    lam: float | None = LAM_OPTION,
    suqr: str | None = SUQR_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Solve a game: coverage per target and the attacker's answer."""
    game = load_game(file)
    sol = make_solver(game, solver, **_options(solver, lam, suqr)).solve().solution_
    data = sol.to_dict()
    if as_json:
        print_json(data)
        return
    typer.echo(
        f"solver {data['solver']} ({data['status']}): defender utility "
        f"{data['defender_utility']:.6g}, attacker utility {data['attacker_utility']:.6g}, "
        f"attacked target {data['attacked_target']}"
    )
    for tid, c in data["coverage"].items():
        typer.echo(f"  {tid}: {c:.4f}")


@app.command("sample")
def sample_cmd(
    file: Path = typer.Argument(..., help="Game JSON file (docs/game-format.md)."),
    days: int = typer.Option(..., "--days", min=1, help="Number of daily plans."),
    seed: int = typer.Option(..., "--seed", help="Random seed (recorded in the output)."),
    solver: str = typer.Option("auto", "--solver", help=SOLVER_HELP),
    lam: float | None = LAM_OPTION,
    suqr: str | None = SUQR_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Sample daily pure plans that realise the optimal coverage (seeded)."""
    game = load_game(file)
    s = make_solver(game, solver, **_options(solver, lam, suqr)).solve()
    plans = sample_plans(
        game, s.solution_, days=days, seed=seed, decomposition=getattr(s, "decomposition_", None)
    )
    data: dict[str, Any] = {"solver": s.solution_.solver, **plans.to_dict()}
    if as_json:
        print_json(data)
        return
    typer.echo(f"{days} daily plan(s), seed {seed}, method {plans.method}")
    for plan in plans.days:
        if "assignments" in plan:
            parts = [f"{r}->{','.join(ts)}" for r, ts in plan["assignments"].items() if ts]
            typer.echo(f"  day {plan['day']}: {'; '.join(parts) or '(none)'}")
        else:
            typer.echo(f"  day {plan['day']}: {', '.join(plan['covered']) or '(none)'}")


@app.command("coordinate")
def coordinate_cmd(
    file: Path = typer.Argument(..., help="Game JSON file with resource_types and agencies."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Joint vs uncoordinated plans of the partner forces: the value of coordination."""
    res = coordination_value(load_game(file))
    data = res.to_dict()
    if as_json:
        print_json(data)
        return
    typer.echo(
        f"joint defender utility {res.joint.defender_utility:.6g}; uncoordinated "
        f"{res.uncoordinated.defender_utility:.6g}; value of coordination "
        f"{res.value_of_coordination:.6g}"
    )


@app.command("frontier")
def frontier_cmd(
    file: Path = typer.Argument(..., help="Game JSON file with a burden section."),
    points: int = typer.Option(12, "--points", min=2, help="Number of burden caps."),
    solver: str = typer.Option("auto", "--solver", help="multilp | eraser | hetero | auto"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Pareto frontier of defender expected loss against civilian burden."""
    pts, _ = burden_frontier(load_game(file), points=points, solver=solver)
    rows = [{"cap": p.cap, "burden": p.burden, "expected_loss": p.expected_loss} for p in pts]
    if as_json:
        print_json({"points": rows})
        return
    typer.echo("burden cap   burden   expected loss")
    for r in rows:
        typer.echo(f"{r['cap']:10.4g} {r['burden']:8.4g} {r['expected_loss']:15.6g}")
