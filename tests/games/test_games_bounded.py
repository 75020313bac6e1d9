"""Boundedly rational and uncertain attackers: QR/SUQR, monotonic maximin, interval payoffs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from corridorguard.games import (
    Burden,
    Game,
    IntervalSolver,
    MonotonicMaximin,
    Origami,
    QuantalResponse,
    ResourceType,
    monotone_worst_case,
    qr_defender_utility,
    random_game,
)


def multistart_nlp(g: Game, starts: int, **kw) -> float:
    """BRQR-style baseline: local NLP (SLSQP) from random feasible starts."""
    n, m = g.n_targets, g.resources
    rng = np.random.default_rng(0)
    best = -np.inf
    cons = [{"type": "ineq", "fun": lambda c: m - c.sum(), "jac": lambda c: -np.ones(n)}]
    for _ in range(starts):
        x0 = rng.random(n)
        x0 *= min(1.0, m / x0.sum())
        res = minimize(
            lambda c: -qr_defender_utility(g, np.clip(c, 0, 1), **kw),
            x0,
            method="SLSQP",
            bounds=[(0, 1)] * n,
            constraints=cons,
        )
        if res.x.sum() <= m + 1e-6:
            best = max(best, -res.fun)
    return best


@pytest.mark.parametrize(("n", "m", "seed"), [(4, 1, 0), (6, 2, 1), (8, 3, 2)])
def test_qr_is_at_least_as_good_as_multistart_nlp(n: int, m: int, seed: int) -> None:
    g = random_game(n, m, seed=seed)
    s = QuantalResponse(g, lam=0.76).solve()
    assert s.coverage_.sum() <= m + 1e-9
    assert np.all((s.coverage_ >= 0) & (s.coverage_ <= 1))
    assert s.defender_utility_ == pytest.approx(qr_defender_utility(g, s.coverage_), abs=1e-12)
    assert s.defender_utility_ >= multistart_nlp(g, 30, lam=0.76) - 1e-3


def test_suqr_weights() -> None:
    g = random_game(6, 2, seed=3)
    w = (-9.85, 0.37, 0.15)
    s = QuantalResponse(g, weights=w).solve()
    assert s.defender_utility_ >= multistart_nlp(g, 30, weights=w) - 1e-3
    assert s.attack_probabilities_.sum() == pytest.approx(1.0)


def test_qr_approaches_sse_for_a_very_rational_attacker() -> None:
    g = Game.from_arrays([0, 0], [-10, -5], [10, 5], [0, 0], resources=1)
    s = QuantalResponse(g, lam=60.0).solve()
    assert s.coverage_ == pytest.approx([2 / 3, 1 / 3], abs=0.02)


def worst_monotone(g: Game, c: np.ndarray, tol: float = 1e-7) -> float:
    """Worst defender utility over monotone attackers (ties get equal probability), the slow
    way: every top set of targets."""
    ua = g.payoffs.attacker_utility(c)
    ud = g.payoffs.defender_utility(c)
    return float(min(ud[ua >= ua[s] - tol].mean() for s in range(len(c))))


@pytest.mark.parametrize(("n", "m", "seed"), [(3, 1, 0), (4, 2, 1), (5, 2, 2), (6, 2, 3)])
def test_monotonic_maximin_is_robust_and_optimal_on_samples(n: int, m: int, seed: int) -> None:
    g = random_game(n, m, seed=seed)
    s = MonotonicMaximin(g).solve()
    assert s.worst_case_utility_ == pytest.approx(worst_monotone(g, s.coverage_), abs=1e-5)
    assert monotone_worst_case(g, s.coverage_) == pytest.approx(s.worst_case_utility_)
    rng = np.random.default_rng(seed)
    rivals = [Origami(g).solve().coverage_, np.full(n, m / n)]
    for _ in range(200):
        x = rng.random(n)
        rivals.append(x * min(1.0, m / x.sum()))
    for c in rivals:
        assert worst_monotone(g, c) <= s.worst_case_utility_ + 1e-6


def test_interval_solver_with_point_intervals_is_the_sse() -> None:
    g = random_game(6, 2, seed=4)
    robust = IntervalSolver(g).solve()
    sse = Origami(g).solve().defender_utility_
    # near-ties within eps count as attackable, so the robust value is conservative by O(eps)
    assert sse - 1e-3 <= robust.defender_utility_ <= sse + 1e-9


def worst_interval(g: Game, c: np.ndarray, tol: float = 1e-7) -> float:
    lo = g.ra_range[:, 0] * (1 - c) + g.pa_range[:, 0] * c
    hi = g.ra_range[:, 1] * (1 - c) + g.pa_range[:, 1] * c
    possible = hi >= lo.max() - tol
    return float(g.payoffs.defender_utility(c)[possible].min())


def test_interval_solver_maximises_the_worst_case() -> None:
    base = random_game(5, 2, seed=6)
    p = base.payoffs
    g = base.replace(ra_range=np.c_[p.ra - 1, p.ra + 1], pa_range=np.c_[p.pa - 0.5, p.pa + 0.5])
    s = IntervalSolver(g).solve()
    assert s.defender_utility_ == pytest.approx(worst_interval(g, s.coverage_), abs=1e-4)
    assert s.defender_utility_ <= Origami(base).solve().defender_utility_ + 1e-9
    rng = np.random.default_rng(1)
    rivals = [Origami(base).solve().coverage_]
    for _ in range(300):
        x = rng.random(5)
        rivals.append(x * min(1.0, 2 / x.sum()))
    for c in rivals:
        assert worst_interval(g, c) <= s.defender_utility_ + 1e-4


def test_qr_with_one_universal_type_equals_homogeneous() -> None:
    g = random_game(10, 3, seed=8)
    homogeneous = QuantalResponse(g).solve()
    typed = QuantalResponse(g.replace(resource_types=(ResourceType("r", 3),))).solve()
    assert typed.method_ == "cutting-plane LP" and homogeneous.method_ == "Lagrangian"
    assert typed.defender_utility_ == pytest.approx(homogeneous.defender_utility_, abs=1e-6)
    assert typed.type_coverage_.sum(axis=0) == pytest.approx(typed.coverage_, abs=1e-9)


def test_qr_with_typed_resources_beats_multistart_nlp() -> None:
    g = random_game(7, 3, seed=9).replace(
        resource_types=(
            ResourceType("a", 2, eligible=(0, 1, 2, 3)),
            ResourceType("b", 1, eligible=(3, 4, 5, 6)),
        )
    )
    s = QuantalResponse(g).solve()
    elig = g.eligibility()
    pairs = np.argwhere(elig)
    k = len(pairs)

    def cov(x: np.ndarray) -> np.ndarray:
        return np.clip(np.bincount(pairs[:, 1], weights=x, minlength=7), 0, 1)

    cons = [
        {"type": "ineq", "fun": lambda x, r=r, cnt=cnt: cnt - x[pairs[:, 0] == r].sum()}
        for r, cnt in ((0, 2), (1, 1))
    ] + [{"type": "ineq", "fun": lambda x: 1 - np.bincount(pairs[:, 1], x, minlength=7)}]
    rng = np.random.default_rng(0)
    best = -np.inf
    for _ in range(30):
        res = minimize(
            lambda x: -qr_defender_utility(g, cov(x)),
            rng.random(k) * 0.3,
            method="SLSQP",
            bounds=[(0, 1)] * k,
            constraints=cons,
        )
        if all(np.all(cst["fun"](res.x) >= -1e-6) for cst in cons):
            best = max(best, -res.fun)
    assert s.defender_utility_ >= best - 1e-3
    assert (s.type_coverage_[:, ~elig.any(axis=0)] == 0).all()
    assert s.type_coverage_[0].sum() <= 2 + 1e-7 and s.type_coverage_[1].sum() <= 1 + 1e-7


def test_qr_respects_a_burden_cap() -> None:
    g = random_game(8, 3, seed=10)
    b = np.arange(8, dtype=float)
    s = QuantalResponse(g.replace(burden=Burden(b, cap=2.0))).solve()
    assert b @ s.coverage_ <= 2.0 + 1e-7
    assert s.solution_.burden == pytest.approx(b @ s.coverage_)
    assert s.defender_utility_ <= QuantalResponse(g).solve().defender_utility_ + 1e-9
