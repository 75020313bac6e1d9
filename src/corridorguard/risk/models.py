"""Grid forecasting models behind one interface, and the five baselines.

Every model is constructed with a :class:`~corridorguard.risk.grid.Grid` and keyword-only
hyper-parameters; ``fit(events)`` returns ``self``; ``predict(start, horizon)`` returns the expected
number of events in each active cell over ``[start, start + horizon)``.

The baselines spread an expected total over a normalised surface. The total is the (weighted) event
rate over the ``rate_window_days`` before ``start`` times the horizon; the surface is:

* :class:`UniformModel`: the same in every cell (PAI = 1 by construction).
* :class:`CountModel`: per-cell (weighted) count plus a Laplace/Dirichlet smoothing prior ``prior``
  per cell (the "naive" counting predictor of open_cp with a prior so that empty cells keep mass).
* :class:`RetroKDE`: retrospective hotspot, a quartic (or Gaussian) kernel of bandwidth
  ``bandwidth_m`` over the last ``window_days`` (open_cp ``RetroHotSpot``: quartic 300 m, 60 d).
* :class:`ProspectiveHotspot`: Bowers, Johnson & Pease (2004), *Brit. J. Criminol.* 44:641-658:
  weight ``1 / ((1 + d_s)(1 + d_t))`` with ``d_s`` the grid distance in cells (diagonals count 1)
  up to ``space_cells`` and ``d_t`` whole time units (weeks) up to ``time_units`` (open_cp
  ``ClassicWeight`` defaults 8 and 8).
* :class:`SpaceTimeKDE`: Gaussian kernel of ``bandwidth_m`` times an exponential time decay
  ``exp(-(start - t) / time_scale_days)`` (open_cp ``kde.KDE``; Gaussian 250 m x exp(60 d)).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import NDArray

from corridorguard.errors import ValidationError
from corridorguard.risk._smooth import bin_cells, convolve, smooth
from corridorguard.risk.events import DAY, Events, to_seconds
from corridorguard.risk.grid import Grid

__all__ = [
    "BASELINES",
    "CountModel",
    "Points",
    "ProspectiveHotspot",
    "RetroKDE",
    "RiskModel",
    "SpaceTimeKDE",
    "UniformModel",
    "as_seconds",
]

FloatArray = NDArray[np.float64]


def as_seconds(value: Any) -> float:
    """A duration (timedelta or seconds) as float seconds."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


@dataclass(frozen=True)
class Points:
    """Projected training points (metres, UTC seconds, weights), sorted by time."""

    x: FloatArray
    y: FloatArray
    t: FloatArray
    w: FloatArray

    @classmethod
    def from_events(cls, grid: Grid, events: Events) -> Points:
        x, y = grid.project(events.lon, events.lat)
        return cls(x, y, events.t.copy(), events.weight.copy())

    def window(self, t0: float, t1: float) -> Points:
        i0 = int(np.searchsorted(self.t, t0, side="left"))
        i1 = int(np.searchsorted(self.t, t1, side="left"))
        sl = slice(i0, i1)
        return Points(self.x[sl], self.y[sl], self.t[sl], self.w[sl])


class RiskModel:
    """Base class: ``fit(events) -> self``; ``predict(start, horizon) -> expected per cell``.

    Parameters
    ----------
    grid
        The forecast grid (projection, cells, region mask).
    rate_window_days
        Window before ``start`` over which the expected total count is estimated.
    """

    name: str = "model"
    """Display name (a class default; an instance may override it, e.g. ``etas_cov``)."""
    _params: ClassVar[tuple[str, ...]] = ()
    param_grid: ClassVar[dict[str, list[Any]]] = {}
    """Default tuning candidates (used by the backtest on the tuning block)."""

    def __init__(self, grid: Grid, *, rate_window_days: float = 365.0) -> None:
        if rate_window_days <= 0:
            raise ValidationError("must be positive", field="rate_window_days")
        self.grid = grid
        self.rate_window_days = float(rate_window_days)
        self.points_: Points | None = None
        self.t_last_: float = -np.inf

    # --- life cycle -----------------------------------------------------------------------

    def get_params(self) -> dict[str, Any]:
        """Hyper-parameters (those a clone is built from)."""
        out = {p: getattr(self, p) for p in self._params}
        out["rate_window_days"] = self.rate_window_days
        return out

    def clone(self, **overrides: Any) -> Self:
        """An unfitted copy with the same grid and parameters, some overridden."""
        return type(self)(self.grid, **{**self.get_params(), **overrides})

    def fit(self, events: Events) -> Self:
        """Store the (projected) training events; subclasses fit more."""
        self.points_ = Points.from_events(self.grid, events)
        self.t_last_ = float(events.t[-1]) if len(events) else -np.inf
        return self

    def _check(self, start: Any, horizon: Any) -> tuple[float, float]:
        if self.points_ is None:
            raise ValidationError(f"{self.name}: predict() before fit()")
        s, h = to_seconds(start), as_seconds(horizon)
        if h <= 0:
            raise ValidationError("horizon must be positive", field="horizon")
        if s <= self.t_last_:
            raise ValidationError(
                f"{self.name}: forecast start must be after the last training event "
                "(no look-ahead)",
                field="start",
            )
        return s, h

    def expected_total(self, start: float, horizon: float) -> float:
        """Weighted event rate over the rate window before ``start``, times ``horizon``."""
        assert self.points_ is not None
        p = self.points_
        if p.t.size == 0:
            return 0.0
        t0 = max(start - self.rate_window_days * DAY, float(p.t[0]))
        span = max(start - t0, DAY)
        return float(p.window(t0, start).w.sum()) / span * horizon

    def surface(self, start: float) -> FloatArray:
        """Non-negative relative risk per active cell at ``start`` (subclasses)."""
        raise NotImplementedError

    def predict(self, start: Any, horizon: Any) -> FloatArray:
        """Expected events per active cell over ``[start, start + horizon)``."""
        s, h = self._check(start, horizon)
        surf = np.asarray(self.surface(s), dtype=np.float64)
        total = surf.sum()
        if not np.isfinite(total) or total <= 0:
            surf, total = np.ones(self.grid.n_active), float(self.grid.n_active)
        return surf / total * self.expected_total(s, h)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class UniformModel(RiskModel):
    """The same expected count in every active cell: the PAI = 1 reference."""

    name = "uniform"

    def surface(self, start: float) -> FloatArray:
        return np.ones(self.grid.n_active)


class CountModel(RiskModel):
    """Per-cell weighted count over ``window_days`` (None = all history) plus ``prior`` per cell."""

    name = "count"
    _params = ("prior", "window_days")
    param_grid: ClassVar[dict[str, list[Any]]] = {"prior": [0.1, 1.0], "window_days": [None, 365.0]}

    def __init__(
        self,
        grid: Grid,
        *,
        prior: float = 0.5,
        window_days: float | None = None,
        rate_window_days: float = 365.0,
    ) -> None:
        super().__init__(grid, rate_window_days=rate_window_days)
        if prior < 0:
            raise ValidationError("prior must be >= 0", field="prior")
        self.prior = float(prior)
        self.window_days = window_days

    def surface(self, start: float) -> FloatArray:
        assert self.points_ is not None
        p = self.points_
        if self.window_days is not None:
            p = p.window(start - self.window_days * DAY, start)
        counts = self.grid.to_active(bin_cells(self.grid, p.x, p.y, p.w))
        return counts + self.prior


class RetroKDE(RiskModel):
    """Retrospective hotspot: a time-invariant kernel over the last ``window_days``."""

    name = "kde"
    _params = ("bandwidth_m", "window_days", "kernel")
    param_grid: ClassVar[dict[str, list[Any]]] = {
        "bandwidth_m": ["0.5cell", "1cell", "2cell", "4cell"],
        "window_days": [60.0, 365.0, None],
    }

    def __init__(
        self,
        grid: Grid,
        *,
        bandwidth_m: float | str = 300.0,
        window_days: float | None = 60.0,
        kernel: str = "quartic",
        rate_window_days: float = 365.0,
    ) -> None:
        super().__init__(grid, rate_window_days=rate_window_days)
        self.bandwidth_m = bandwidth_m
        self.window_days = window_days
        if kernel not in ("quartic", "gaussian"):
            raise ValidationError(f"unknown kernel {kernel!r}", field="kernel")
        self.kernel = kernel

    def surface(self, start: float) -> FloatArray:
        assert self.points_ is not None
        p = self.points_
        if self.window_days is not None:
            p = p.window(start - self.window_days * DAY, start)
        h = cell_length(self.bandwidth_m, self.grid)
        mass = smooth(self.grid, p.x, p.y, p.w, kernel=self.kernel, bandwidth=h)  # type: ignore[arg-type]
        return self.grid.to_active(mass)


class SpaceTimeKDE(RiskModel):
    """Gaussian kernel in space times an exponential decay in time."""

    name = "stkde"
    _params = ("bandwidth_m", "time_scale_days")
    param_grid: ClassVar[dict[str, list[Any]]] = {
        "bandwidth_m": ["0.5cell", "1cell", "2cell", "4cell"],
        "time_scale_days": [14.0, 60.0, 180.0],
    }

    def __init__(
        self,
        grid: Grid,
        *,
        bandwidth_m: float | str = 250.0,
        time_scale_days: float = 60.0,
        rate_window_days: float = 365.0,
    ) -> None:
        super().__init__(grid, rate_window_days=rate_window_days)
        if time_scale_days <= 0:
            raise ValidationError("must be positive", field="time_scale_days")
        self.bandwidth_m = bandwidth_m
        self.time_scale_days = float(time_scale_days)

    def surface(self, start: float) -> FloatArray:
        assert self.points_ is not None
        p = self.points_.window(start - 30 * self.time_scale_days * DAY, start)
        w = p.w * np.exp(-(start - p.t) / (self.time_scale_days * DAY))
        h = cell_length(self.bandwidth_m, self.grid)
        return self.grid.to_active(smooth(self.grid, p.x, p.y, w, kernel="gaussian", bandwidth=h))


class ProspectiveHotspot(RiskModel):
    """Bowers, Johnson & Pease (2004) prospective hotspotting on the grid."""

    name = "prospective"
    _params = ("space_cells", "time_units", "time_unit_days")
    param_grid: ClassVar[dict[str, list[Any]]] = {
        "space_cells": [1, 2, 4, 8],
        "time_units": [4, 8, 26],
    }

    def __init__(
        self,
        grid: Grid,
        *,
        space_cells: int = 8,
        time_units: int = 8,
        time_unit_days: float = 7.0,
        rate_window_days: float = 365.0,
    ) -> None:
        super().__init__(grid, rate_window_days=rate_window_days)
        if space_cells < 0 or time_units < 0 or time_unit_days <= 0:
            raise ValidationError("bandwidths must be >= 0 and the time unit > 0")
        self.space_cells = int(space_cells)
        self.time_units = int(time_units)
        self.time_unit_days = float(time_unit_days)

    def surface(self, start: float) -> FloatArray:
        assert self.points_ is not None
        unit = self.time_unit_days * DAY
        p = self.points_.window(start - (self.time_units + 1) * unit, start)
        dt = np.floor((start - p.t) / unit)
        w = p.w / (1.0 + dt)
        image = bin_cells(self.grid, p.x, p.y, w)
        r = self.space_cells
        k = np.arange(-r, r + 1)
        dd = np.maximum(np.abs(k)[None, :], np.abs(k)[:, None])
        stencil = 1.0 / (1.0 + dd)
        return self.grid.to_active(convolve(image, stencil))


def cell_length(value: float | str, grid: Grid) -> float:
    """A length in metres, or ``"<k>cell"`` meaning k cell sides (for grid-relative tuning)."""
    if isinstance(value, str):
        if not value.endswith("cell"):
            raise ValidationError(f"bad length {value!r} (metres or '<k>cell')")
        return float(value[:-4]) * grid.cell
    if value <= 0:
        raise ValidationError("bandwidth must be positive", field="bandwidth_m")
    return float(value)


BASELINES: dict[str, type[RiskModel]] = {
    "uniform": UniformModel,
    "count": CountModel,
    "kde": RetroKDE,
    "prospective": ProspectiveHotspot,
    "stkde": SpaceTimeKDE,
}
"""The five baselines by name."""
