"""One entry point: ``solve(game, solver="auto")``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from corridorguard.errors import ConfigError
from corridorguard.games.bounded import IntervalSolver, QuantalResponse
from corridorguard.games.hetero import HeterogeneousSolver
from corridorguard.games.io import load_game
from corridorguard.games.maximin import MonotonicMaximin
from corridorguard.games.milp import Eraser, MultipleLP
from corridorguard.games.model import Game
from corridorguard.games.origami import Origami
from corridorguard.games.result import GameSolution

__all__ = ["SOLVERS", "SolverName", "choose_solver", "make_solver", "solve"]

SolverName = Literal["auto", "origami", "eraser", "multilp", "hetero", "qr", "maximin", "robust"]

SOLVERS: dict[str, Any] = {
    "origami": Origami,
    "eraser": Eraser,
    "multilp": MultipleLP,
    "hetero": HeterogeneousSolver,
    "qr": QuantalResponse,
    "maximin": MonotonicMaximin,
    "robust": IntervalSolver,
}


def choose_solver(game: Game) -> str:
    """``auto``: ORIGAMI when it is exact, else the typed-resource solver (LP or MILP + BvN),
    ERASER (Bayesian) or multiple LPs (burden)."""
    if game.is_typed:
        return "hetero"
    if game.is_bayesian:
        return "eraser"
    if game.burden is not None:
        return "multilp"
    return "origami"


def make_solver(game: Game, solver: str = "auto", **options: Any) -> Any:
    """An unsolved solver object for ``game`` (``options`` go to its constructor)."""
    name = choose_solver(game) if solver == "auto" else solver
    if name not in SOLVERS:
        raise ConfigError(
            f"unknown solver {solver!r}; choose one of auto, {', '.join(SOLVERS)}",
            field="solver",
        )
    return SOLVERS[name](game, **options)


def solve(
    game: Game | Mapping[str, Any] | str | Path,
    solver: SolverName | str = "auto",
    **options: Any,
) -> GameSolution:
    """Solve ``game`` (a :class:`Game`, or a dict/path for :func:`load_game`) and return its
    :class:`GameSolution` (``.to_dict()`` = the CLI's JSON).

    Raises :class:`~corridorguard.errors.SolverError` when the chosen solver cannot handle the
    game or finds no proven optimum.
    """
    if not isinstance(game, Game):
        game = load_game(game)
    sol: GameSolution = make_solver(game, solver, **options).solve().solution_
    return sol
