"""ETAS/SEPP and temporal Hawkes: parameters recovered from simulated processes."""

from __future__ import annotations

import numpy as np
import pytest

from corridorguard.errors import SolverError, ValidationError
from corridorguard.risk import ETASModel, Events, Grid, laea_crs
from corridorguard.risk.events import DAY
from corridorguard.risk.hawkes import decay_sums, fit_hawkes_exp, simulate_hawkes_exp
from corridorguard.risk.sepp import simulate_etas

CELL = 500.0


def _grid(n: int = 50, x0: float = -2500.0) -> Grid:
    return Grid(laea_crs(70.0, 30.0), x0, x0, CELL, n, n, np.ones((n, n), dtype=bool))


def _to_events(g: Grid, x: np.ndarray, y: np.ndarray, t_days: np.ndarray) -> Events:
    lon, lat = g.unproject(x, y)
    return Events.from_arrays(lon, lat, t_days * DAY)


@pytest.mark.parametrize("seed", [11, 12])
def test_etas_recovers_simulated_parameters(seed: int) -> None:
    """Tolerance: mu and sigma within 10 %, theta within 0.06, omega within 20 %."""
    mu, theta, omega, sigma, T = 4.0, 0.5, 0.5, 300.0, 1500.0
    x, y, t = simulate_etas(
        mu=mu, theta=theta, omega=omega, sigma=sigma, T=T, width=20000, height=20000, seed=seed
    )
    g = _grid()
    m = ETASModel(g, max_distance_m=3000.0, max_lag_days=30.0).fit(
        _to_events(g, x, y, t), end=T * DAY
    )
    assert m.converged_
    assert m.mu_ == pytest.approx(mu, rel=0.10)
    assert m.theta_ == pytest.approx(theta, abs=0.06)
    assert m.omega_ == pytest.approx(omega, rel=0.20)
    assert m.sigma_ == pytest.approx(sigma, rel=0.10)
    # a fresh forecast: the expected count over a week is close to the stationary rate
    lam = m.predict((T + 0.001) * DAY, 7 * DAY)
    assert lam.sum() == pytest.approx(mu / (1 - theta) * 7, rel=0.25)


def test_etas_without_triggering_finds_little_branching() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    g = _grid()
    ev = _to_events(
        g, rng.uniform(0, 20000, n), rng.uniform(0, 20000, n), np.sort(rng.uniform(0, 1000, n))
    )
    m = ETASModel(g, max_distance_m=3000.0, max_lag_days=30.0).fit(ev)
    assert m.theta_ < 0.05
    assert m.mu_ == pytest.approx(3.0, rel=0.1)


def test_etas_covariate_background_recovers_effect() -> None:
    """Background rate is e^1 times higher on the east half; gamma on the standardised binary
    covariate (sd 0.5) should be about 0.5."""
    g = _grid(40, 0.0)
    cx, _ = g.centres()
    z = (cx > 10000).astype(float)
    rng = np.random.default_rng(8)
    n = 4000
    p = np.exp(z) / np.exp(z).sum()
    cells = rng.choice(g.n_active, n, p=p)
    gx, gy = g.centres()
    x = gx[cells] + rng.uniform(-CELL / 2, CELL / 2, n)
    y = gy[cells] + rng.uniform(-CELL / 2, CELL / 2, n)
    ev = _to_events(g, x, y, np.sort(rng.uniform(0, 1000, n)))
    m = ETASModel(g, background="covariates", covariates={"east": z}, max_distance_m=2000.0).fit(ev)
    assert m.gamma_["east"] == pytest.approx(0.5, abs=0.08)
    east = m.background_[z == 1].sum()
    assert east == pytest.approx(np.e / (1 + np.e), abs=0.03)


def test_etas_input_errors() -> None:
    g = _grid()
    with pytest.raises(ValidationError):
        ETASModel(g, background="covariates")
    with pytest.raises(ValidationError):
        ETASModel(g, background="kde+covariates", covariates={"a": np.ones(3)})
    one = _to_events(g, np.array([100.0]), np.array([100.0]), np.array([1.0]))
    with pytest.raises(SolverError):
        ETASModel(g).fit(one)


def test_decay_sums_match_brute_force_across_segments() -> None:
    rng = np.random.default_rng(2)
    t = np.sort(rng.uniform(0, 5000, 400))
    beta = 0.9  # 600 / beta = 667: several overflow-safe segments
    A, B = decay_sums(t, beta)
    d = t[:, None] - t[None, :]
    k = np.where(d > 0, np.exp(-beta * np.where(d > 0, d, 0)), 0.0)
    np.testing.assert_allclose(A, k.sum(axis=1), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(B, (k * np.where(d > 0, d, 0)).sum(axis=1), rtol=1e-9, atol=1e-12)


def test_hawkes_mle_recovers_parameters() -> None:
    t = simulate_hawkes_exp(mu=0.5, alpha=0.4, beta=1.0, T=20000, seed=3)
    fit = fit_hawkes_exp(t, start=0.0, end=20000.0)
    assert fit.converged
    assert fit.mu == pytest.approx(0.5, rel=0.06)
    assert fit.alpha == pytest.approx(0.4, abs=0.03)
    assert fit.beta == pytest.approx(1.0, rel=0.1)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # tick imports deprecated scipy paths
def test_hawkes_mle_agrees_with_tick() -> None:
    """Oracle: tick's HawkesExpKern MLE (bfgs) with the same fixed decay."""
    from tick.hawkes import HawkesExpKern

    t = simulate_hawkes_exp(mu=0.5, alpha=0.4, beta=1.0, T=10000, seed=5)
    ours = fit_hawkes_exp(t, start=0.0, end=float(t[-1]), decay=1.0)  # tick ends at the last event
    learner = HawkesExpKern(decays=1.0, gofit="likelihood", solver="bfgs", max_iter=500, tol=1e-10)
    learner.fit([t.astype(np.float64)])
    assert ours.mu == pytest.approx(float(learner.baseline[0]), rel=2e-3)
    assert ours.alpha == pytest.approx(float(learner.adjacency[0, 0]), rel=2e-3)
