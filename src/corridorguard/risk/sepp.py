"""Self-exciting point process (ETAS / SEPP) on the forecast grid, fitted by EM.

Model (Mohler et al. 2011, *JASA* 106:100-108, doi:10.1198/jasa.2011.ap09546; parametric form
as in Mohler et al. 2015, *JASA* 110:1399-1411)::

    lambda(t, x) = mu b(x) + sum_{t_j < t} w_j theta omega exp(-omega (t - t_j)) g(x - x_j)
    g(d)         = exp(-|d|^2 / (2 sigma^2)) / (2 pi sigma^2)

``mu`` is the background rate (events/day over the region), ``b`` a background density that is
constant per cell and sums to one over the active cells, ``theta`` the branching ratio (expected
direct offspring per event), ``1/omega`` the mean trigger delay (days), ``sigma`` the trigger
distance (m), ``w_j`` the event weights (imprecise events count less, as parents and as children).

Fitting is the EM form of stochastic declustering: the E-step gives each event the probability of
being background (``p_ii``) or triggered by each earlier neighbour (``p_ij``); the M-step updates
``theta, omega, sigma, mu`` in closed form and the background as a Gaussian KDE
(``bg_bandwidth_m``) of the events weighted by ``p_ii``. With ``covariates`` (per-cell arrays,
e.g. distance to roads and sites), the background is log-linear, ``b_c ∝ K_c exp(gamma . z_c)``,
with ``gamma`` fitted in the M-step by Newton steps on the multinomial likelihood of the
background events (Reinhart & Greenhouse 2018, *JRSS-C* 67:1305-1329, arXiv:1708.03579). With
``background="covariates"`` the KDE factor ``K_c`` is dropped (covariates only).

Pairs are only considered within ``max_lag_days`` and ``max_distance_m`` (a box); the trigger
scales are kept below a third of those cut-offs so that the truncated kernel mass is small.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from corridorguard.errors import SolverError, ValidationError
from corridorguard.risk._smooth import smooth
from corridorguard.risk.events import DAY, Events
from corridorguard.risk.grid import Grid
from corridorguard.risk.models import Points, RiskModel, cell_length

__all__ = ["ETASModel", "simulate_etas"]

FloatArray = NDArray[np.float64]
Progress = Callable[[int, int | None], None]


class ETASModel(RiskModel):
    """Space-time ETAS / SEPP with an exponential-in-time, Gaussian-in-space trigger.

    Parameters
    ----------
    grid
        Forecast grid; the background lives on its active cells.
    bg_bandwidth_m
        Bandwidth of the background KDE (metres, or ``"<k>cell"``).
    max_lag_days, max_distance_m
        Cut-offs of the parent search (box in time and space); ``max_distance_m`` defaults to
        ``max(3 cells, 3 km)``. Keep it at least three times the expected trigger distance.
    min_sigma_m
        Floor of the trigger distance (guards against duplicate coordinates); a quarter cell.
    background
        ``"kde"`` (Mohler 2011), ``"covariates"`` (log-linear only) or ``"kde+covariates"``.
    covariates
        Per-active-cell covariate arrays (standardised internally).
    max_iter, tol
        EM limits (relative parameter change).
    """

    name = "etas"
    _params = (
        "bg_bandwidth_m",
        "max_lag_days",
        "max_distance_m",
        "min_sigma_m",
        "background",
        "max_iter",
        "tol",
    )
    param_grid: ClassVar[dict[str, list[Any]]] = {"bg_bandwidth_m": ["1cell", "2cell", "4cell"]}

    def __init__(
        self,
        grid: Grid,
        *,
        bg_bandwidth_m: float | str = "2cell",
        max_lag_days: float = 60.0,
        max_distance_m: float | str | None = None,
        min_sigma_m: float | str = "0.25cell",
        background: str = "kde",
        covariates: Mapping[str, FloatArray] | None = None,
        max_iter: int = 200,
        tol: float = 1e-4,
        rate_window_days: float = 365.0,
        progress: Progress | None = None,
    ) -> None:
        super().__init__(grid, rate_window_days=rate_window_days)
        if background not in ("kde", "covariates", "kde+covariates"):
            raise ValidationError(f"unknown background {background!r}", field="background")
        if background != "kde" and not covariates:
            raise ValidationError(f"background={background!r} needs covariates", field="covariates")
        if max_lag_days <= 0 or max_iter < 1 or tol <= 0:
            raise ValidationError("max_lag_days, max_iter and tol must be positive")
        self.bg_bandwidth_m = bg_bandwidth_m
        self.max_lag_days = float(max_lag_days)
        self.max_distance_m = max_distance_m
        self.min_sigma_m = min_sigma_m
        self.background = background
        self.covariates = dict(covariates or {})
        for k, v in self.covariates.items():
            if np.shape(v) != (grid.n_active,):
                raise ValidationError(f"covariate needs {grid.n_active} values", field=k)
        self.max_iter = int(max_iter)
        self.tol = float(tol)
        self.progress = progress

    def get_params(self) -> dict[str, Any]:
        out = super().get_params()
        out["covariates"] = self.covariates or None
        return out

    # --- fitting --------------------------------------------------------------------------

    def fit(self, events: Events, *, end: float | None = None) -> Self:
        """EM fit on the events in the region; ``end`` (UTC s) closes the observation window."""
        super().fit(events)
        assert self.points_ is not None
        p = self.points_
        inside = self.grid.locate(p.x, p.y) >= 0
        self._fit_points(
            Points(p.x[inside], p.y[inside], p.t[inside], p.w[inside]),
            end=self.t_last_ if end is None else float(end),
        )
        return self

    def _fit_points(self, p: Points, *, end: float) -> None:
        g = self.grid
        n = p.t.size
        if n < 2 or p.w.sum() <= 0:
            raise SolverError("ETAS needs at least two weighted events in the region")
        R = (
            max(3.0 * g.cell, 3000.0)
            if self.max_distance_m is None
            else cell_length(self.max_distance_m, g)
        )
        smin = cell_length(self.min_sigma_m, g)
        hb = cell_length(self.bg_bandwidth_m, g)
        t0 = float(p.t[0])
        td = (p.t - t0) / DAY
        T = max((end - t0) / DAY, float(td[-1]), 1e-9)
        pairs = _PairSet(
            *_pairs(p.x, p.y, td, R, self.max_lag_days), p.x, p.y, td, p.w, R, self.max_lag_days
        )
        cell = g.locate(p.x, p.y)
        z = self._standardised_covariates()
        w = p.w
        # initial values
        mu, theta = 0.5 * w.sum() / T, 0.5
        omega, sigma = 10.0 / self.max_lag_days, max(R / 5.0, smin)
        beta = g.to_active(smooth(g, p.x, p.y, w, kernel="gaussian", bandwidth=hb))
        beta = _normalise(beta + 1e-12)
        gamma = np.zeros(z.shape[1])
        area = g.cell_area
        converged = False
        for it in range(1, self.max_iter + 1):
            chi, dt, d2 = pairs.chi, pairs.dt, pairs.d2
            bg = mu * beta[cell] / area
            scale = theta * omega / (2 * np.pi * sigma * sigma)
            trig = pairs.wp * np.exp(-(omega * dt + d2 * (0.5 / (sigma * sigma)))) * scale
            lam = bg + np.bincount(chi, weights=trig, minlength=n)
            pk = w[chi] * trig / lam[chi]
            pb = w * bg / lam
            new_theta, new_omega, new_sigma = _trigger_m_step(
                pk, dt, d2, w * (1.0 - np.exp(-omega * (T - td))), omega, sigma, smin, pairs
            )
            new_mu = pb.sum() / T
            kde = g.to_active(smooth(g, p.x, p.y, pb, kernel="gaussian", bandwidth=hb)) + 1e-12
            m_c = np.bincount(cell, weights=pb, minlength=g.n_active).astype(np.float64)
            beta, gamma = self._background(kde, m_c, z, gamma)
            old = np.array([mu, theta, omega, sigma])
            new = np.array([new_mu, new_theta, new_omega, new_sigma])
            mu, theta, omega, sigma = (float(v) for v in new)
            pairs.adapt(sigma, omega, w)
            if self.progress is not None:
                self.progress(it, self.max_iter)
            if np.max(np.abs(new - old) / np.maximum(np.abs(old), 1e-12)) < self.tol:
                converged = True
                break
        self.mu_, self.theta_, self.omega_, self.sigma_ = mu, theta, omega, sigma
        self.background_ = beta
        self.gamma_ = dict(zip(self.covariates, gamma.tolist(), strict=True))
        self.n_iter_, self.converged_ = it, converged
        self.n_pairs_ = int(pairs.n_full)
        self.loglik_ = float(
            np.sum(w * np.log(lam)) - mu * T - theta * np.sum(w * (1 - np.exp(-omega * (T - td))))
        )
        self.fit_points_ = p

    def _standardised_covariates(self) -> FloatArray:
        if not self.covariates:
            return np.zeros((self.grid.n_active, 0))
        z = np.column_stack([np.asarray(v, dtype=np.float64) for v in self.covariates.values()])
        sd = z.std(axis=0)
        return (z - z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)

    def _background(
        self, kde: FloatArray, m_c: FloatArray, z: FloatArray, gamma: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """M-step of the background: KDE, or log-linear in covariates with a KDE offset."""
        if z.shape[1] == 0:
            return _normalise(kde), gamma
        offset = (
            np.log(kde / kde.sum()) if self.background == "kde+covariates" else np.zeros_like(kde)
        )
        M = m_c.sum()
        for _ in range(5):  # Newton on the concave multinomial log-likelihood, small ridge
            eta = offset + z @ gamma
            pi = np.exp(eta - eta.max())
            pi /= pi.sum()
            ez = pi @ z
            grad = m_c @ z - M * ez - 1e-3 * gamma
            hess = M * ((z * pi[:, None]).T @ z - np.outer(ez, ez)) + 1e-3 * np.eye(z.shape[1])
            step = np.linalg.solve(hess, grad)
            gamma = gamma + step
            if np.max(np.abs(step)) < 1e-8:
                break
        eta = offset + z @ gamma
        return _normalise(np.exp(eta - eta.max())), gamma

    # --- prediction -----------------------------------------------------------------------

    def predict(self, start: Any, horizon: Any) -> FloatArray:
        """Expected events per active cell over ``[start, start + horizon)``: background plus the
        remaining triggered mass of every past event (offspring of offspring are ignored)."""
        s, h = self._check(start, horizon)
        if not hasattr(self, "mu_"):
            raise ValidationError("etas: predict() before fit()")
        p = self.fit_points_
        hd = h / DAY
        lag = (s - p.t) / DAY
        keep = lag < 40.0 / self.omega_
        a = (
            p.w[keep]
            * self.theta_
            * (np.exp(-self.omega_ * lag[keep]) - np.exp(-self.omega_ * (lag[keep] + hd)))
        )
        trig = smooth(self.grid, p.x[keep], p.y[keep], a, kernel="gaussian", bandwidth=self.sigma_)
        one_generation = self.mu_ * hd * self.background_ + self.grid.to_active(trig)
        h0 = float(np.sum(p.w[keep] * self.theta_ * self.omega_ * np.exp(-self.omega_ * lag[keep])))
        return one_generation * self._cascade_factor(h0, hd)

    def _cascade_factor(self, h0: float, hd: float) -> float:
        """Ratio of the expected count including offspring born inside the horizon to the
        one-generation count (closed form for the exponential kernel, space integrated out).

        With history intensity ``h0 exp(-omega u)`` the in-horizon cascade ``c(u)`` solves
        ``c' = -k c + theta omega (mu + h0 exp(-omega u))``, ``k = omega (1 - theta)``, c(0) = 0.
        """
        mu, th, om = self.mu_, self.theta_, self.omega_
        k = om * (1.0 - th)
        ek = (1.0 - np.exp(-k * hd)) / k
        eo = (1.0 - np.exp(-om * hd)) / om
        base = mu * hd + h0 * eo
        extra = mu * th / (1.0 - th) * (hd - ek) + h0 * (ek - eo)
        return float((base + extra) / base) if base > 0 else 1.0


def _trigger_m_step(
    pk: FloatArray,
    dt: FloatArray,
    d2: FloatArray,
    exposure: FloatArray,
    omega: float,
    sigma: float,
    smin: float,
    pairs: _PairSet,
) -> tuple[float, float, float]:
    """Closed-form M-step of the trigger: theta = expected offspring / edge-corrected exposure,
    1/omega = mean parent-child delay, sigma² = mean squared distance / 2 (all weighted by the
    E-step probabilities ``pk``), clipped to the candidate box."""
    S = float(pk.sum())
    theta = min(S / float(exposure.sum()), 0.99)
    if S > 0:
        omega = S / max(float(np.sum(pk * dt)), 1e-12)
        sigma = float(np.sqrt(np.sum(pk * d2) / (2 * S)))
    omega = max(omega, 3.0 / pairs.lag)
    sigma = float(np.clip(sigma, smin, max(pairs.reach / 3.0, smin)))
    return theta, omega, sigma


class _PairSet:
    """Candidate (parent, child) pairs, pruned while the trigger is small next to the cut-offs.

    Pairs farther than ``6 sigma`` or later than ``12 / omega`` carry a negligible trigger
    (< e^-12 of the peak), so they are dropped while ``6 sigma < 0.8 reach`` (resp. the lag);
    if ``sigma`` later reaches a third of the pruned reach (or ``1/omega`` a third of the pruned
    lag) the full candidate set is restored. The fit clips ``sigma <= reach / 3`` and
    ``omega >= 3 / lag``.
    """

    def __init__(
        self,
        par: NDArray[np.int64],
        chi: NDArray[np.int64],
        x: FloatArray,
        y: FloatArray,
        td: FloatArray,
        w: FloatArray,
        R: float,
        lag: float,
    ) -> None:
        self.full = (par, chi, td[chi] - td[par], (x[chi] - x[par]) ** 2 + (y[chi] - y[par]) ** 2)
        self.n_full = int(par.size)
        self.R, self.lag_max = R, lag
        self.reach, self.lag = R, lag
        self.par, self.chi, self.dt, self.d2 = self.full
        self.wp: FloatArray = w[par]

    def adapt(self, sigma: float, omega: float, w: FloatArray) -> None:
        reach, lag = self.reach, self.lag
        if (reach < self.R and sigma >= 0.99 * reach / 3.0) or (
            lag < self.lag_max and 1.0 / omega >= 0.99 * lag / 3.0
        ):
            reach, lag = self.R, self.lag_max
        if 6.0 * sigma < 0.8 * reach:
            reach = 6.0 * sigma
        if 12.0 / omega < 0.8 * lag:
            lag = 12.0 / omega
        if (reach, lag) == (self.reach, self.lag):
            return
        self.reach, self.lag = reach, lag
        par, chi, dt, d2 = self.full
        keep = (d2 <= reach * reach) & (dt <= lag)
        self.par, self.chi, self.dt, self.d2 = par[keep], chi[keep], dt[keep], d2[keep]
        self.wp = w[self.par]


def _normalise(v: FloatArray) -> FloatArray:
    return v / v.sum()


def _pairs(
    x: FloatArray, y: FloatArray, td: FloatArray, R: float, max_lag: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(parent, child) index pairs with 0 < t_child - t_parent <= max_lag and |dx|, |dy| <= R."""
    pts = np.column_stack([x / R, y / R, td / max_lag])
    tree = cKDTree(pts)
    pairs = tree.query_pairs(1.0, p=np.inf, output_type="ndarray")
    if pairs.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a, b = pairs[:, 0], pairs[:, 1]
    earlier = td[a] < td[b]
    later = td[b] < td[a]
    par = np.concatenate([a[earlier], b[later]]).astype(np.int64)
    chi = np.concatenate([b[earlier], a[later]]).astype(np.int64)
    return par, chi


def simulate_etas(
    *,
    mu: float,
    theta: float,
    omega: float,
    sigma: float,
    T: float,
    width: float,
    height: float,
    seed: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Simulate the ETAS process on ``[0, T]`` days and a ``width x height`` m box (branching).

    Background: Poisson(``mu T``) uniform events; each event has Poisson(``theta``) children at
    ``t + Exp(omega)`` and ``x + N(0, sigma²)``. Returns (x, y, t) sorted by time, events in the
    window only. Deterministic for a given ``seed``.
    """
    if not 0 <= theta < 1:
        raise ValidationError("theta must be in [0, 1)", field="theta")
    rng = np.random.default_rng(seed)
    n0 = rng.poisson(mu * T)
    gx, gy, gt = rng.uniform(0, width, n0), rng.uniform(0, height, n0), rng.uniform(0, T, n0)
    xs, ys, ts = [gx], [gy], [gt]
    while gt.size:
        k = rng.poisson(theta, gt.size)
        par = np.repeat(np.arange(gt.size), k)
        gt = gt[par] + rng.exponential(1.0 / omega, par.size)
        gx = gx[par] + rng.normal(0, sigma, par.size)
        gy = gy[par] + rng.normal(0, sigma, par.size)
        ok = gt < T
        gx, gy, gt = gx[ok], gy[ok], gt[ok]
        xs.append(gx)
        ys.append(gy)
        ts.append(gt)
    x, y, t = np.concatenate(xs), np.concatenate(ys), np.concatenate(ts)
    order = np.argsort(t, kind="stable")
    return x[order], y[order], t[order]
