"""Monte Carlo estimates against closed-form answers on toy cases; reproducibility."""

from __future__ import annotations

import math

import numpy as np
import pytest

from corridorguard.errors import ConfigError, ValidationError
from corridorguard.simulate import (
    AttackDuration,
    DefencePlan,
    Deployment,
    OpportunisticAttacker,
    QRFBase,
    StrategicAttacker,
    Target,
    TargetSet,
    UnitType,
    attack_distribution,
    civilian_burden,
    protection,
    sensor,
    simulate,
)

PERFECT = UnitType("guard", force="police", detection_prob=1.0, interdiction_prob=1.0)
Z999 = 3.2905  # two-sided 99.9 % normal quantile


def _one_target(c: float) -> DefencePlan:
    targets = TargetSet((Target("site", workers=100, lethality=0.2),))
    return DefencePlan(targets, (Deployment(PERFECT, np.array([c])),))


def _within(est_mean: float, se: float, truth: float) -> bool:
    return abs(est_mean - truth) <= Z999 * se + 1e-12


@pytest.mark.parametrize("c", [0.0, 0.3, 0.75, 1.0])
def test_one_target_interdiction_rate_is_coverage(c: float) -> None:
    plan = _one_target(c)
    att = OpportunisticAttacker(np.array([1.0]))
    res = simulate(plan, att, n_days=40_000, seed=7, workers=1, confidence=0.999)
    est = res.per_day["interdicted"]
    assert est.low <= c <= est.high
    # harm: 20 expected casualties when the attack succeeds, 0 when stopped on the spot
    assert _within(res.per_day["harm"].mean, res.per_day["harm"].se, 20.0 * (1 - c))
    assert res.per_day["deterred"].mean == 0.0


def test_two_targets_quantal_response_probabilities() -> None:
    targets = TargetSet(
        (
            Target("a", workers=10, lethality=1.0, reward=10.0, penalty=-4.0),
            Target("b", workers=5, lethality=1.0, reward=6.0, penalty=-2.0),
        )
    )
    c = np.array([0.5, 0.25])
    plan = DefencePlan(targets, (Deployment(PERFECT, c),))
    lam = 0.4
    att = StrategicAttacker(rationality=lam, outside_option=None)
    eu = (1 - c) * np.array([10.0, 6.0]) + c * np.array([-4.0, -2.0])  # (3, 4)
    expected = np.exp(lam * eu) / np.exp(lam * eu).sum()
    p0, p = attack_distribution(plan, att)
    assert p0 == 0.0
    np.testing.assert_allclose(p, expected, rtol=1e-12)
    res = simulate(plan, att, n_days=60_000, seed=3, workers=1)
    n = res.n_days
    for j in range(2):
        share = res.by_target[j]["attack_share"]
        se = math.sqrt(expected[j] * (1 - expected[j]) / n)
        assert abs(share - expected[j]) <= Z999 * se
    truth = float(expected @ c)  # perfect units: stopped iff present
    assert _within(res.per_day["interdicted"].mean, res.per_day["interdicted"].se, truth)


def test_outside_option_deterrence_closed_form() -> None:
    plan = _one_target(0.3)  # reward 20 (= harm), penalty 0: EU = 0.7 * 20 = 14
    u0 = 13.0
    att = StrategicAttacker(rationality=0.5, outside_option=u0)
    p_abstain = math.exp(0.5 * u0) / (math.exp(0.5 * u0) + math.exp(0.5 * 14.0))
    res = simulate(plan, att, n_days=40_000, seed=11, workers=1)
    est = res.per_day["deterred"]
    assert abs(est.mean - p_abstain) <= Z999 * est.se
    # best response: abstains exactly when the outside option beats every target
    br = StrategicAttacker(rationality=math.inf, outside_option=15.0)
    assert simulate(plan, br, n_days=1_000, seed=1, workers=1).per_day["deterred"].mean == 1.0
    br = StrategicAttacker(rationality=math.inf, outside_option=13.0)
    assert simulate(plan, br, n_days=1_000, seed=1, workers=1).per_day["deterred"].mean == 0.0


def _qrf_plan(travel: list[float], avail: list[float], handoff: float) -> DefencePlan:
    targets = TargetSet((Target("convoy", kind="convoy", workers=30, lethality=0.5),))
    cam = sensor("cam", [1.0], force="police")
    bases = tuple(
        QRFBase(
            f"q{i}",
            np.array([t]),
            force="army",
            availability=a,
            interdiction_prob=1.0,
            dispatch_delay_min=0.0,
        )
        for i, (t, a) in enumerate(zip(travel, avail, strict=True))
    )
    return DefencePlan(targets, (cam,), bases, handoff_delay_min=handoff)


def test_qrf_arrival_before_exponential_attack_end() -> None:
    mu = 30.0
    duration = AttackDuration("exponential", mean_min=mu)
    plan = _qrf_plan([20.0, 45.0], [0.6, 1.0], handoff=5.0)
    truth = 0.6 * math.exp(-25.0 / mu) + 0.4 * math.exp(-50.0 / mu)
    assert protection(plan, duration)[0] == pytest.approx(truth, rel=1e-12)
    att = OpportunisticAttacker(np.array([1.0]), duration=duration)
    res = simulate(plan, att, n_days=50_000, seed=5, workers=1)
    est = res.per_day["interdicted"]
    assert abs(est.mean - truth) <= Z999 * est.se
    assert res.per_day["handoff"].mean == pytest.approx(1.0)  # police detects, army responds
    mean_resp = 0.6 * 25.0 + 0.4 * 50.0
    r = res.per_attack["mean_response_min"]
    assert abs(r.mean - mean_resp) <= Z999 * r.se


def test_fixed_duration_is_a_step() -> None:
    duration = AttackDuration("fixed", mean_min=30.0)
    att = OpportunisticAttacker(np.array([1.0]), duration=duration)
    fast = simulate(_qrf_plan([29.0], [1.0], 0.0), att, n_days=2_000, seed=1, workers=1)
    slow = simulate(_qrf_plan([31.0], [1.0], 0.0), att, n_days=2_000, seed=1, workers=1)
    assert fast.per_day["interdicted"].mean == 1.0
    assert slow.per_day["interdicted"].mean == 0.0
    # partial harm: the fast QRF stops the attack after 29 of 30 minutes
    assert fast.per_day["harm"].mean == pytest.approx(15.0 * 29.0 / 30.0)


def _random_plan(rng: np.random.Generator, n: int) -> DefencePlan:
    targets = TargetSet(
        tuple(
            Target(
                f"t{i}",
                kind="site" if i % 2 else "segment",
                workers=float(rng.integers(0, 200)),
                lethality=float(rng.uniform(0.05, 0.5)),
                penalty=-float(rng.uniform(0, 10)),
                force="police" if i % 3 else "army",
                traffic_vph=float(rng.uniform(0, 300)),
            )
            for i in range(n)
        )
    )
    units = [
        UnitType(
            "pol_patrol",
            force="police",
            detection_prob=0.7,
            interdiction_prob=0.4,
            detection_delay_min=3.0,
        ),
        UnitType(
            "army_cp",
            force="army",
            kind="checkpoint",
            detection_prob=0.9,
            interdiction_prob=0.6,
            detection_delay_min=0.0,
            delay_min_per_vehicle=2.0,
        ),
    ]
    deps = [Deployment(u, rng.uniform(0, 0.6, n)) for u in units]
    deps.append(
        sensor("drone", rng.uniform(0, 0.8, n), force="army", kind="drone", detection_delay_min=1.0)
    )
    bases = (
        QRFBase("qa", rng.uniform(5, 90, n), force="army", availability=0.7),
        QRFBase(
            "qp",
            rng.uniform(5, 90, n),
            force="police",
            availability=0.9,
            interdiction_prob=0.6,
            dispatch_delay_min=10.0,
        ),
    )
    return DefencePlan(
        targets,
        tuple(deps),
        bases,
        handoff_delay_min={("police", "army"): 15.0, ("army", "police"): 8.0},
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_monte_carlo_matches_analytic_protection_on_random_plans(seed: int) -> None:
    rng = np.random.default_rng(seed)
    plan = _random_plan(rng, 8)
    att = StrategicAttacker(
        rationality=0.05,
        outside_option=2.0,
        duration=AttackDuration("lognormal", mean_min=40.0, sigma=0.8),
    )
    p0, p = attack_distribution(plan, att)
    truth = float(p @ protection(plan, att.duration))
    res = simulate(plan, att, n_days=80_000, seed=seed, workers=1)
    est = res.per_day["interdicted"]
    assert abs(est.mean - truth) <= Z999 * est.se
    det = res.per_day["deterred"]
    assert abs(det.mean - p0) <= Z999 * det.se + 1e-12


def test_same_seed_same_output_across_worker_counts() -> None:
    plan = _random_plan(np.random.default_rng(4), 6)
    att = StrategicAttacker(rationality=0.1)
    kw = {"n_days": 30_000, "chunk_size": 7_000}
    one = simulate(plan, att, seed=42, workers=1, **kw).to_dict()
    two = simulate(plan, att, seed=42, workers=2, **kw).to_dict()
    assert one == two
    other = simulate(plan, att, seed=43, workers=1, **kw).to_dict()
    assert other != one
    assert one["seed"] == 42


def test_civilian_burden_closed_form() -> None:
    targets = TargetSet((Target("seg", kind="segment", traffic_vph=100.0),))
    cp = UnitType(
        "cp", kind="checkpoint", staffed_hours=8.0, delay_min_per_vehicle=3.0, stop_fraction=0.1
    )
    plan = DefencePlan(targets, (Deployment(cp, np.array([0.5])),))
    b = civilian_burden(plan)
    assert b["delay_vehicle_hours"]["mean_per_day"] == pytest.approx(0.5 * 100 * 8 * 3 / 60)
    assert b["stops"]["mean_per_day"] == pytest.approx(0.5 * 100 * 8 * 0.1)
    assert b["delay_vehicle_hours"]["sd_per_day"] == pytest.approx(0.5 * 40.0)
    sched = DefencePlan(targets, (Deployment(cp, np.array([[1.0], [0.0], [1.0], [0.0]])),))
    assert civilian_burden(sched)["stops"]["mean_per_day"] == pytest.approx(40.0)


def test_schedule_rows_are_shared_between_deployments() -> None:
    # two forces alternate days at the single target: together they always cover it
    targets = TargetSet((Target("site", workers=10, lethality=1.0),))
    a = UnitType("a", force="police", detection_prob=1.0, interdiction_prob=1.0)
    b = UnitType("b", force="army", detection_prob=1.0, interdiction_prob=1.0)
    plan = DefencePlan(
        targets,
        (Deployment(a, np.array([[1.0], [0.0]])), Deployment(b, np.array([[0.0], [1.0]]))),
    )
    res = simulate(plan, OpportunisticAttacker(np.array([1.0])), n_days=5_000, seed=2, workers=1)
    assert res.per_day["interdicted"].mean == 1.0


def test_bad_inputs_name_the_field() -> None:
    targets = TargetSet((Target("x"),))
    with pytest.raises(ValidationError) as err:
        DefencePlan(targets, (Deployment(PERFECT, np.array([0.5, 0.5])),))
    assert err.value.field == "deployments[guard].coverage"
    with pytest.raises(ValidationError) as err:
        Deployment(PERFECT, np.array([1.5]))
    assert "coverage" in (err.value.field or "")
    with pytest.raises(ValidationError):
        TargetSet((Target("x"), Target("x")))
    with pytest.raises(ValidationError):
        UnitType("u", detection_prob=2.0)
    with pytest.raises(ConfigError):
        simulate(_one_target(0.5), OpportunisticAttacker(np.array([1.0])), seed=-1, workers=1)
    with pytest.raises(ValidationError):
        simulate(_one_target(0.5), OpportunisticAttacker(np.array([0.5, 0.5])), workers=1)


def test_targets_from_scenario() -> None:
    from corridorguard.scenario.model import Edge, Movement, Node, Scenario, Site
    from corridorguard.simulate.adapters import targets_from_scenario

    sc = Scenario(
        name="toy",
        nodes=(
            Node(id="a", name="A", lon=62.3, lat=25.1),
            Node(id="b", name="B", lon=63, lat=25.5),
        ),
        edges=(
            Edge(
                id="e1",
                source="a",
                target="b",
                route="N-10",
                length_m=9e4,
                speed_kmh=80,
                traffic_vph=120,
            ),
        ),
        sites=(
            Site(
                id="port",
                name="Port",
                type="port",
                lon=62.3,
                lat=25.1,
                criticality=5,
                workers=400,
                node="a",
            ),
        ),
        movements=(
            Movement(
                id="cv",
                name="Convoy",
                origin="a",
                destination="b",
                window_start="06:00",
                window_end="07:00",
                people=30,
            ),
        ),
    )
    ts = targets_from_scenario(sc)
    assert ts.ids == ("port", "e1", "cv")
    assert ts.harm.tolist() == pytest.approx([20.0, 0.0, 9.0])
    assert ts.reward[0] == pytest.approx(25.0) and ts.traffic_vph[1] == 120
    assert ts.notional


def test_results_are_plain_json_and_an_empty_plan_protects_nothing() -> None:
    import json

    targets = TargetSet((Target("a", workers=10, lethality=0.5), Target("b", workers=4)))
    empty = DefencePlan(targets, (), name="nothing")
    att = OpportunisticAttacker(np.array([0.5, 0.5]))
    res = simulate(empty, att, n_days=4_000, seed=0, workers=1)
    assert res.per_day["detected"].mean == 0.0 and res.per_day["interdicted"].mean == 0.0
    expected_harm = 0.5 * 5.0 + 0.5 * 0.4
    assert abs(res.per_day["harm"].mean - expected_harm) <= Z999 * res.per_day["harm"].se
    text = json.dumps(res.to_dict(), allow_nan=False)  # NaN (no dispatch) is reported as null
    data = json.loads(text)
    assert data["per_attack"]["mean_response_min"]["mean"] is None
    assert data["seed"] == 0 and data["notional_inputs"] is True
