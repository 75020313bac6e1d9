"""The main job on the built-in CPEC scenario: keys, determinism, the issue's check, fallback."""

from __future__ import annotations

import gc
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from corridorguard.pipeline import PlanResult, SimSizes, run_plan
from corridorguard.pipeline.forecast import forecast_risk
from corridorguard.scenario import load_scenario

SIZES = SimSizes(compare_days=30_000, what_if_days=3_000)
KEYS = {"forecast", "patrols", "checkpoints", "sensors", "qrf", "convoys", "evaluation", "seed"}


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[PlanResult, Path]:
    out = tmp_path_factory.mktemp("plan")
    return run_plan("cpec", days=2, seed=5, out_dir=out, sizes=SIZES), out


def _stable(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("timings_s", "files")}


def test_plan_json_has_every_key(planned: tuple[PlanResult, Path]) -> None:
    _, out = planned
    doc = json.loads((out / "plan.json").read_text("utf-8"))
    assert set(doc) >= KEYS
    assert doc["seed"] == 5
    assert doc["evaluation"]["comparison"]["seed"] == 5
    assert set(doc["evaluation"]["answer"]["plans"]) == {"static", "optimised", "uncoordinated"}
    assert set(doc["convoys"]) == {m.id for m in load_scenario("cpec").movements}
    assert set(doc["checkpoints"]["optimised"]) == {"force_a", "force_b"}
    assert doc["sensors"]["cameras"] and doc["sensors"]["drones"] and doc["qrf"]
    assert set(doc["evaluation"]["what_if"]["curves"]) == {"patrols", "drones", "cameras", "qrf"}
    # the patrol plan holds every day's routes for both forces
    assert set(doc["patrols"]["forces"]) == {"force_a", "force_b"}
    burden = doc["civilian_burden"]["optimised"]
    assert burden["delay_vehicle_hours"]["mean_per_day"] > 0


def test_layers_are_written(planned: tuple[PlanResult, Path]) -> None:
    _, out = planned
    geo = json.loads((out / "layers" / "scenario.geojson").read_text("utf-8"))
    assert geo["type"] == "FeatureCollection" and geo["features"]
    assert list((out / "layers" / "routes").rglob("*.gpx"))
    assert list((out / "layers" / "routes").rglob("*.kml"))
    assert (out / "layers" / "convoy_dasu_islamabad.gpx").read_text("utf-8").startswith("<?xml")
    placed = json.loads((out / "layers" / "placement.geojson").read_text("utf-8"))
    layers = {f["properties"]["layer"] for f in placed["features"]}
    assert layers == {"checkpoint", "camera", "drone", "qrf_base_current", "qrf_base_optimised"}
    assert all(f["properties"]["label"] == "schematic" for f in placed["features"])


def test_optimised_beats_static_with_ci_excluding_zero(planned: tuple[PlanResult, Path]) -> None:
    result, _ = planned
    diff = result.comparison.differences["optimised"]["harm"]
    # paired difference optimised - static of expected harm per attacker-day
    assert diff.high < 0, diff
    assert diff.excludes_zero


def test_sparse_history_falls_back_to_the_prior_and_says_so(
    planned: tuple[PlanResult, Path],
) -> None:
    result, out = planned
    fc = json.loads((out / "plan.json").read_text("utf-8"))["forecast"]
    assert fc["status"] == "prior" and fc["validated"] is False
    assert fc["n_events"] == 13
    assert fc["reason"].startswith("NOT VALIDATED")
    assert fc["backtest"] is None
    html = (out / "report.html").read_text("utf-8")
    assert "NOT VALIDATED" in html and "VALIDATED by backtest" not in html
    assert result.forecast.expected.sum() > 0


def test_rich_history_is_selected_by_backtest() -> None:
    sc = load_scenario("cpec")
    rng = np.random.default_rng(0)
    hot = [sc.node(n) for n in ("gwadar", "dasu", "karachi")]
    t0 = datetime(2023, 1, 1, tzinfo=UTC)
    recs = []
    for i in range(300):
        n = hot[i % 3] if rng.random() < 0.7 else sc.nodes[int(rng.integers(len(sc.nodes)))]
        recs.append(
            {
                "lon": n.lon + rng.normal(0, 0.05),
                "lat": n.lat + rng.normal(0, 0.05),
                "time": t0 + timedelta(days=float(rng.uniform(0, 365))),
            }
        )
    from corridorguard.pipeline.forecast import events_from

    calls: list[tuple[int, int | None]] = []
    fc = forecast_risk(
        sc, events_from(recs), horizon_days=7, seed=1, progress=lambda d, t: calls.append((d, t))
    )
    assert fc.status == "validated" and fc.validated
    assert calls and calls[-1][0] == calls[-1][1]  # the backtest reported its progress
    assert fc.backtest is not None and fc.backtest["n_origins"] == 12
    assert fc.model in fc.backtest["models"]
    assert "backtest" in fc.reason
    from corridorguard.report.html import _forecast

    section = _forecast({"forecast": json.loads(json.dumps(fc.to_dict()))})
    assert "VALIDATED by backtest" in section and "NOT VALIDATED" not in section
    assert "PAI@5% ratio" in section


# distributed sometimes raises inside its own Scheduler teardown (an "unraisable" exception
# during garbage collection, not in our code); pytest turns that into an error under
# filterwarnings=error, so it is ignored for the tests that start a LocalCluster.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_same_seed_same_plan_json_also_on_a_dask_cluster(
    planned: tuple[PlanResult, Path],
) -> None:
    """Same inputs and seed -> the same plan.json (except wall-clock timings), even when the
    Monte Carlo runs on a Dask cluster instead of local processes."""
    from distributed import LocalCluster

    _, out = planned
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        again = run_plan("cpec", days=2, seed=5, sizes=SIZES, dask=cluster.scheduler_address)
    gc.collect()  # let distributed's teardown finalisers run inside this test's warning filter
    written = json.loads((out / "plan.json").read_text("utf-8"))
    assert json.dumps(_stable(again.to_dict()), sort_keys=True) == json.dumps(
        _stable(written), sort_keys=True
    )
