"""Games with known answers (research digest E1–E5)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from corridorguard.games import (
    Eraser,
    Game,
    HeterogeneousSolver,
    MultipleLP,
    NormalFormStackelberg,
    Origami,
    ResourceType,
    solve,
    to_normal_form,
)

MARGINAL = [Origami, MultipleLP, Eraser]


def zero_sum(values: list[float], m: int) -> Game:
    v = np.array(values, dtype=float)
    return Game.from_arrays(np.zeros_like(v), -v, v, np.zeros_like(v), resources=m)


def test_korzhyk_conitzer_parr_fig1_leader_gets_3_5() -> None:
    s = NormalFormStackelberg([[2, 4], [1, 3]], [[1, 0], [0, 1]]).solve()
    assert s.leader_utility_ == pytest.approx(3.5, abs=1e-9)
    assert s.strategy_ == pytest.approx([0.5, 0.5], abs=1e-9)
    assert s.follower_action_ == 1
    assert s.status_ == "optimal"


@pytest.mark.parametrize(
    ("leader", "follower", "strategy", "value"),
    [
        ([[2, 0, 0], [1, 0, 0]], [[0, 2, 5], [0, -1, -4]], [1 / 3, 2 / 3], 4 / 3),
        ([[3, 9], [9, 1]], [[0, 0], [1, 8]], [1, 0], 9),
    ],
)
def test_openspiel_test_games(leader, follower, strategy, value) -> None:
    s = NormalFormStackelberg(leader, follower).solve()
    assert s.leader_utility_ == pytest.approx(value, abs=1e-9)
    assert s.strategy_ == pytest.approx(strategy, abs=1e-9)


@pytest.mark.parametrize("solver", MARGINAL)
def test_zero_sum_two_targets_one_resource(solver) -> None:
    s = solver(zero_sum([10, 5], 1)).solve()
    assert s.coverage_ == pytest.approx([2 / 3, 1 / 3], abs=1e-9)
    assert s.defender_utility_ == pytest.approx(-10 / 3, abs=1e-9)


@pytest.mark.parametrize("solver", MARGINAL)
def test_zero_sum_three_targets(solver) -> None:
    s1 = solver(zero_sum([10, 5, 2], 1)).solve()
    assert s1.coverage_ == pytest.approx([2 / 3, 1 / 3, 0], abs=1e-9)
    assert s1.defender_utility_ == pytest.approx(-10 / 3, abs=1e-9)
    s2 = solver(zero_sum([10, 5, 2], 2)).solve()
    assert s2.coverage_ == pytest.approx([7 / 8, 3 / 4, 3 / 8], abs=1e-9)
    assert s2.defender_utility_ == pytest.approx(-5 / 4, abs=1e-9)


E5 = Game.from_arrays(
    [2, 7, 6, 9, 9], [-10, -4, -1, -9, -9], [4, 3, 5, 7, 3], [-7, -1, -6, -3, -10], resources=1
)


@pytest.mark.parametrize("solver", MARGINAL)
def test_kukreja_halfond_tambe_game(solver) -> None:
    s = solver(E5).solve()
    exact = [Fraction(2677, 19151), Fraction(234, 1741), Fraction(4418, 19151)]
    exact += [Fraction(790, 1741), Fraction(72, 1741)]
    assert s.coverage_ == pytest.approx([float(x) for x in exact], abs=1e-9)
    assert s.defender_utility_ == pytest.approx(11775 / 19151, abs=1e-9)
    assert s.attacker_utility_ == pytest.approx(4287 / 1741, abs=1e-9)
    assert s.solution_.attacked_target == "t2"


def test_e5_normal_form_matches_marginals() -> None:
    leader, follower = to_normal_form(E5)
    nf = NormalFormStackelberg(leader, follower).solve()
    assert nf.leader_utility_ == pytest.approx(11775 / 19151, abs=1e-9)


def test_typed_game_with_one_universal_type_equals_homogeneous() -> None:
    typed = E5.replace(resource_types=(ResourceType("r", 1),))
    s = HeterogeneousSolver(typed).solve()
    assert s.defender_utility_ == pytest.approx(11775 / 19151, abs=1e-9)
    assert s.decomposition_.weights.sum() == pytest.approx(1.0)


def test_idle_resources_when_everything_could_be_covered() -> None:
    # m >= n: covering everything makes the attacker hit target 0 (defender -1); leaving
    # target 1 partly uncovered steers him to target 1, where the defender does better.
    g = Game.from_arrays([-1, 5], [-2, 0], [1, 1], [0, -1], resources=2)
    o = Origami(g).solve()
    m = MultipleLP(g).solve()
    assert o.defender_utility_ == pytest.approx(m.defender_utility_, abs=1e-9)
    leader, follower = to_normal_form(g)
    nf = NormalFormStackelberg(leader, follower).solve()
    assert o.defender_utility_ == pytest.approx(nf.leader_utility_, abs=1e-9)
    assert o.coverage_.sum() <= 2 + 1e-12


def test_solve_auto_dispatch() -> None:
    assert solve(E5).solver == "origami"
    assert solve(E5, "multilp").solver == "multilp"
