"""Property tests (hypothesis): feasibility, best response, agreement, monotonicity."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from corridorguard.games import Eraser, Game, MultipleLP, Origami, best_response

payoff = st.integers(1, 10).map(float)


@st.composite
def games(draw, max_n: int = 12) -> Game:
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(0, n + 1))
    vec = st.lists(payoff, min_size=n, max_size=n)
    rd, pd, ra, pa = draw(vec), draw(vec), draw(vec), draw(vec)
    return Game.from_arrays(rd, [-x for x in pd], ra, [-x for x in pa], resources=m)


@settings(max_examples=150, deadline=None)
@given(games())
def test_origami_coverage_is_feasible_and_attack_is_best_response(g: Game) -> None:
    s = Origami(g).solve()
    c = s.coverage_
    assert np.all(c >= 0) and np.all(c <= 1)
    assert c.sum() <= g.resources + 1e-9
    ua = g.payoffs.attacker_utility(c)
    assert ua[s.attacked_] >= ua.max() - 1e-9
    _t, _, ud = best_response(g.payoffs, c)
    assert ud == s.defender_utility_


@settings(max_examples=40, deadline=None)
@given(games(max_n=8))
def test_lp_milp_and_origami_agree(g: Game) -> None:
    o = Origami(g).solve().defender_utility_
    m = MultipleLP(g).solve()
    e = Eraser(g).solve()
    assert abs(o - m.defender_utility_) <= 1e-7
    assert abs(o - e.defender_utility_) <= 1e-7
    for s in (m, e):
        ua = g.payoffs.attacker_utility(s.coverage_)
        assert ua[s.attacked_] >= ua.max() - 1e-7
        assert s.coverage_.sum() <= g.resources + 1e-7


@settings(max_examples=100, deadline=None)
@given(games(max_n=10))
def test_defender_utility_is_monotone_in_resources(g: Game) -> None:
    values = [
        Origami(g.replace(resources=m)).solve().defender_utility_ for m in range(g.n_targets + 1)
    ]
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(values))
