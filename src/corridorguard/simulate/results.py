"""Estimates with confidence intervals, built from the summed chunk statistics.

Per-attacker-day rates are sample means with normal-approximation intervals (``n`` is large).
Per-attack quantities (detection rate, mean response time, ...) are ratios of two means with
delta-method intervals. Differences between plans simulated together are *paired* (common random
numbers): the variance of a difference uses the cross-plan sums of products. Differences of
ratios use the unpaired (conservative under positive correlation) variance.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.special import ndtri

from corridorguard.simulate._kernel import HIST_EDGES, M_INDEX, ChunkStats

__all__ = ["PER_ATTACK", "PER_DAY", "Estimate", "StatsView"]

PER_DAY = (
    "deterred",
    "attacked",
    "detected",
    "interdicted",
    "succeeded",
    "harm",
    "interdicted_onsite",
    "interdicted_qrf",
    "qrf_dispatched",
    "handoff",
)
"""Means per attacker-day (``harm`` = expected worker casualties per attacker-day)."""

PER_ATTACK = {
    "detection_rate": ("detected", "attacked"),
    "interdiction_rate": ("interdicted", "attacked"),
    "success_rate": ("succeeded", "attacked"),
    "harm_per_attack": ("harm", "attacked"),
    "handoff_share": ("handoff", "qrf_dispatched"),
    "mean_response_min": ("response_min_sum", "qrf_dispatched"),
    "mean_time_to_detect_min": ("detect_min_sum", "detected"),
}
"""Ratios ``numerator / denominator`` (per attack, per dispatch, per detection)."""


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error and confidence interval."""

    mean: float
    low: float
    high: float
    se: float

    @classmethod
    def normal(cls, mean: float, se: float, z: float) -> Estimate:
        mean, se = float(mean), float(se)
        if not math.isfinite(mean):
            return cls(math.nan, math.nan, math.nan, math.nan)
        se = max(se, 0.0) if math.isfinite(se) else math.nan
        return cls(mean, mean - z * se, mean + z * se, se)

    @property
    def excludes_zero(self) -> bool:
        """True when the interval lies strictly on one side of zero."""
        return bool(self.low > 0 or self.high < 0)

    def to_dict(self) -> dict[str, float | None]:
        return {k: (None if math.isnan(v) else v) for k, v in asdict(self).items()}


def z_value(confidence: float) -> float:
    return float(ndtri(0.5 + confidence / 2.0))


class StatsView:
    """Estimates for plan ``p`` (and pairs of plans) from summed :class:`ChunkStats`."""

    def __init__(self, stats: ChunkStats, confidence: float) -> None:
        self.stats = stats
        self.n = stats.n
        self.z = z_value(confidence)

    def mean(self, p: int, metric: str) -> Estimate:
        s, m, n = self.stats, M_INDEX[metric], self.n
        mu = s.s1[p, m] / n
        var = max(s.within[p, m, m] / n - mu * mu, 0.0)
        return Estimate.normal(mu, math.sqrt(var / n), self.z)

    def ratio(self, p: int, name: str) -> Estimate:
        num, den = PER_ATTACK[name]
        s, n = self.stats, self.n
        y, x = M_INDEX[num], M_INDEX[den]
        if s.s1[p, x] <= 0:
            return Estimate.normal(math.nan, math.nan, self.z)
        r = s.s1[p, y] / s.s1[p, x]
        xbar = s.s1[p, x] / n
        var_z = (s.within[p, y, y] - 2 * r * s.within[p, y, x] + r * r * s.within[p, x, x]) / n
        var_z = max(var_z, 0.0) / (xbar * xbar)
        return Estimate.normal(r, math.sqrt(var_z / n), self.z)

    def diff(self, p: int, q: int, metric: str) -> Estimate:
        """Paired difference ``plan p - plan q`` of a per-day metric or a per-attack ratio."""
        if metric in PER_ATTACK:
            a, b = self.ratio(p, metric), self.ratio(q, metric)
            return Estimate.normal(a.mean - b.mean, math.hypot(a.se, b.se), self.z)
        s, m, n = self.stats, M_INDEX[metric], self.n
        d = (s.s1[p, m] - s.s1[q, m]) / n
        c = s.cross[m]
        var = max((c[p, p] - 2 * c[p, q] + c[q, q]) / n - d * d, 0.0)
        return Estimate.normal(d, math.sqrt(var / n), self.z)

    def response_quantiles(self, p: int, qs: tuple[float, ...] = (0.5, 0.9)) -> dict[str, Any]:
        hist = self.stats.hist[p]
        total = hist.sum()
        out: dict[str, Any] = {}
        for q in qs:
            key = f"p{round(q * 100)}"
            if total <= 0:
                out[key] = None
                continue
            idx = int(np.searchsorted(np.cumsum(hist), q * total))
            out[key] = None if idx >= HIST_EDGES.size - 1 else float(HIST_EDGES[idx + 1])
        return out
