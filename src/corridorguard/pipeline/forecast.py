"""Pipeline step 1: the risk forecast, validated by backtest or an explicitly unvalidated prior.

A model is *selected by backtest* (:func:`corridorguard.risk.select_model`, rolling origins on the
user's own history) only when the history is rich enough to score one; otherwise the forecast is
the documented **prior** below and every output says it is not validated.

Prior (``count-prior``): a per-cell weighted count of all past incidents plus a Laplace/Dirichlet
pseudo-count of ``PRIOR_PSEUDOCOUNT`` per cell (:class:`corridorguard.risk.CountModel`), on a
corridor grid (cells within ``BUFFER_M`` of the roads and sites), scaled to the incident rate of
the last 365 days. It says "where incidents happened before, with every corridor cell kept
possible"; nobody has checked that it predicts where the next one happens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from corridorguard.errors import ValidationError
from corridorguard.risk import (
    AssetRisk,
    CountModel,
    Events,
    Grid,
    asset_risk,
    events_from_records,
    relative_rates,
    select_model,
)
from corridorguard.scenario.model import Scenario

__all__ = [
    "BUFFER_M",
    "CELL_M",
    "MIN_EVENTS",
    "MIN_RECENT_EVENTS",
    "PRIOR_PSEUDOCOUNT",
    "Forecast",
    "forecast_risk",
]

DAY = 86_400.0
CELL_M = 20_000.0
BUFFER_M = 30_000.0
PRIOR_PSEUDOCOUNT = 0.5
MIN_EVENTS = 50
"""Fewer incidents than this in total: no backtest (the prior is used)."""
MIN_RECENT_EVENTS = 20
"""Fewer incidents than this in the 16 weeks the backtest tunes and tests on: the prior is used."""
_BACKTEST_WEEKS = 16  # 12 weekly test origins + 4 tuning origins (select_model's defaults)


@dataclass
class Forecast:
    """The forecast the plan is built on, with its validation status."""

    status: str
    """``validated`` (selected by backtest) or ``prior`` (not validated)."""
    model: str
    reason: str
    n_events: int
    start: str
    horizon_days: float
    assets: AssetRisk
    grid: Grid
    expected: np.ndarray
    events: Events | None
    backtest: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def validated(self) -> bool:
        return self.status == "validated"

    def site_risk(self) -> dict[str, float]:
        """Site id -> expected incidents over the horizon."""
        return {s.id: s.expected for s in self.assets.sites}

    def edge_risk_per_km(self) -> dict[str, float]:
        """Edge id -> expected incidents per km over the horizon (the rate routing uses)."""
        return {e.id: e.expected / max(e.length_m / 1000.0, 1e-9) for e in self.assets.edges}

    def relative_edge_risk(self, floor: float = 0.1) -> dict[str, float]:
        """Edge id -> risk rate per km relative to the mean (floored): placement and routing
        weights, scale-free so solver tolerances never see 1e-6 weights."""
        return relative_rates(self.edge_risk_per_km(), floor)

    def relative_site_risk(self, floor: float = 0.1) -> dict[str, float]:
        """Site id -> expected incidents relative to the mean (floored)."""
        return relative_rates(self.site_risk(), floor)

    def consequence_site_risk(
        self, scenario: Any, *, lethality: float = 0.05, floor: float = 0.1
    ) -> dict[str, float]:
        """Site id -> relative risk x consequence (``workers x lethality + criticality``, the
        simulator's attacker reward): the site weights placement uses, so a large workforce at
        a moderately risky site is not left out of reach. Road pieces weigh their relative
        risk per km, so one consequence unit at a site counts like ``site_weight_km`` (10) km
        of road at average risk."""
        rel = self.relative_site_risk(floor)
        return {
            s.id: rel.get(s.id, 1.0) * (s.workers * lethality + s.criticality)
            for s in scenario.sites
        }

    def multipliers(self, floor: float = 0.1) -> dict[str, float]:
        """Asset id -> probability / mean probability, floored (the patrol engine's risk)."""
        probs = {s.id: s.probability for s in self.assets.sites}
        probs |= {e.id: e.probability for e in self.assets.edges}
        mean = float(np.mean(list(probs.values()))) if probs else 0.0
        if mean <= 0:
            return dict.fromkeys(probs, 1.0)
        return {k: max(floor, v / mean) for k, v in probs.items()}

    def to_dict(self) -> dict[str, Any]:
        top_sites = sorted(self.assets.sites, key=lambda s: -s.expected)[:10]
        top_edges = sorted(self.assets.edges, key=lambda e: -e.expected / max(e.length_m, 1.0))
        return {
            "status": self.status,
            "validated": self.validated,
            "model": self.model,
            "params": self.params,
            "reason": self.reason,
            "n_events": self.n_events,
            "start": self.start,
            "horizon_days": self.horizon_days,
            "cell_m": self.grid.cell,
            "n_cells": int(self.grid.n_active),
            "expected_total": float(self.expected.sum()),
            "backtest": self.backtest,
            "top_sites": [
                {"id": s.id, "name": s.name, "expected": s.expected, "coverage": s.coverage}
                for s in top_sites
            ],
            "top_segments": [
                {"id": e.id, "route": e.route, "expected": e.expected, "per_100km": e.per_100km}
                for e in top_edges[:10]
            ],
            "assets": self.assets.to_json(),
        }


def events_from(records: Sequence[Any]) -> Events | None:
    """Incident records (or dicts) as risk events; ``None`` when there are none with a place."""
    usable = [r for r in records if _has_place(r)]
    if not usable:
        return None
    return events_from_records(usable)


def _has_place(r: Any) -> bool:
    get = r.get if isinstance(r, dict) else lambda k: getattr(r, k, None)
    return get("lon") is not None and get("lat") is not None and get("time") is not None


def _rich_enough(events: Events | None) -> tuple[bool, str]:
    if events is None or len(events) == 0:
        return False, "no incident history in or near the corridor"
    n = len(events)
    if n < MIN_EVENTS:
        return False, (
            f"only {n} incidents: at least {MIN_EVENTS} are needed to backtest a forecast"
        )
    last = float(events.t[-1])
    recent = int(np.sum(events.t >= last - _BACKTEST_WEEKS * 7 * DAY))
    if recent < MIN_RECENT_EVENTS:
        return False, (
            f"only {recent} incidents in the last {_BACKTEST_WEEKS} weeks of the history: at least"
            f" {MIN_RECENT_EVENTS} are needed to score weekly forecasts"
        )
    return True, f"{n} incidents, {recent} in the last {_BACKTEST_WEEKS} weeks"


def forecast_risk(
    scenario: Scenario,
    events: Events | None,
    *,
    horizon_days: float,
    seed: int,
    progress: Callable[[int, int | None], None] | None = None,
) -> Forecast:
    """Forecast expected incidents per site and road segment over ``horizon_days``."""
    if horizon_days <= 0:
        raise ValidationError("must be > 0", field="days")
    grid = Grid.around_scenario(scenario, cell_m=CELL_M, buffer_m=BUFFER_M)
    n_given = 0 if events is None else len(events)
    events = _near(scenario, events)
    ok, why = _rich_enough(events)
    n_near = 0 if events is None else len(events)
    if n_near < n_given:
        why += f" ({n_given - n_near} of the {n_given} given incidents lie outside the corridor)"
    start = _start(events)
    backtest: dict[str, Any] | None = None
    if ok:
        assert events is not None
        sel = select_model(events, grid=grid, seed=seed, n_boot=200, progress=progress)
        model: Any = sel.model
        name, status = sel.name, "validated"
        backtest = _backtest_summary(sel.backtest)
        reason = f"selected by rolling-origin backtest on the incident history ({why})"
    else:
        model = CountModel(grid, prior=PRIOR_PSEUDOCOUNT)
        if events is not None and len(events) > 0:
            model.fit(events)
        name, status = "count-prior", "prior"
        reason = (
            f"NOT VALIDATED: {why}; the forecast falls back to the documented prior (per-cell "
            f"count of past incidents + {PRIOR_PSEUDOCOUNT} per corridor cell, scaled to the last "
            "365 days' incident rate)"
        )
    expected = _predict(model, grid, events, start, horizon_days)
    assets = asset_risk(scenario, grid, expected, horizon_days=horizon_days)
    params = model.get_params() if hasattr(model, "get_params") else {}
    params = {k: v for k, v in params.items() if isinstance(v, (int, float, str, type(None)))}
    return Forecast(
        status=status,
        model=name,
        reason=reason,
        n_events=0 if events is None else len(events),
        start=datetime.fromtimestamp(start, UTC).isoformat(),
        horizon_days=float(horizon_days),
        assets=assets,
        grid=grid,
        expected=expected,
        events=events,
        backtest=backtest,
        params=params,
    )


NEAR_DEG = 1.0
"""Incidents further than this (degrees) outside the scenario's bounding box are not used."""


def _near(scenario: Scenario, events: Events | None) -> Events | None:
    """The events within the scenario's bounding box padded by ``NEAR_DEG``."""
    if events is None or len(events) == 0:
        return events
    x0, y0, x1, y1 = scenario.bbox()
    keep = (
        (events.lon >= x0 - NEAR_DEG)
        & (events.lon <= x1 + NEAR_DEG)
        & (events.lat >= y0 - NEAR_DEG)
        & (events.lat <= y1 + NEAR_DEG)
    )
    if keep.all():
        return events
    return events.select(keep) if keep.any() else None


def _start(events: Events | None) -> float:
    if events is None or len(events) == 0:
        return float(np.floor(datetime(2026, 1, 1, tzinfo=UTC).timestamp() / DAY) * DAY)
    return float(np.ceil(events.t[-1] / DAY + 1e-9) * DAY)


def _predict(
    model: Any, grid: Grid, events: Events | None, start: float, horizon_days: float
) -> np.ndarray:
    if events is None or len(events) == 0:
        # no history at all: a flat prior of one incident per horizon spread over the corridor
        return np.full(grid.n_active, 1.0 / max(grid.n_active, 1))
    return np.asarray(model.predict(start, horizon_days * DAY), dtype=float)


def _backtest_summary(res: Any) -> dict[str, Any]:
    doc: dict[str, Any] = res.to_json()
    keep = ("best_model", "n_origins", "n_test_events", "horizon_days", "seed")
    out = {k: doc[k] for k in keep if k in doc}
    models = doc.get("models", {})
    out["models"] = {
        k: {"pai_5": v.get("pai", {}).get("0.05"), "loglik_per_event": v.get("loglik_per_event")}
        for k, v in models.items()
    }
    return out
