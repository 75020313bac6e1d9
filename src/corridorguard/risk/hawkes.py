"""Univariate temporal Hawkes process with an exponential kernel: maximum likelihood and simulation.

Intensity ``lambda(t) = mu + sum_{t_j < t} alpha * beta * exp(-beta (t - t_j))`` (``alpha`` is the
branching ratio, ``beta`` the decay rate; the same parametrisation as tick's ``HawkesExpKern``
with adjacency ``alpha`` and decay ``beta``). Log-likelihood on ``[t0, T]`` (Ozaki 1979)::

    sum_i log(mu + alpha beta A_i) - mu (T - t0) - alpha sum_i (1 - exp(-beta (T - t_i)))
    A_i = sum_{j < i} exp(-beta (t_i - t_j))

``A_i`` and its derivative are computed in O(n) with vectorised cumulative sums over segments
short enough not to overflow, and the likelihood is maximised by L-BFGS-B on log-parameters with
analytic gradients. Used for the temporal part of risk reporting and benchmarked against tick.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize

from corridorguard.errors import SolverError, ValidationError

__all__ = ["HawkesExpFit", "decay_sums", "fit_hawkes_exp", "simulate_hawkes_exp"]

FloatArray = NDArray[np.float64]
_SEG = 600.0


def decay_sums(t: FloatArray, beta: float) -> tuple[FloatArray, FloatArray]:
    """``A_i = sum_{j<i} e^{-beta (t_i - t_j)}`` and ``B_i = sum_{j<i} (t_i - t_j) e^{...}``."""
    n = t.size
    A, B = np.zeros(n), np.zeros(n)
    K = KB = 0.0
    i0 = 0
    while i0 < n:
        ref = t[i0]
        i1 = max(i0 + 1, int(np.searchsorted(t, ref + _SEG / beta, side="left")))
        rel = t[i0:i1] - ref
        e = np.exp(beta * rel)
        S = np.cumsum(e) - e
        Sx = np.cumsum(e * rel) - e * rel
        d = np.exp(-beta * rel)
        A[i0:i1] = d * (S + K)
        B[i0:i1] = d * (rel * (S + K) - Sx + KB)
        if i1 < n:
            gap = t[i1] - ref
            f = np.exp(-beta * gap)
            tot, totx = float(e.sum()), float((e * rel).sum())
            K, KB = f * (K + tot), f * (gap * (K + tot) + KB - totx)
        i0 = i1
    return A, B


@dataclass(frozen=True)
class HawkesExpFit:
    """Fitted exponential Hawkes parameters (rates per time unit of the input)."""

    mu: float
    alpha: float
    beta: float
    loglik: float
    n_iter: int
    converged: bool


def _negloglik(
    theta: FloatArray,
    t: FloatArray,
    t0: float,
    T: float,
    fixed: tuple[float, FloatArray, float] | None,
) -> tuple[float, FloatArray]:
    """Negative log-likelihood and gradient in log-parameters. ``fixed = (beta, A, comp)`` when
    the decay is fixed (the decay sums are then computed once)."""
    mu, alpha = np.exp(theta[0]), np.exp(theta[1])
    if fixed is None:
        beta = float(np.exp(theta[2]))
        A, B = decay_sums(t, beta)
        rest = T - t
        ex = np.exp(-beta * rest)
        comp = float(np.sum(1.0 - ex))
    else:
        beta, A, comp = fixed
    lam = mu + alpha * beta * A
    ll = float(np.sum(np.log(lam))) - mu * (T - t0) - alpha * comp
    inv = 1.0 / lam
    g_mu = float(np.sum(inv)) - (T - t0)
    g_alpha = float(np.sum(beta * A * inv)) - comp
    grad = [g_mu * mu, g_alpha * alpha]
    if fixed is None:
        g_beta = float(np.sum(alpha * (A - beta * B) * inv)) - alpha * float(np.sum(rest * ex))
        grad.append(g_beta * beta)
    return -ll, -np.asarray(grad)


def fit_hawkes_exp(
    times: ArrayLike,
    *,
    end: float | None = None,
    start: float | None = None,
    decay: float | None = None,
    max_iter: int = 500,
) -> HawkesExpFit:
    """Maximum-likelihood fit of ``(mu, alpha, beta)`` (or ``(mu, alpha)`` with ``decay`` fixed).

    ``times`` in any unit (rates come out per that unit), observed on ``[start, end]`` (default:
    first and last event). Raises :class:`SolverError` if the optimiser fails.
    """
    t = np.sort(np.asarray(times, dtype=np.float64).ravel())
    if t.size < 3:
        raise ValidationError("need at least 3 event times", field="times")
    t0 = float(t[0]) if start is None else float(start)
    T = float(t[-1]) if end is None else float(end)
    if t0 >= T:
        raise ValidationError("end must be after start", field="end")
    rate = t.size / (T - t0)
    x0 = [np.log(0.5 * rate), np.log(0.5)]
    fixed = None
    if decay is None:
        x0.append(np.log(10.0 * rate))
    else:
        if decay <= 0:
            raise ValidationError("decay must be positive", field="decay")
        A, _ = decay_sums(t, float(decay))
        fixed = (float(decay), A, float(np.sum(1.0 - np.exp(-decay * (T - t)))))
    res = minimize(
        _negloglik,
        np.asarray(x0),
        args=(t, t0, T, fixed),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter},
    )
    if not np.all(np.isfinite(res.x)):
        raise SolverError(f"Hawkes fit failed: {res.message}", status=str(res.status))
    beta = float(decay) if decay is not None else float(np.exp(res.x[2]))
    return HawkesExpFit(
        float(np.exp(res.x[0])),
        float(np.exp(res.x[1])),
        beta,
        -float(res.fun),
        int(res.nit),
        bool(res.success),
    )


def simulate_hawkes_exp(*, mu: float, alpha: float, beta: float, T: float, seed: int) -> FloatArray:
    """Event times on ``[0, T]`` by the branching construction (deterministic per ``seed``)."""
    if not 0 <= alpha < 1 or mu <= 0 or beta <= 0:
        raise ValidationError("need mu > 0, beta > 0 and 0 <= alpha < 1")
    rng = np.random.default_rng(seed)
    gen = rng.uniform(0, T, rng.poisson(mu * T))
    out = [gen]
    while gen.size:
        par = np.repeat(gen, rng.poisson(alpha, gen.size))
        gen = par + rng.exponential(1.0 / beta, par.size)
        gen = gen[gen < T]
        out.append(gen)
    return np.sort(np.concatenate(out))
