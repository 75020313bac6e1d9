"""The notional random-game generator used by tests and benchmarks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from corridorguard.errors import ValidationError
from corridorguard.games import random_game


@given(
    n=st.integers(1, 30),
    m=st.integers(0, 5),
    types=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    probs=st.sampled_from(["uniform", "dirichlet"]),
)
def test_random_game_ranges_and_reproducibility(n, m, types, seed, probs) -> None:
    g = random_game(n, m, seed=seed, types=types, probabilities=probs)
    again = random_game(n, m, seed=seed, types=types, probabilities=probs)
    assert g.n_targets == n and g.resources == m
    kinds = g.types()
    assert len(kinds) == types and g.is_bayesian == (types > 1)
    assert sum(p for p, _ in kinds) == pytest.approx(1.0, abs=1e-12)
    for (p, pay), (q, pay2) in zip(kinds, again.types(), strict=True):
        assert p == q
        for a, b in zip(
            (pay.rd, pay.pd, pay.ra, pay.pa), (pay2.rd, pay2.pd, pay2.ra, pay2.pa), strict=True
        ):
            np.testing.assert_array_equal(a, b)
        assert set(np.unique(pay.rd)) <= set(range(1, 11))
        assert set(np.unique(-pay.pa)) <= set(range(1, 11))
    if types > 1:
        mean_ra = sum(p * pay.ra for p, pay in kinds)
        np.testing.assert_allclose(g.payoffs.ra, mean_ra)


def test_single_type_matches_the_literature_draw_order() -> None:
    rng = np.random.default_rng(7)
    expect = [rng.integers(1, 11, 5) * s for s in (1, -1, 1, -1)]
    g = random_game(5, 2, seed=7)
    for got, want in zip(
        (g.payoffs.rd, g.payoffs.pd, g.payoffs.ra, g.payoffs.pa), expect, strict=True
    ):
        np.testing.assert_array_equal(got, want)


def test_random_game_rejects_bad_sizes() -> None:
    with pytest.raises(ValidationError, match="n_targets >= 1"):
        random_game(0, 1, seed=0)
