"""Metric functions against hand-computed cases, and their invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corridorguard.risk.metrics import (
    LOGLIK_FLOOR,
    block_bootstrap,
    brier_score,
    hit_counts,
    hit_rates,
    loglik_sum,
    pai,
)


def test_hit_rates_hand_computed() -> None:
    # 10 cells; prediction ranks cell 3 first, then 7, then the rest tied.
    pred = np.array([0, 0, 0, 5, 0, 0, 0, 2, 0, 0], float)
    counts = np.array([1, 0, 0, 3, 0, 0, 0, 1, 0, 1], float)  # 6 events
    # 10% area = cell 3 -> 3/6; 20% = cells 3, 7 -> 4/6; 50% = cells 3, 7 + 3 of 8 tied cells
    # holding 2 events -> 4 + 3/8 * 2 = 4.75
    hits = hit_counts(pred, counts, [0.1, 0.2, 0.5, 1.0])
    np.testing.assert_allclose(hits, [3.0, 4.0, 4.75, 6.0])
    np.testing.assert_allclose(hit_rates(pred, counts, [0.1]), [0.5])
    np.testing.assert_allclose(pai(pred, counts, [0.1, 0.2]), [5.0, 10 / 3])


def test_fractional_boundary_cell() -> None:
    pred = np.array([3.0, 2.0, 1.0, 0.5])
    counts = np.array([0.0, 2.0, 0.0, 0.0])
    # 30% of 4 cells = 1.2 cells: cell 0 plus a fifth of cell 1 -> 0.4 events
    np.testing.assert_allclose(hit_counts(pred, counts, [0.3]), [0.4])


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(0, 5), min_size=1, max_size=60),
    st.sampled_from([0.01, 0.02, 0.05, 0.1, 0.2, 0.5]),
)
def test_uniform_forecast_has_pai_one(counts: list[int], k: float) -> None:
    c = np.array(counts, float)
    if c.sum() == 0:
        c[0] = 1
    np.testing.assert_allclose(pai(np.ones(c.size), c, [k]), [1.0])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 10), min_size=2, max_size=40), st.integers(0, 2**31 - 1))
def test_hit_counts_monotone_and_bounded(pred: list[float], seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.array(pred)
    c = rng.poisson(1.0, p.size).astype(float)
    hits = hit_counts(p, c, [0.01, 0.05, 0.1, 0.5, 1.0])
    assert np.all(np.diff(hits) >= -1e-9)
    assert hits[-1] == pytest.approx(c.sum())
    assert np.all(hits >= 0)


def test_loglik_floor_and_uniform() -> None:
    n = 8
    counts = np.array([2, 0, 0, 0, 0, 0, 0, 1], float)
    # uniform: every event scores log(1/n)
    assert loglik_sum(np.ones(n), counts) == pytest.approx(3 * np.log(1 / n))
    # all mass on cell 0: cell 7 gets the floor; renormalised
    pred = np.array([1, 0, 0, 0, 0, 0, 0, 0], float)
    floor = LOGLIK_FLOOR / n
    z = 1 + 7 * floor
    want = 2 * np.log(1 / z) + np.log(floor / z)
    assert loglik_sum(pred, counts) == pytest.approx(want)
    assert np.isfinite(loglik_sum(np.zeros(n), counts))


def test_brier_hand_computed() -> None:
    pred = np.array([np.log(2.0), 0.0])  # P(>=1) = 0.5 and 0
    counts = np.array([0.0, 3.0])
    assert brier_score(pred, counts) == pytest.approx((0.25 + 1.0) / 2)


def test_block_bootstrap_is_seeded_and_brackets_estimate() -> None:
    rng = np.random.default_rng(0)
    a = rng.poisson(6, 30).astype(float)
    b = rng.poisson(4, 30).astype(float)
    ci1 = block_bootstrap([a, b], lambda x, y: x.sum() / y.sum(), n_boot=500, seed=3)
    ci2 = block_bootstrap([a, b], lambda x, y: x.sum() / y.sum(), n_boot=500, seed=3)
    assert ci1 == ci2
    assert ci1.estimate == pytest.approx(a.sum() / b.sum())
    assert ci1.low < ci1.estimate < ci1.high
    assert ci1.block == 4  # ceil(30 ** (1/3))
    # identical columns: the ratio is exactly 1 in every resample
    same = block_bootstrap([a, a], lambda x, y: x.sum() / y.sum(), n_boot=200, seed=1)
    assert same.low == same.high == pytest.approx(1.0)
