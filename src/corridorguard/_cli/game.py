"""``corridorguard game solve|sample``: Stackelberg security games from JSON files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from corridorguard._cli._common import JSON_OPTION, print_json
from corridorguard.games import load_game, make_solver, sample_plans

app = typer.Typer(no_args_is_help=True, help="Security games: solve a game file, sample plans.")

SOLVER_HELP = "auto | origami | eraser | multilp | hetero | qr | maximin | robust"


@app.command("solve")
def solve_cmd(
    file: Path = typer.Argument(..., help="Game JSON file (docs/game-format.md)."),
    solver: str = typer.Option("auto", "--solver", help=SOLVER_HELP),
    as_json: bool = JSON_OPTION,
) -> None:
    """Solve a game: coverage per target and the attacker's answer."""
    game = load_game(file)
    sol = make_solver(game, solver).solve().solution_
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
    as_json: bool = JSON_OPTION,
) -> None:
    """Sample daily pure plans that realise the optimal coverage (seeded)."""
    game = load_game(file)
    s = make_solver(game, solver).solve()
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
