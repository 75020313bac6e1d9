"""Forecast scores on a grid: hit rate, PAI, predictive log-likelihood, Brier; block bootstrap.

For one forecast (expected counts ``pred`` per active cell) and the test events counted per cell
(``counts``, weighted):

* **hit rate at coverage k**: share of test events in the top-ranked cells covering exactly a share
  ``k`` of the region's area. Tied cells are taken in proportion (the expectation under random
  tie-breaking), and the boundary cell fractionally, so a uniform forecast scores exactly ``k``.
* **PAI** (Chainey, Tompson & Uhlig 2008) = hit rate / k; uniform = 1.
* **log-likelihood per event**: mean natural log of the forecast's normalised cell probability at
  each test event, with every cell probability floored at ``LOGLIK_FLOOR`` times the uniform
  probability ``1/n`` and renormalised (so a forecast with empty cells is not scored minus
  infinity). A uniform forecast scores ``-log n``.
* **Brier**: mean over cells of ``(P(at least one event) - 1[event])²`` with
  ``P = 1 - exp(-expected)`` (Poisson).

Scores over several origins are pooled: hits and log-likelihood sums over all test events divided
by the total count; Brier averaged over origins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "COVERAGES",
    "LOGLIK_FLOOR",
    "BootstrapCI",
    "block_bootstrap",
    "brier_score",
    "hit_counts",
    "hit_rates",
    "loglik_sum",
    "pai",
]

COVERAGES: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10, 0.20)
LOGLIK_FLOOR = 0.01
"""Cell probabilities are floored at this fraction of the uniform probability."""

FloatArray = NDArray[np.float64]


def hit_counts(
    pred: ArrayLike, counts: ArrayLike, coverages: Sequence[float] = COVERAGES
) -> FloatArray:
    """Weighted test events captured by the top ``k`` share of cells, for each coverage ``k``."""
    p = np.asarray(pred, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    if p.shape != c.shape or p.ndim != 1 or p.size == 0:
        raise ValueError("pred and counts must be 1-D arrays of the same non-zero length")
    order = np.argsort(-p, kind="stable")
    ps, cs = p[order], c[order]
    # end of each tie group in the sorted order
    ends = np.flatnonzero(np.r_[ps[1:] != ps[:-1], True]) + 1
    cum_cells = np.r_[0.0, ends.astype(np.float64)]
    cum_hits = np.r_[0.0, np.cumsum(cs)[ends - 1]]
    k = np.asarray(coverages, dtype=np.float64) * p.size
    return np.interp(k, cum_cells, cum_hits)


def hit_rates(
    pred: ArrayLike, counts: ArrayLike, coverages: Sequence[float] = COVERAGES
) -> FloatArray:
    """Hit rate (share of test events) at each coverage; NaN when there are no test events."""
    total = float(np.sum(counts))
    hits = hit_counts(pred, counts, coverages)
    return hits / total if total > 0 else np.full(len(coverages), np.nan)


def pai(pred: ArrayLike, counts: ArrayLike, coverages: Sequence[float] = COVERAGES) -> FloatArray:
    """Predictive accuracy index = hit rate / coverage."""
    return hit_rates(pred, counts, coverages) / np.asarray(coverages, dtype=np.float64)


def loglik_sum(pred: ArrayLike, counts: ArrayLike, *, floor: float = LOGLIK_FLOOR) -> float:
    """Sum over test events of log of the floored, normalised cell probability."""
    p = np.asarray(pred, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    total = p.sum()
    prob = p / total if total > 0 and np.isfinite(total) else np.full(p.size, 1.0 / p.size)
    prob = np.maximum(prob, floor / p.size)
    prob /= prob.sum()
    nz = c > 0
    return float(np.sum(c[nz] * np.log(prob[nz])))


def brier_score(pred: ArrayLike, counts: ArrayLike) -> float:
    """Mean over cells of ``(1 - exp(-expected) - 1[count > 0])²``."""
    p = 1.0 - np.exp(-np.asarray(pred, dtype=np.float64))
    o = (np.asarray(counts, dtype=np.float64) > 0).astype(np.float64)
    return float(np.mean((p - o) ** 2))


@dataclass(frozen=True)
class BootstrapCI:
    """Point estimate and percentile interval of a bootstrapped statistic."""

    estimate: float
    low: float
    high: float
    level: float
    n_boot: int
    block: int
    seed: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "level": self.level,
            "n_boot": self.n_boot,
            "block": self.block,
            "seed": self.seed,
        }


def block_bootstrap(
    columns: Sequence[ArrayLike],
    stat: Callable[..., float],
    *,
    block: int | None = None,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> BootstrapCI:
    """Moving-block bootstrap over origins (rows), paired across ``columns``.

    ``stat(*columns)`` is computed on the data and on ``n_boot`` resamples in which blocks of
    ``block`` consecutive origins (default ``ceil(n^(1/3))``) are drawn with replacement, so
    serial dependence between neighbouring origins is kept and the models stay paired.
    """
    cols = [np.asarray(c, dtype=np.float64) for c in columns]
    n = cols[0].shape[0]
    if n == 0:
        return BootstrapCI(float("nan"), float("nan"), float("nan"), level, n_boot, 0, seed)
    L = int(block or max(1, int(np.ceil(n ** (1.0 / 3.0)))))
    L = min(L, n)
    nb = int(np.ceil(n / L))
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, n - L + 1, size=(n_boot, nb))
    idx = (starts[:, :, None] + np.arange(L)).reshape(n_boot, nb * L)[:, :n]
    with np.errstate(divide="ignore", invalid="ignore"):
        est = float(stat(*cols))
        boots = np.array([stat(*(c[i] for c in cols)) for i in idx], dtype=np.float64)
    boots = boots[np.isfinite(boots)]
    if boots.size == 0:
        return BootstrapCI(est, float("nan"), float("nan"), level, n_boot, L, seed)
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(boots, [a, 1.0 - a])
    return BootstrapCI(est, float(lo), float(hi), level, n_boot, L, seed)
