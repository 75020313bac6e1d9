"""Paired plan comparison, what-if curves, the static baseline and Dask scale-out."""

from __future__ import annotations

import dataclasses
import gc

import numpy as np
import pytest

from corridorguard.errors import ValidationError
from corridorguard.simulate import (
    DefencePlan,
    Deployment,
    OpportunisticAttacker,
    QRFBase,
    StrategicAttacker,
    Target,
    TargetSet,
    UnitType,
    compare_plans,
    simulate,
    static_baseline,
    what_if,
)

PATROL = UnitType("patrol", force="police", detection_prob=0.8, interdiction_prob=0.5)
GUARD = UnitType("guard", force="police", detection_prob=0.9, interdiction_prob=0.7)
CP = UnitType(
    "cp",
    force="army",
    kind="checkpoint",
    detection_prob=0.6,
    interdiction_prob=0.5,
    delay_min_per_vehicle=2.0,
    stop_fraction=0.2,
)


def _targets() -> TargetSet:
    return TargetSet(
        (
            Target("port", workers=400, lethality=0.05),
            Target("dam", workers=250, lethality=0.08),
            Target("camp", workers=60, lethality=0.2),
            Target("n35a", kind="segment", workers=0, lethality=0.0, reward=3.0, traffic_vph=200),
            Target("n35b", kind="segment", workers=0, lethality=0.0, reward=2.0, traffic_vph=90),
            Target("convoy", kind="convoy", workers=25, lethality=0.4),
        )
    )


def _plan(cov: float, name: str, unit: UnitType = PATROL) -> DefencePlan:
    return DefencePlan(_targets(), (Deployment(unit, np.full(6, cov)),), name=name)


ATTACKER = OpportunisticAttacker(np.array([0.3, 0.2, 0.1, 0.1, 0.1, 0.2]))


def test_paired_comparison_detects_a_real_difference() -> None:
    comp = compare_plans(
        {"base": _plan(0.30, "base"), "better": _plan(0.33, "better")},
        ATTACKER,
        n_days=40_000,
        seed=9,
        workers=1,
    )
    d = comp.differences["better"]["interdicted"]
    # truth: 0.03 * 0.8 * 0.5 = 0.012 more interdictions per attacker-day
    assert d.excludes_zero and d.low <= 0.012 <= d.high
    assert comp.differences["better"]["harm"].high < 0
    # paired CI is far narrower than the two separate CIs combined
    a, b = (
        comp.results["base"].per_day["interdicted"],
        comp.results["better"].per_day["interdicted"],
    )
    assert d.se < 0.5 * np.hypot(a.se, b.se)
    rows = comp.table()
    assert {r["plan"] for r in rows} == {"base", "better"}
    assert comp.to_dict()["baseline"] == "base"


def test_paired_comparison_does_not_flag_a_null_difference() -> None:
    # same plan, but the unit is renamed: its random stream differs, its effect does not
    twin_unit = dataclasses.replace(PATROL, name="patrol_b")
    comp = compare_plans(
        {"a": _plan(0.3, "a"), "b": _plan(0.3, "b", twin_unit)},
        ATTACKER,
        n_days=40_000,
        seed=9,
        workers=1,
        confidence=0.999,
    )
    for metric in ("interdicted", "harm", "detected"):
        assert not comp.differences["b"][metric].excludes_zero, metric
    same = compare_plans(
        {"x": _plan(0.3, "x"), "y": _plan(0.3, "y")}, ATTACKER, 2_000, 1, workers=1
    )
    assert same.differences["y"]["harm"].mean == 0.0
    assert same.difference("x", "y", "interdicted").se == 0.0
    with pytest.raises(ValidationError):
        same.difference("x", "nope", "harm")


def test_static_baseline_guards_the_most_critical_sites() -> None:
    t = _targets()
    plan = static_baseline(t, guard=GUARD, n_guards=2, checkpoint=CP, n_checkpoints=1)
    cov = plan.coverage_by_unit()
    assert cov["guard"].tolist() == [1, 1, 0, 0, 0, 0]  # port 20, dam 20 beat camp 12
    assert cov["cp"].tolist() == [0, 0, 0, 1, 0, 0]  # n35a has the larger reward
    res = simulate(plan, StrategicAttacker(rationality=1.0), n_days=5_000, seed=0, workers=1)
    # a predictable plan: a strategic attacker goes where the guards are not
    shares = {r["target"]: r["attack_share"] for r in res.by_target}
    assert shares["camp"] + shares["convoy"] > 0.9
    assert res.burden["delay_vehicle_hours"]["mean_per_day"] == pytest.approx(200 * 8 * 2 / 60)


def test_what_if_curves_show_diminishing_value_of_patrols() -> None:
    qrf = QRFBase("qrf", np.full(6, 20.0), force="army")

    def build(levels: dict[str, int]) -> DefencePlan:
        cov = np.full(6, min(1.0, levels["patrols"] / 6))
        drones = np.full(6, min(1.0, levels["drones"] / 3))
        drone = UnitType(
            "drone",
            force="army",
            kind="drone",
            detection_prob=0.7,
            interdiction_prob=0.0,
            observable=False,
        )
        return DefencePlan(
            _targets(),
            (Deployment(PATROL, cov), Deployment(drone, drones)),
            (qrf,),
            handoff_delay_min=10.0,
            name=str(levels),
        )

    w = what_if(
        build,
        {"patrols": [0, 2, 4, 6], "drones": [0, 3]},
        ATTACKER,
        n_days=20_000,
        seed=1,
        workers=1,
    )
    curve = w.curves["patrols"]
    assert [p["level"] for p in curve] == [0, 2, 4, 6]
    harms = [p["harm"]["mean"] for p in curve]
    assert harms == sorted(harms, reverse=True)
    assert all(p["marginal"]["high"] < 0 for p in curve[1:])
    assert w.curves["drones"][1]["marginal"]["high"] < 0
    assert w.base == {"patrols": 0, "drones": 0}
    assert {"interdicted", "deterred", "delay_vehicle_hours_per_day"} <= set(curve[0])
    assert len(w.comparison.results) == 5  # the shared base point is simulated once
    with pytest.raises(ValidationError):
        what_if(build, {"patrols": []}, ATTACKER)


# distributed sometimes raises inside its own Scheduler teardown (an "unraisable" exception
# during garbage collection, not in our code); pytest turns that into an error under
# filterwarnings=error, so it is ignored for the tests that start a LocalCluster.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_dask_local_cluster_gives_the_same_answer() -> None:
    from distributed import Client, LocalCluster

    plan = _plan(0.4, "p")
    kw = {"n_days": 20_000, "seed": 5, "chunk_size": 6_000}
    local = simulate(plan, ATTACKER, workers=1, **kw).to_dict()
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        on_client = simulate(plan, ATTACKER, dask=client, **kw).to_dict()
        on_address = simulate(plan, ATTACKER, dask=cluster.scheduler_address, **kw).to_dict()
    gc.collect()  # let distributed's teardown finalisers run inside this test's warning filter
    assert on_client == local
    assert on_address == local


def _equalising_coverage(targets: TargetSet, units: float, eff: float) -> np.ndarray:
    """Coverage that levels the attacker's expected utility (ORIGAMI-style water filling)."""
    r, pen = targets.reward, targets.penalty
    lo, hi = float(pen.min()), float(r.max())
    for _ in range(100):
        level = (lo + hi) / 2
        # EU_t = r - s (r - pen) with s = eff * c  ->  c = (r - level) / (eff (r - pen))
        cov = np.clip((r - level) / (eff * (r - pen)), 0.0, 1.0)
        lo, hi = (level, hi) if cov.sum() > units else (lo, level)
    return np.clip((r - hi) / (eff * (r - pen)), 0.0, 1.0)


def test_randomised_plan_beats_static_baseline_with_ci_excluding_zero() -> None:
    t = TargetSet(
        (
            Target("port", workers=400, lethality=0.05, penalty=-5),
            Target("plant", workers=250, lethality=0.08, penalty=-5),
            Target("camp", workers=120, lethality=0.15, penalty=-5),
            Target("depot", workers=80, lethality=0.1, penalty=-5),
            Target("convoy", kind="convoy", workers=30, lethality=0.4, penalty=-5),
        )
    )
    static = static_baseline(t, guard=GUARD, n_guards=2, name="static")
    cov = _equalising_coverage(t, 2.0, GUARD.detection_prob * GUARD.interdiction_prob)
    assert cov.sum() == pytest.approx(2.0, abs=1e-6)
    optimised = DefencePlan(t, (Deployment(GUARD, cov),), name="optimised")
    attacker = StrategicAttacker(rationality=2.0, outside_option=None)
    comp = compare_plans({"static": static, "optimised": optimised}, attacker, 20_000, 3, workers=1)
    d = comp.differences["optimised"]["harm"]
    assert d.high < 0  # less harm, CI excludes zero
    assert comp.differences["optimised"]["interdicted"].low > 0
