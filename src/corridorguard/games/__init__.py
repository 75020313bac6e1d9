"""Stackelberg security games: optimal randomised allocation of patrols and checkpoints.

Pure computational core (no store/API/CLI imports). Typical use::

    from corridorguard.games import load_game, solve, sample_plans
    game = load_game("game.json")          # or Game.from_arrays(...), game_from_scenario(...)
    sol = solve(game)                       # GameSolution; sol.to_dict() == CLI JSON
    plans = sample_plans(game, sol, days=7, seed=1)

Solvers are objects (construct, ``solve()`` returns self, results in attributes ending ``_``):
:class:`Origami`, :class:`MultipleLP`, :class:`Eraser`, :class:`HeterogeneousSolver`,
:class:`QuantalResponse`, :class:`MonotonicMaximin`, :class:`IntervalSolver`,
:class:`NormalFormStackelberg`. See ``docs/game-format.md`` for the JSON format.
"""

from corridorguard.games.api import SOLVERS, choose_solver, make_solver, solve
from corridorguard.games.bounded import IntervalSolver, QuantalResponse, qr_defender_utility
from corridorguard.games.coordination import (
    CoordinationResult,
    FrontierPoint,
    burden_frontier,
    coordination_value,
)
from corridorguard.games.generators import random_game
from corridorguard.games.hetero import (
    Decomposition,
    HeterogeneousSolver,
    PureAssignment,
    bvn_decompose,
)
from corridorguard.games.io import dump_game, load_game
from corridorguard.games.maximin import MonotonicMaximin, monotone_worst_case
from corridorguard.games.milp import Eraser, MultipleLP
from corridorguard.games.model import AttackerType, Burden, Game, PayoffArrays, ResourceType, Target
from corridorguard.games.normal_form import NormalFormStackelberg, to_normal_form
from corridorguard.games.origami import Origami
from corridorguard.games.result import GameSolution, TypeResponse, best_response, evaluate
from corridorguard.games.sampling import PlanSample, comb_sample, sample_plans
from corridorguard.games.scenario_game import game_from_scenario, site_value

__all__ = [
    "SOLVERS",
    "AttackerType",
    "Burden",
    "CoordinationResult",
    "Decomposition",
    "Eraser",
    "FrontierPoint",
    "Game",
    "GameSolution",
    "HeterogeneousSolver",
    "IntervalSolver",
    "MonotonicMaximin",
    "MultipleLP",
    "NormalFormStackelberg",
    "Origami",
    "PayoffArrays",
    "PlanSample",
    "PureAssignment",
    "QuantalResponse",
    "ResourceType",
    "Target",
    "TypeResponse",
    "best_response",
    "burden_frontier",
    "bvn_decompose",
    "choose_solver",
    "comb_sample",
    "coordination_value",
    "dump_game",
    "evaluate",
    "game_from_scenario",
    "load_game",
    "make_solver",
    "monotone_worst_case",
    "qr_defender_utility",
    "random_game",
    "sample_plans",
    "site_value",
    "solve",
    "to_normal_form",
]
