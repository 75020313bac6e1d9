"""Exhaustive oracles on tiny games: Bayesian ERASER vs all attack profiles; typed resources vs
the normal form over every pure assignment (eligibility, counts, agency caps)."""

from __future__ import annotations

from itertools import combinations, product

import numpy as np
import pytest

from corridorguard.games import (
    Eraser,
    Game,
    HeterogeneousSolver,
    NormalFormStackelberg,
    ResourceType,
    random_game,
)
from corridorguard.games.milp import solve_fixed_responses


@pytest.mark.parametrize(("n", "m", "types", "seed"), [(3, 1, 2, 0), (4, 1, 2, 1), (4, 2, 3, 2)])
def test_eraser_equals_enumeration_of_attack_profiles(n, m, types, seed) -> None:
    g = random_game(n, m, types=types, seed=seed, probabilities="dirichlet")
    best = -np.inf
    for profile in product(range(n), repeat=types):
        status, value, _, _ = solve_fixed_responses(g, list(profile), raise_on_fail=False)
        if status == "optimal":
            best = max(best, value)
    s = Eraser(g).solve()
    assert s.defender_utility_ == pytest.approx(best, abs=1e-7)


def pure_assignments(g: Game) -> list[np.ndarray]:
    """Every implementable covered set (a target covered by at most one resource)."""
    elig = g.eligibility()
    n = g.n_targets
    per_type = []
    for r, rt in enumerate(g.resource_types):
        options = []
        targets = np.flatnonzero(elig[r])
        for k in range(min(rt.count, len(targets)) + 1):
            options.extend(combinations(targets.tolist(), k))
        per_type.append(options)
    out = {}
    for choice in product(*per_type):
        flat = [t for ts in choice for t in ts]
        if len(flat) != len(set(flat)):
            continue
        used = {}
        for rt, ts in zip(g.resource_types, choice, strict=True):
            used[rt.agency] = used.get(rt.agency, 0) + len(ts)
        if any(used.get(a, 0) > cap for a, cap in g.agency_capacity.items()):
            continue
        cov = np.zeros(n, dtype=bool)
        cov[flat] = True
        out[cov.tobytes()] = cov
    return list(out.values())


@pytest.mark.parametrize("seed", range(3))
def test_typed_lp_equals_normal_form_over_pure_assignments(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 5
    base = Game.from_arrays(
        rng.integers(1, 11, n), -rng.integers(1, 11, n), rng.integers(1, 11, n),
        -rng.integers(1, 11, n), resources=4,
    )  # fmt: skip
    g = base.replace(
        resource_types=(
            ResourceType("p1", 2, eligible=(0, 1, 2), agency="police"),
            ResourceType("p2", 1, eligible=(2, 3), agency="police"),
            ResourceType("a1", 1, eligible=(3, 4), agency="army"),
        ),
        agency_capacity={"police": 2},
    )
    covers = np.array(pure_assignments(g))
    p = g.payoffs
    leader = np.where(covers, p.rd, p.pd)
    follower = np.where(covers, p.pa, p.ra)
    nf = NormalFormStackelberg(leader, follower).solve()
    typed = HeterogeneousSolver(g).solve()
    assert typed.defender_utility_ == pytest.approx(nf.leader_utility_, abs=1e-7)
    # and the decomposition's plans are among the enumerated pure assignments
    allowed = {c.tobytes() for c in covers}
    for a in typed.decomposition_.assignments:
        assert a.coverage(n).tobytes() in allowed
