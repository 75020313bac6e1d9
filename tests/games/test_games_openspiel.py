"""Differential test against OpenSpiel's ``stackelberg_lp`` (Conitzer & Sandholm via cvxpy)."""

from __future__ import annotations

import numpy as np
import pyspiel
import pytest
from open_spiel.python.algorithms import stackelberg_lp

from corridorguard.games import (
    MultipleLP,
    NormalFormStackelberg,
    Origami,
    random_game,
    to_normal_form,
)


def openspiel_value(leader: np.ndarray, follower: np.ndarray) -> float:
    game = pyspiel.create_matrix_game(leader.tolist(), follower.tolist())
    _, _, value, _ = stackelberg_lp.solve_stackelberg(game)
    return float(value)


CASES = [
    (2, 1, 0), (3, 1, 1), (4, 2, 2), (5, 1, 3), (6, 2, 4), (8, 1, 5), (9, 3, 9), (10, 1, 6),
    (12, 1, 7), (12, 2, 8),
]  # fmt: skip


@pytest.mark.parametrize(("n", "m", "seed"), CASES)
def test_defender_utility_equals_openspiel(n: int, m: int, seed: int) -> None:
    g = random_game(n, m, seed=seed)
    leader, follower = to_normal_form(g)
    ours = Origami(g).solve().defender_utility_
    assert abs(ours - openspiel_value(leader, follower)) <= 1e-6
    assert abs(MultipleLP(g).solve().defender_utility_ - ours) <= 1e-9
    assert abs(NormalFormStackelberg(leader, follower).solve().leader_utility_ - ours) <= 1e-9


def test_fig1_game_matches_openspiel() -> None:
    leader = np.array([[2.0, 4.0], [1.0, 3.0]])
    follower = np.array([[1.0, 0.0], [0.0, 1.0]])
    ours = NormalFormStackelberg(leader, follower).solve().leader_utility_
    assert abs(ours - openspiel_value(leader, follower)) <= 1e-6
    assert ours == pytest.approx(3.5)
