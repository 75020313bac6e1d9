"""Backtest harness: no leakage (with a test that would catch it), tuning block, selection."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from corridorguard.errors import ValidationError
from corridorguard.incidents import read_incidents
from corridorguard.risk import (
    CountModel,
    Events,
    Grid,
    backtest,
    events_from_records,
    laea_crs,
    rolling_origins,
    select_model,
)
from corridorguard.risk.events import DAY

backtest_mod = importlib.import_module("corridorguard.risk.backtest")

CHICAGO_MAPPING = {
    "time": "Date",
    "lon": "Longitude",
    "lat": "Latitude",
    "type": "Primary Type",
    "source_id": "Case Number",
    "time_format": "%m/%d/%Y %I:%M:%S %p",
}


class Recording(CountModel):
    """A count model that records what it was fitted on and when it was asked to forecast."""

    name = "recording"
    log: ClassVar[list[dict[str, Any]]] = []

    def fit(self, events: Events) -> Recording:
        Recording.log.append({"max_t": float(events.t.max()), "n": len(events)})
        return super().fit(events)

    def predict(self, start: Any, horizon: Any) -> np.ndarray:
        Recording.log[-1]["start"] = float(start)
        return super().predict(start, horizon)


def _grid() -> Grid:
    return Grid(laea_crs(70.0, 30.0), 0.0, 0.0, 200.0, 10, 10, np.ones((10, 10), dtype=bool))


def _synthetic(g: Grid, seed: int = 0, days: int = 200) -> Events:
    rng = np.random.default_rng(seed)
    n = 6 * days
    hot = rng.random(n) < 0.4
    x = np.where(hot, rng.uniform(600, 800, n), rng.uniform(0, 2000, n))
    y = np.where(hot, rng.uniform(1000, 1200, n), rng.uniform(0, 2000, n))
    t = np.sort(rng.uniform(0, days, n)) * DAY
    # events exactly at two test origins (day 150 and day 157): they must be test, never train
    t = np.r_[t, 150 * DAY, 157 * DAY]
    x, y = np.r_[x, 700.0, 700.0], np.r_[y, 1100.0, 1100.0]
    lon, lat = g.unproject(x, y)
    return Events.from_arrays(lon, lat, t)


def _run(ev: Events, g: Grid, **kw: Any) -> Any:
    return backtest(
        ev,
        start=150 * DAY,
        end=185 * DAY,
        step=7 * DAY,
        horizon=7 * DAY,
        grid=g,
        models=[Recording(g)],
        n_boot=50,
        **kw,
    )


def test_fits_never_see_events_at_or_after_the_origin() -> None:
    g = _grid()
    ev = _synthetic(g)
    Recording.log.clear()
    res = _run(ev, g, param_grids={"recording": {"prior": [0.1, 1.0]}}, n_tune_origins=3)
    assert len(res.origins) == 5
    assert len(Recording.log) == 2 * 3 + 5  # two candidates on three tuning origins + test
    for call in Recording.log:
        assert call["max_t"] < call["start"]
    # the event planted exactly at the first origin was scored as a test event
    first = [c for c in Recording.log if c["start"] == 150 * DAY]
    assert first and all(c["max_t"] < 150 * DAY for c in first)
    # tuning forecasts end by the first test origin
    tuning = [c for c in Recording.log if c["start"] < 150 * DAY]
    assert len(tuning) == 6 and all(c["start"] + 7 * DAY <= 150 * DAY for c in tuning)


def test_a_leaky_harness_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: training on ``t <= origin`` includes the event planted at the origin."""
    g = _grid()
    ev = _synthetic(g)
    monkeypatch.setattr(backtest_mod, "_training_events", lambda e, o: e.select(e.t <= o))
    with pytest.raises(RuntimeError, match="leak"):
        _run(ev, g, tune=False)
    # with the harness guard switched off too, the model's own guard refuses the forecast ...
    monkeypatch.setattr(backtest_mod, "_check_no_leak", lambda train, origin: None)
    Recording.log.clear()
    with pytest.raises(ValidationError, match="look-ahead"):
        _run(ev, g, tune=False)
    # ... and the recorder shows exactly the violation the first test checks for
    assert Recording.log[-1]["max_t"] >= 150 * DAY


def test_tuning_ignores_the_test_period() -> None:
    """Changing every event in the test period does not change the tuned parameters."""
    g = _grid()
    ev = _synthetic(g)
    kw: dict[str, Any] = {"param_grids": {"recording": {"window_days": [20.0, None]}}}
    a = _run(ev, g, **kw)
    after = ev.t >= 150 * DAY
    moved = Events.from_arrays(np.where(after, ev.lon + 0.005, ev.lon), ev.lat, ev.t)
    b = _run(moved, g, **kw)
    assert a.scores["recording"].params == b.scores["recording"].params
    assert a.scores["recording"].pai != b.scores["recording"].pai


def test_rolling_origins_match_the_chicago_protocol() -> None:
    o = rolling_origins("2016-10-01", "2016-12-31", 7 * DAY, 7 * DAY)
    assert len(o) == 13
    with pytest.raises(ValidationError):
        rolling_origins("2016-12-30", "2016-12-31", DAY, 7 * DAY)


def test_backtest_json_shape_and_best_model() -> None:
    g = _grid()
    res = backtest(
        _synthetic(g),
        start=150 * DAY,
        end=185 * DAY,
        step=7 * DAY,
        horizon=7 * DAY,
        grid=g,
        models=["uniform", "count", "stkde"],
        n_boot=100,
        seed=4,
    )
    doc = res.to_json()
    assert doc["n_origins"] == 5 and doc["seed"] == 4
    assert set(doc["models"]) == {"uniform", "count", "stkde"}
    for m in doc["models"].values():
        assert set(m["pai"]) == {"0.01", "0.02", "0.05", "0.1", "0.2"}
        assert set(m) >= {"hit_rate", "pai", "loglik_per_event", "brier"}
    assert doc["models"]["uniform"]["pai"]["0.05"] == pytest.approx(1.0)
    best = doc["best_model"]
    assert best["name"] in ("count", "stkde")
    assert best["pai_ratio"]["low"] <= best["pai_ratio"]["estimate"] <= best["pai_ratio"]["high"]
    # 40 % of events in 1 % of the area: the best model must beat uniform clearly
    assert doc["models"][best["name"]]["pai"]["0.05"] > 3


def test_select_model_returns_a_fitted_model() -> None:
    g = _grid()
    ev = _synthetic(g, seed=3, days=160)
    sel = select_model(
        ev, grid=g, models=["uniform", "count"], n_origins=4, n_tune_origins=2, n_boot=50
    )
    assert sel.name == "count"
    lam = sel.model.predict(float(np.ceil(ev.t[-1] / DAY + 1e-9) * DAY), 7 * DAY)
    assert lam.shape == (g.n_active,) and lam.sum() > 0
    with pytest.raises(ValidationError):
        select_model(ev.select(np.arange(5)), grid=g)


def test_chicago_sample_reduced_backtest(shared_data: Path) -> None:
    """Regression on real data (count, stkde; 13 weekly origins; no tuning)."""
    path = shared_data / "real" / "chicago_southside_2016_sample.csv"
    ev = events_from_records(read_incidents(path, "csv", mapping=CHICAGO_MAPPING).records)
    res = backtest(
        ev,
        start="2016-10-01",
        end="2016-12-31",
        step=7 * DAY,
        horizon=7 * DAY,
        cell_m=150.0,
        models=["uniform", "count", "stkde"],
        tune=False,
        n_boot=100,
    )
    assert res.n_test_events + res.n_outside == 241
    pai5 = {n: s.pai["0.05"] for n, s in res.scores.items()}
    assert pai5["uniform"] == pytest.approx(1.0)
    assert 3.0 < pai5["count"] < 8.0 and 2.5 < pai5["stkde"] < 7.0


def test_failed_fits_are_counted_and_scored_as_uniform() -> None:
    g = _grid()
    lon, lat = g.unproject(np.array([100.0, 300.0, 500.0]), np.array([100.0, 300.0, 500.0]))
    ev = Events.from_arrays(lon, lat, np.array([0.5, 10.5, 20.5]) * DAY)
    res = backtest(
        ev,
        start=DAY,
        end=22 * DAY,
        step=10 * DAY,
        horizon=DAY,
        grid=g,
        models=["etas"],
        tune=False,
        n_boot=10,
    )
    # one event before day 1 is too few for ETAS: that origin falls back to uniform
    assert res.scores["etas"].n_failed >= 1
    assert res.to_json()["models"]["etas"]["n_failed"] == res.scores["etas"].n_failed


def test_select_model_builds_its_own_grid_from_cell_size() -> None:
    g = _grid()
    ev = _synthetic(g, seed=5, days=120)
    sel = select_model(
        ev, cell_m=200.0, models=["uniform", "count"], n_origins=3, n_tune_origins=1, n_boot=20
    )
    assert sel.model.grid.cell == 200.0
    assert sel.backtest.best_model == sel.name
    assert sel.model.points_ is not None and len(sel.model.points_.t) == len(ev)
