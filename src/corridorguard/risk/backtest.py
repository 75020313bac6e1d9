"""Rolling-origin backtest, tuning on a block before the test period, and model selection.

Protocol (Hyndman-style rolling origin, as in open_cp's ``scripted`` harness):

* Test origins ``o = start, start + step, ...`` with ``o + horizon <= end``. At each origin every
  model is fitted on the events **strictly before** ``o`` (checked; a violation raises) and scored
  on the events in ``[o, o + horizon)``.
* Hyper-parameters are tuned only on a *tuning block* of ``n_tune_origins`` earlier origins whose
  test windows end at or before ``start`` (``start - horizon - k * step``), maximising the pooled
  hit rate at 5 % coverage (ties: log-likelihood). The test period never informs the choice.
* The default region is built from the events before the first tuning origin.
* Every model is scored by the same code (:mod:`corridorguard.risk.metrics`); the best model's
  PAI@5% ratio to the best baseline gets a paired moving-block bootstrap interval over origins.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from corridorguard.errors import SolverError, ValidationError
from corridorguard.risk.events import DAY, Events, to_seconds
from corridorguard.risk.grid import Grid
from corridorguard.risk.metrics import (
    COVERAGES,
    BootstrapCI,
    block_bootstrap,
    brier_score,
    hit_counts,
    loglik_sum,
)
from corridorguard.risk.models import BASELINES, RiskModel, UniformModel, as_seconds
from corridorguard.risk.sepp import ETASModel

__all__ = [
    "DEFAULT_MODELS",
    "MODELS",
    "BacktestResult",
    "ModelScore",
    "ModelSelection",
    "backtest",
    "region_grid",
    "rolling_origins",
    "select_model",
    "tuning_origins",
]

MODELS: dict[str, type[RiskModel]] = {**BASELINES, "etas": ETASModel}
"""Every model by name."""
DEFAULT_MODELS: tuple[str, ...] = tuple(MODELS)
HEADLINE = 0.05
MAX_CANDIDATES = 16
FloatArray = NDArray[np.float64]
Progress = Callable[[int, int | None], None]


@dataclass
class ModelScore:
    """Per-origin raw scores of one model and their pooled summaries."""

    name: str
    params: dict[str, Any]
    coverages: tuple[float, ...]
    hits: FloatArray  # (n_origins, n_coverages), weighted events captured
    n: FloatArray  # (n_origins,), weighted test events in the region
    loglik: FloatArray  # (n_origins,), sums
    brier: FloatArray  # (n_origins,)
    prototype: RiskModel | None = None
    """The (tuned, unfitted) model that was scored."""
    n_failed: int = 0
    """Origins where the fit failed (SolverError) and the uniform forecast was scored instead."""

    def _rate(self) -> FloatArray:
        total = self.n.sum()
        return self.hits.sum(axis=0) / total if total > 0 else np.full(len(self.coverages), np.nan)

    @property
    def hit_rate(self) -> dict[str, float]:
        return {_key(k): float(v) for k, v in zip(self.coverages, self._rate(), strict=True)}

    @property
    def pai(self) -> dict[str, float]:
        rates = self._rate() / np.asarray(self.coverages)
        return {_key(k): float(v) for k, v in zip(self.coverages, rates, strict=True)}

    @property
    def loglik_per_event(self) -> float:
        total = self.n.sum()
        return float(self.loglik.sum() / total) if total > 0 else float("nan")

    @property
    def brier_mean(self) -> float:
        return float(self.brier.mean()) if self.brier.size else float("nan")

    def headline(self) -> int:
        return self.coverages.index(HEADLINE) if HEADLINE in self.coverages else 0


def _key(k: float) -> str:
    return str(float(k))


@dataclass
class BacktestResult:
    """All scores of a backtest plus the best-model comparison."""

    origins: list[float]
    horizon: float
    coverages: tuple[float, ...]
    scores: dict[str, ModelScore]
    n_test_events: int
    n_outside: int
    n_cells: int
    seed: int
    best_model: str | None = None
    best_baseline: str | None = None
    pai_ratio: BootstrapCI | None = None
    loglik_diff: BootstrapCI | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON document of ``corridorguard risk backtest --json``."""
        models = {
            name: {
                "hit_rate": s.hit_rate,
                "pai": s.pai,
                "loglik_per_event": s.loglik_per_event,
                "brier": s.brier_mean,
                "n_failed": s.n_failed,
                "params": {k: _jsonable(v) for k, v in s.params.items() if k != "covariates"},
            }
            for name, s in self.scores.items()
        }
        best: dict[str, Any] | None = None
        if self.best_model is not None:
            best = {"name": self.best_model, "baseline": self.best_baseline}
            if self.pai_ratio is not None:
                best["pai_ratio"] = self.pai_ratio.as_dict()
            if self.loglik_diff is not None:
                best["loglik_diff"] = self.loglik_diff.as_dict()
        return {
            "models": models,
            "n_origins": len(self.origins),
            "n_test_events": self.n_test_events,
            "n_test_events_outside_region": self.n_outside,
            "n_cells": self.n_cells,
            "horizon_days": self.horizon / DAY,
            "best_model": best,
            "seed": self.seed,
            **self.extra,
        }


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def rolling_origins(start: Any, end: Any, step: Any, horizon: Any) -> list[float]:
    """Origins ``start + k * step`` with ``origin + horizon <= end`` (UTC seconds)."""
    s, e = to_seconds(start), to_seconds(end)
    st, h = as_seconds(step), as_seconds(horizon)
    if st <= 0 or h <= 0:
        raise ValidationError("step and horizon must be positive")
    if s + h > e:
        raise ValidationError("no origin: start + horizon is after end", field="end")
    n = int(np.floor((e - h - s) / st + 1e-9)) + 1
    return [s + k * st for k in range(n)]


def tuning_origins(
    events: Events, origins: Sequence[float], step: Any, horizon: Any, n: int
) -> list[float]:
    """The ``n`` origins of the tuning block: ``origins[0] - horizon - k * step``, k < n, each
    with at least two earlier events (their test windows end by the first test origin)."""
    if not origins:
        return []
    h, st = as_seconds(horizon), as_seconds(step)
    cands = sorted(origins[0] - h - k * st for k in range(n))
    return [o for o in cands if len(events.before(o)) >= 2]


def region_grid(
    events: Events, before: float, *, cell_m: float, buffer_m: float | None = None
) -> Grid:
    """The default backtest region: cells near the events strictly before ``before``."""
    region_events = events.before(before)
    if len(region_events) < 2:
        raise ValidationError("fewer than two events before the first origin", field="start")
    return Grid.around_events(region_events, cell_m=cell_m, buffer_m=buffer_m)


def _training_events(events: Events, origin: float) -> Events:
    """The events a model may see at ``origin``: strictly before it."""
    return events.before(origin)


def _check_no_leak(train: Events, origin: float) -> None:
    if len(train) and float(train.t.max()) >= origin:
        raise RuntimeError("leak: a training event is at or after the forecast origin")


class _Scorer:
    """Precomputed test counts per origin; fits and scores models."""

    def __init__(
        self,
        events: Events,
        grid: Grid,
        origins: Sequence[float],
        horizon: float,
        coverages: tuple[float, ...],
    ) -> None:
        self.events, self.grid, self.origins = events, grid, list(origins)
        self.horizon, self.coverages = horizon, coverages
        x, y = grid.project(events.lon, events.lat)
        self.cell = grid.locate(x, y)
        self.counts: list[FloatArray] = []
        self.n_in = 0
        self.n_out = 0
        for o in self.origins:
            i0 = int(np.searchsorted(events.t, o, side="left"))
            i1 = int(np.searchsorted(events.t, o + horizon, side="left"))
            c, w = self.cell[i0:i1], events.weight[i0:i1]
            self.n_in += int((c >= 0).sum())
            self.n_out += int((c < 0).sum())
            self.counts.append(
                np.bincount(c[c >= 0], weights=w[c >= 0], minlength=grid.n_active).astype(float)
            )

    def score(
        self, name: str, proto: RiskModel, progress: Callable[[], None] | None = None
    ) -> ModelScore:
        k = len(self.origins)
        hits = np.zeros((k, len(self.coverages)))
        n, ll, br = np.zeros(k), np.zeros(k), np.zeros(k)
        failed = 0
        for i, o in enumerate(self.origins):
            train = _training_events(self.events, o)
            _check_no_leak(train, o)
            counts = self.counts[i]
            n[i] = counts.sum()
            try:
                pred = proto.clone().fit(train).predict(o, self.horizon)
            except SolverError:  # e.g. too few events for ETAS: score the uniform forecast
                failed += 1
                pred = UniformModel(self.grid).fit(train).predict(o, self.horizon)
            hits[i] = hit_counts(pred, counts, self.coverages)
            ll[i] = loglik_sum(pred, counts)
            br[i] = brier_score(pred, counts)
            if progress is not None:
                progress()
        return ModelScore(name, proto.get_params(), self.coverages, hits, n, ll, br, proto, failed)


def _candidates(
    proto: RiskModel, grid_override: Mapping[str, Sequence[Any]] | None
) -> list[RiskModel]:
    pg = dict(proto.param_grid if grid_override is None else grid_override)
    if not pg:
        return [proto]
    keys = list(pg)
    combos = list(itertools.product(*(pg[k] for k in keys)))[:MAX_CANDIDATES]
    return [proto.clone(**dict(zip(keys, c, strict=True))) for c in combos]


def backtest(
    events: Events,
    *,
    start: Any,
    end: Any,
    step: Any,
    horizon: Any,
    grid: Grid | None = None,
    cell_m: float | None = None,
    buffer_m: float | None = None,
    models: Sequence[str | RiskModel] = DEFAULT_MODELS,
    model_params: Mapping[str, Mapping[str, Any]] | None = None,
    param_grids: Mapping[str, Mapping[str, Sequence[Any]]] | None = None,
    tune: bool = True,
    n_tune_origins: int = 4,
    coverages: Sequence[float] = COVERAGES,
    n_boot: int = 1000,
    seed: int = 0,
    progress: Progress | None = None,
) -> BacktestResult:
    """Run the rolling-origin backtest of ``models`` on ``events``.

    Parameters
    ----------
    events
        All events (train and test); each model only ever sees those before each origin.
    start, end, step, horizon
        Test origins (datetimes/ISO strings/UTC seconds; step and horizon as timedelta/seconds).
    grid, cell_m, buffer_m
        A grid, or the cell size (and mask buffer) to build one around the events before the
        first tuning origin.
    models
        Names from :data:`MODELS` or unfitted model instances (used as prototypes).
    model_params, param_grids
        Per-model constructor parameters and tuning grids (default: the class ``param_grid``).
    tune, n_tune_origins
        Tune on a block of origins before ``start``.
    n_boot, seed
        Bootstrap replicates and seed (recorded in the result).
    progress
        Callback ``(done, total)``.
    """
    h = as_seconds(horizon)
    origins = rolling_origins(start, end, step, horizon)
    tune_origins = tuning_origins(events, origins, step, horizon, n_tune_origins if tune else 0)
    if grid is None:
        if cell_m is None:
            raise ValidationError("give a grid or cell_m", field="cell_m")
        first = tune_origins[0] if tune_origins else origins[0]
        grid = region_grid(events, first, cell_m=cell_m, buffer_m=buffer_m)
    covs = tuple(float(c) for c in coverages)
    protos = _prototypes(models, grid, model_params or {})
    cands = {
        n: _candidates(p, (param_grids or {}).get(n)) if tune_origins else [p]
        for n, p in protos.items()
    }
    total = sum(len(c) * len(tune_origins) if len(c) > 1 else 0 for c in cands.values())
    total += len(protos) * len(origins)
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total)

    test = _Scorer(events, grid, origins, h, covs)
    tuner = _Scorer(events, grid, tune_origins, h, covs) if tune_origins else None
    scores: dict[str, ModelScore] = {}
    for name, proto in protos.items():
        chosen = proto
        if tuner is not None and len(cands[name]) > 1:
            chosen = _tune(tuner, name, cands[name], tick)
        scores[name] = test.score(name, chosen, tick)
    result = BacktestResult(origins, h, covs, scores, test.n_in, test.n_out, grid.n_active, seed)
    result.extra["tuning_origins"] = len(tune_origins)
    _compare(result, n_boot=n_boot, seed=seed)
    return result


def _prototypes(
    models: Sequence[str | RiskModel], grid: Grid, params: Mapping[str, Mapping[str, Any]]
) -> dict[str, RiskModel]:
    out: dict[str, RiskModel] = {}
    for m in models:
        if isinstance(m, RiskModel):
            out[m.name if m.name not in out else f"{m.name}_{len(out)}"] = m
            continue
        if m not in MODELS:
            raise ValidationError(
                f"unknown model {m!r} (known: {', '.join(MODELS)})", field="models"
            )
        out[m] = MODELS[m](grid, **dict(params.get(m, {})))
    if not out:
        raise ValidationError("no model to backtest", field="models")
    return out


def _tune(tuner: _Scorer, name: str, cands: list[RiskModel], tick: Callable[[], None]) -> RiskModel:
    best, best_key = cands[0], (-np.inf, -np.inf)
    for cand in cands:
        s = tuner.score(name, cand, tick)
        key = (float(s.hits[:, s.headline()].sum()), float(s.loglik.sum()))
        if key > best_key:
            best, best_key = cand, key
    return best


def _compare(result: BacktestResult, *, n_boot: int, seed: int) -> None:
    scores = result.scores
    if not scores:
        return
    j = list(result.coverages).index(HEADLINE) if HEADLINE in result.coverages else 0

    def rank(n: str) -> tuple[float, float]:
        return (float(scores[n].hits[:, j].sum()), scores[n].loglik_per_event)

    best = max(scores, key=rank)
    result.best_model = best
    others = [n for n in scores if n in BASELINES and n != best]
    if not others:
        return
    base = max(others, key=rank)
    result.best_baseline = base
    a, b = scores[best], scores[base]
    result.pai_ratio = block_bootstrap(
        [a.hits[:, j], b.hits[:, j]], lambda x, y: x.sum() / y.sum(), n_boot=n_boot, seed=seed
    )
    result.loglik_diff = block_bootstrap(
        [a.loglik, b.loglik, a.n],
        lambda x, y, n: (x.sum() - y.sum()) / n.sum(),
        n_boot=n_boot,
        seed=seed,
    )


@dataclass
class ModelSelection:
    """The model chosen by backtest on the user's data, refitted on all of it."""

    name: str
    model: RiskModel
    backtest: BacktestResult


def select_model(
    events: Events,
    *,
    cell_m: float | None = None,
    grid: Grid | None = None,
    models: Sequence[str | RiskModel] = DEFAULT_MODELS,
    horizon_days: float = 7.0,
    step_days: float = 7.0,
    n_origins: int = 12,
    n_tune_origins: int = 4,
    n_boot: int = 500,
    seed: int = 0,
    progress: Progress | None = None,
) -> ModelSelection:
    """Pick the model with the best pooled PAI@5% over the last ``n_origins`` rolling origins.

    The test origins are the last ``n_origins`` weekly (``step_days``) origins whose horizon ends
    by the day after the last event; tuning uses the ``n_tune_origins`` before them. The chosen
    model (with its tuned parameters) is refitted on all events and returned, ready to
    ``predict`` from the day after the last event.
    """
    if len(events) < 10:
        raise ValidationError("need at least 10 events to select a model", field="events")
    end = float(np.ceil(events.t[-1] / DAY + 1e-9) * DAY)
    h, st = horizon_days * DAY, step_days * DAY
    start = end - h - (n_origins - 1) * st
    if len(events.before(start - n_tune_origins * st - h)) < 2:
        raise ValidationError(
            "not enough history before the backtest period; reduce n_origins", field="events"
        )
    res = backtest(
        events,
        start=start,
        end=end,
        step=st,
        horizon=h,
        grid=grid,
        cell_m=cell_m,
        models=models,
        n_tune_origins=n_tune_origins,
        n_boot=n_boot,
        seed=seed,
        progress=progress,
    )
    assert res.best_model is not None
    proto = res.scores[res.best_model].prototype
    assert proto is not None
    if grid is None:
        grid = Grid.around_events(events, cell_m=float(cell_m or proto.grid.cell))
        params = {k: v for k, v in proto.get_params().items() if k != "covariates"}
        proto = type(proto)(grid, **params)
    return ModelSelection(res.best_model, proto.clone().fit(events), res)
