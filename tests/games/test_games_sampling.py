"""Sampling daily plans: exact marginals, feasibility, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from corridorguard.games import (
    Game,
    HeterogeneousSolver,
    ResourceType,
    bvn_decompose,
    comb_sample,
    sample_plans,
    solve,
)


def test_comb_sampling_reproduces_marginals_and_uses_at_most_m() -> None:
    c = np.array([7 / 8, 3 / 4, 3 / 8])
    plans = comb_sample(c, days=100_000, seed=11)
    assert np.abs(plans.mean(axis=0) - c).max() < 0.01
    assert set(plans.sum(axis=1).tolist()) == {2}


def test_comb_sampling_fractional_total() -> None:
    c = np.array([0.3, 0.45, 0.2, 0.0, 1.0])  # sum 1.95 <= m = 2
    plans = comb_sample(c, days=100_000, seed=3)
    assert np.abs(plans.mean(axis=0) - c).max() < 0.01
    assert plans.sum(axis=1).max() <= 2
    assert plans[:, 3].sum() == 0 and plans[:, 4].all()


def test_comb_sampling_is_seeded() -> None:
    c = np.full(50, 0.2)
    assert (comb_sample(c, days=5, seed=1) == comb_sample(c, days=5, seed=1)).all()
    assert (comb_sample(c, days=5, seed=1) != comb_sample(c, days=5, seed=2)).any()


def typed_game() -> Game:
    rng = np.random.default_rng(5)
    n = 6
    base = Game.from_arrays(
        rng.integers(1, 11, n),
        -rng.integers(1, 11, n),
        rng.integers(1, 11, n),
        -rng.integers(1, 11, n),
        resources=4,
    )
    types = (
        ResourceType("police_patrol", 2, eligible=(0, 1, 2, 3), agency="police"),
        ResourceType("police_checkpoint", 1, eligible=(1, 2), agency="police", burden=True),
        ResourceType("army_patrol", 1, eligible=(3, 4, 5), agency="army"),
    )
    return base.replace(resource_types=types, agency_capacity={"police": 2, "army": 1})


def test_bvn_decomposition_is_exact_and_feasible() -> None:
    g = typed_game()
    s = HeterogeneousSolver(g).solve()
    dec = s.decomposition_
    assert dec.weights.sum() == pytest.approx(1.0)
    assert np.abs(dec.mean(3, g.n_targets) - s.type_coverage_).max() < 1e-9
    elig = g.eligibility()
    for a in dec.assignments:
        counts = [len(ts) for ts in a.covers]
        assert all(cnt <= rt.count for cnt, rt in zip(counts, g.resource_types, strict=True))
        assert counts[0] + counts[1] <= 2  # police cap
        for r, ts in enumerate(a.covers):
            assert elig[r, list(ts)].all()
        covered = [t for ts in a.covers for t in ts]
        assert len(covered) == len(set(covered))  # one resource per target


def test_bvn_sampling_reproduces_type_marginals() -> None:
    g = typed_game()
    s = HeterogeneousSolver(g).solve()
    dec = s.decomposition_
    picks = dec.sample(100_000, seed=9)
    assert np.abs(dec.covered(g.n_targets)[picks].mean(axis=0) - s.coverage_).max() < 0.01
    plans = sample_plans(g, s.solution_, days=50, seed=9, decomposition=dec)
    assert plans.method == "bvn" and plans.seed == 9
    assert (plans.covered() == dec.covered(g.n_targets)[dec.sample(50, seed=9)]).all()
    for day in plans.to_dict()["days"]:
        assert len(day["assignments"]["army_patrol"]) <= 1


def test_bvn_handles_fractional_random_marginals() -> None:
    g = typed_game()
    rng = np.random.default_rng(0)
    x = rng.random((3, g.n_targets)) * g.eligibility()
    x /= np.maximum(1.0, x.sum(axis=0)) * 1.5  # target sums < 1
    x[:2] *= min(1.0, 2 / x[:2].sum())  # police cap
    for r, rt in enumerate(g.resource_types):
        x[r] *= min(1.0, rt.count / x[r].sum())
    dec = bvn_decompose(g, x)
    assert np.abs(dec.mean(3, g.n_targets) - x).max() < 1e-9


def test_sample_plans_homogeneous_is_deterministic() -> None:
    g = Game.from_arrays([0, 0, 0], [-10, -5, -2], [10, 5, 2], [0, 0, 0], resources=2)
    sol = solve(g)
    a = sample_plans(g, sol, days=10, seed=4).to_dict()
    b = sample_plans(g, sol, days=10, seed=4).to_dict()
    assert a == b and a["seed"] == 4 and a["method"] == "comb"
    assert all(len(d["covered"]) == 2 for d in a["days"])
