"""Monotonic maximin at scale: the order-LP local search against the exact MILP, and the
guarantee against sampled monotone attackers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridorguard.errors import SolverError
from corridorguard.games import (
    Game,
    MonotonicMaximin,
    Origami,
    ResourceType,
    monotone_worst_case,
    random_game,
    solve,
)
from corridorguard.games.maximin import order_lp, weak_order


def monotone_attack(ua: np.ndarray, rng: np.random.Generator, tol: float = 1e-7) -> np.ndarray:
    """A random attacker distribution that is monotone in the attacker's utility: tied targets
    equal, better targets at least as likely (a random non-increasing step profile)."""
    order = np.argsort(-ua, kind="stable")
    su = ua[order]
    new_level = np.r_[True, su[1:] < su[:-1] - tol]
    level = np.cumsum(new_level) - 1
    k = int(level[-1]) + 1
    steps = np.cumsum(rng.exponential(size=k)[::-1])[::-1]  # non-increasing in level
    steps[rng.random(k) < 0.3] = 0.0  # some levels get nothing ...
    steps = np.maximum.accumulate(steps[::-1])[::-1]  # ... but keep it non-increasing
    if steps.sum() == 0:
        steps[0] = 1.0
    q = np.empty_like(ua)
    q[order] = steps[level]
    return q / q.sum()


def coverage_is_feasible(g: Game, c: np.ndarray) -> bool:
    return bool(np.all(c >= -1e-9) and np.all(c <= 1 + 1e-9) and c.sum() <= g.resources + 1e-7)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(3, 6), m=st.integers(1, 3), seed=st.integers(0, 10_000))
def test_local_search_is_certified_and_never_beats_the_exact_milp(
    n: int, m: int, seed: int
) -> None:
    g = random_game(n, m, seed=seed)
    exact = MonotonicMaximin(g, method="exact").solve()
    local = MonotonicMaximin(g, method="local").solve()
    assert exact.status_ == "optimal" and local.status_ == "feasible"
    for s in (exact, local):
        assert coverage_is_feasible(g, s.coverage_)
        assert monotone_worst_case(g, s.coverage_) == pytest.approx(s.worst_case_utility_)
    assert local.worst_case_utility_ <= exact.worst_case_utility_ + 1e-6
    # the search starts from ORIGAMI's and the no-coverage order: never worse than either
    for c in (Origami(g).solve().coverage_, np.zeros(n)):
        assert local.worst_case_utility_ >= monotone_worst_case(g, c) - 1e-9


@pytest.mark.parametrize("seed", [3, 7, 21])
def test_local_search_finds_the_milp_optimum_on_these_games(seed: int) -> None:
    # games where the search reaches the exact optimum (it does on most, not all, small games)
    g = random_game(4 + seed % 4, 1 + seed % 3, seed=seed)
    exact = MonotonicMaximin(g, method="exact").solve()
    local = MonotonicMaximin(g, method="local").solve()
    assert local.worst_case_utility_ == pytest.approx(exact.worst_case_utility_, abs=1e-6)


@pytest.mark.parametrize(("n", "m", "seed"), [(5, 2, 1), (40, 4, 2), (120, 12, 3)])
def test_guarantee_holds_against_sampled_monotone_attackers(n: int, m: int, seed: int) -> None:
    g = random_game(n, m, seed=seed)
    s = MonotonicMaximin(g, max_lps=150).solve()
    assert coverage_is_feasible(g, s.coverage_)
    ua = g.payoffs.attacker_utility(s.coverage_)
    ud = g.payoffs.defender_utility(s.coverage_)
    rng = np.random.default_rng(seed)
    for _ in range(300):
        q = monotone_attack(ua, rng)
        assert q @ ud >= s.worst_case_utility_ - 1e-7
    # the best response (uniform on the top tie group) is one of them, and it is attained
    top = ua >= ua.max() - 1e-7
    assert ud[top].mean() >= s.worst_case_utility_ - 1e-7
    assert s.worst_case_utility_ == pytest.approx(monotone_worst_case(g, s.coverage_))


def test_order_lp_value_is_a_lower_bound_on_its_coverage() -> None:
    g = random_game(30, 3, seed=5)
    groups = weak_order(g, Origami(g).solve().coverage_)
    out = order_lp(g, groups)
    assert out is not None
    v, c, _ = out
    assert coverage_is_feasible(g, c)
    assert monotone_worst_case(g, c) >= v - 1e-7
    # ORIGAMI's coverage satisfies this order's LP, so the LP is at least as good
    assert v >= monotone_worst_case(g, Origami(g).solve().coverage_) - 1e-7


def test_local_search_with_typed_resources_respects_eligibility() -> None:
    base = random_game(12, 3, seed=4)
    types = (ResourceType("a", 2, eligible=tuple(range(6))), ResourceType("b", 1))
    g = base.replace(resource_types=types)
    s = MonotonicMaximin(g, method="local", max_lps=200).solve()
    tc = s.type_coverage_
    assert tc is not None
    assert np.all(tc[0, 6:] <= 1e-9)
    assert np.all(tc.sum(axis=1) <= np.array([2, 1]) + 1e-7)
    assert tc.sum(axis=0) == pytest.approx(s.coverage_, abs=1e-9)
    assert s.worst_case_utility_ == pytest.approx(monotone_worst_case(g, s.coverage_))


def test_maximin_through_the_api_reports_feasible_for_large_games() -> None:
    g = random_game(30, 3, seed=9)
    sol = solve(g, "maximin", max_lps=60)
    assert sol.to_dict()["status"] == "feasible"
    small = solve(random_game(4, 1, seed=9), "maximin").to_dict()
    assert small["status"] == "optimal"


def test_unknown_method_is_a_solver_error() -> None:
    with pytest.raises(SolverError):
        MonotonicMaximin(random_game(4, 1, seed=0), method="fastest").solve()
