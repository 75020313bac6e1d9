"""Baseline models on synthetic data with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import erf

from corridorguard.errors import ValidationError
from corridorguard.risk import (
    CountModel,
    Events,
    Grid,
    ProspectiveHotspot,
    RetroKDE,
    SpaceTimeKDE,
    UniformModel,
    laea_crs,
    pai,
)
from corridorguard.risk._smooth import smooth
from corridorguard.risk.events import DAY

CELL = 100.0


def _grid(n: int = 20) -> Grid:
    return Grid(laea_crs(70.0, 30.0), 0.0, 0.0, CELL, n, n, np.ones((n, n), dtype=bool))


def _events(g: Grid, x: np.ndarray, y: np.ndarray, t_days: np.ndarray) -> Events:
    lon, lat = g.unproject(x, y)
    return Events.from_arrays(lon, lat, t_days * DAY)


def _planted(g: Grid, seed: int, n_bg: int, n_hot: int, t0: float, t1: float) -> Events:
    """Uniform background on the 2 x 2 km box plus a hotspot inside cell (row 12, col 7)."""
    rng = np.random.default_rng(seed)
    x = np.r_[rng.uniform(0, 2000, n_bg), rng.uniform(700, 800, n_hot)]
    y = np.r_[rng.uniform(0, 2000, n_bg), rng.uniform(1200, 1300, n_hot)]
    t = rng.uniform(t0, t1, n_bg + n_hot)
    return _events(g, x, y, t)


def test_uniform_prediction_is_flat_and_scaled_by_rate() -> None:
    g = _grid()
    ev = _planted(g, 0, 365, 0, 0.0, 365.0)
    lam = UniformModel(g).fit(ev).predict(366 * DAY, 7 * DAY)
    assert np.ptp(lam) == 0
    # rate 365 events / 365 days over the rate window (first event to start ~ 366 days)
    assert lam.sum() == pytest.approx(7.0, rel=0.02)


def test_count_model_finds_a_planted_hotspot() -> None:
    g = _grid()
    train = _planted(g, 1, 400, 100, 0.0, 100.0)
    test = _planted(g, 2, 40, 10, 100.0, 110.0)
    lam = CountModel(g, prior=0.5).fit(train).predict(100 * DAY, 10 * DAY)
    hot = 12 * 20 + 7
    assert int(np.argmax(lam)) == hot
    # exact surface: (count + prior) / sum, times the expected total
    x, y = g.project(train.lon, train.lat)
    counts = np.bincount(g.locate(x, y), minlength=g.n_active) + 0.5
    np.testing.assert_allclose(lam / lam.sum(), counts / counts.sum())
    tx, ty = g.project(test.lon, test.lat)
    tc = np.bincount(g.locate(tx, ty), minlength=g.n_active).astype(float)
    # the top 1 % (4 cells) includes the hotspot, holding 10 of 50 test events (+ background)
    assert pai(lam, tc, [0.01])[0] >= 0.2 / 0.01
    assert pai(UniformModel(g).fit(train).predict(100 * DAY, 10 * DAY), tc, [0.01])[
        0
    ] == pytest.approx(1)


def test_gaussian_smoothing_matches_exact_cell_integrals() -> None:
    g = _grid(30)
    rng = np.random.default_rng(5)
    x, y = rng.uniform(1000, 2000, 25), rng.uniform(1000, 2000, 25)
    sigma = 180.0
    got = smooth(g, x, y, np.ones(25), kernel="gaussian", bandwidth=sigma)
    edges = np.arange(31) * CELL

    def cdf(e: np.ndarray, m: np.ndarray) -> np.ndarray:
        return 0.5 * (1 + erf((e[None, :] - m[:, None]) / (sigma * np.sqrt(2))))

    px = np.diff(cdf(edges, x), axis=1)  # (25, 30)
    py = np.diff(cdf(edges, y), axis=1)
    want = np.einsum("ki,kj->ij", py, px)
    assert got.sum() == pytest.approx(25, rel=1e-3)
    assert np.abs(got - want).max() < 0.03 * want.max()


def test_retro_kde_window_and_quartic_support() -> None:
    g = _grid()
    ev = _events(g, np.array([1050.0, 150.0]), np.array([1050.0, 150.0]), np.array([10.0, 90.0]))
    m = RetroKDE(g, bandwidth_m=250.0, window_days=30.0).fit(ev)
    surf = m.surface(100 * DAY)
    # only the event at day 90 is in the 30-day window, and the quartic kernel ends at 250 m
    cx, cy = g.centres()
    d = np.hypot(cx - 150, cy - 150)
    assert surf[d > 250 + CELL].max() == 0
    assert surf.argmax() == int(np.argmin(d))
    assert (
        RetroKDE(g, window_days=None)
        .fit(ev)
        .surface(100 * DAY)[np.argmin(np.hypot(cx - 1050, cy - 1050))]
        > 0
    )


def test_prospective_hotspot_weights_match_bowers_formula() -> None:
    g = _grid()
    # one event in cell (row 5, col 5), 10 days (= 1 whole week) before the forecast
    ev = _events(g, np.array([550.0]), np.array([550.0]), np.array([90.0]))
    surf = ProspectiveHotspot(g, space_cells=3, time_units=4).fit(ev).surface(100 * DAY)
    full = surf.reshape(20, 20)
    for dr, dc in [(0, 0), (1, 0), (2, 2), (3, -1), (4, 0)]:
        d = max(abs(dr), abs(dc))
        want = 1 / ((1 + d) * (1 + 1)) if d <= 3 else 0.0
        assert full[5 + dr, 5 + dc] == pytest.approx(want)
    # outside the time bandwidth: nothing
    assert ProspectiveHotspot(g, time_units=1).fit(ev).surface(120 * DAY).sum() == 0


def test_space_time_kde_decays_exponentially() -> None:
    g = _grid()
    ev = _events(g, np.array([550.0, 1450.0]), np.array([550.0, 1450.0]), np.array([40.0, 80.0]))
    surf = SpaceTimeKDE(g, bandwidth_m=100.0, time_scale_days=20.0).fit(ev).surface(100 * DAY)
    cx, cy = g.centres()
    a = surf[np.argmin(np.hypot(cx - 550, cy - 550))]
    b = surf[np.argmin(np.hypot(cx - 1450, cy - 1450))]
    assert a / b == pytest.approx(np.exp(-40 / 20), rel=1e-6)


def test_no_look_ahead_and_life_cycle_errors() -> None:
    g = _grid()
    ev = _planted(g, 3, 50, 0, 0.0, 50.0)
    with pytest.raises(ValidationError):
        CountModel(g).predict(60 * DAY, DAY)
    m = CountModel(g).fit(ev)
    with pytest.raises(ValidationError, match="look-ahead"):
        m.predict(float(ev.t[-1]), DAY)
    with pytest.raises(ValidationError):
        m.predict(60 * DAY, 0)
    c = m.clone(prior=2.0)
    assert c.prior == 2.0 and c.points_ is None and c.window_days == m.window_days
    with pytest.raises(ValidationError):
        RetroKDE(g, kernel="box")
    with pytest.raises(ValidationError):
        RetroKDE(g, bandwidth_m="3km").fit(ev).predict(60 * DAY, DAY)
