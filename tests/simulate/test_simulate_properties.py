"""Properties of the closed-form protection and the attacker's choice (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from corridorguard.simulate import (
    AttackDuration,
    DefencePlan,
    Deployment,
    QRFBase,
    StrategicAttacker,
    Target,
    TargetSet,
    UnitType,
    attack_distribution,
    protection,
)

probs = st.floats(0.0, 1.0)


@st.composite
def plans(draw: st.DrawFn, one_force: bool = False) -> DefencePlan:
    n = draw(st.integers(1, 5))
    targets = TargetSet(
        tuple(
            Target(
                f"t{i}",
                workers=draw(st.integers(0, 300)),
                lethality=draw(probs),
                penalty=-draw(st.floats(0, 10)),
            )
            for i in range(n)
        )
    )
    deps = []
    for k in range(draw(st.integers(0, 3))):
        unit = UnitType(
            f"u{k}",
            force="a" if one_force else draw(st.sampled_from(["a", "b"])),
            detection_prob=draw(probs),
            interdiction_prob=draw(probs),
            detection_delay_min=draw(st.floats(0, 20)),
        )
        deps.append(Deployment(unit, np.array([draw(probs) for _ in range(n)])))
    bases = tuple(
        QRFBase(
            f"q{b}",
            np.array([draw(st.floats(0, 120)) for _ in range(n)]),
            force="a" if one_force else draw(st.sampled_from(["a", "b"])),
            availability=draw(probs),
            interdiction_prob=draw(probs),
        )
        for b in range(draw(st.integers(0, 2)))
    )
    return DefencePlan(targets, tuple(deps), bases, handoff_delay_min=draw(st.floats(0, 30)))


DURATIONS = st.sampled_from(
    [
        AttackDuration("fixed", mean_min=30),
        AttackDuration("exponential", mean_min=25),
        AttackDuration("lognormal", mean_min=40, sigma=0.8),
        AttackDuration("uniform", low_min=5, high_min=90),
    ]
)


@settings(max_examples=60, deadline=None)
@given(plans(), DURATIONS, st.floats(0, 5), st.one_of(st.none(), st.floats(-5, 50)))
def test_protection_is_a_probability_and_choices_sum_to_one(
    plan: DefencePlan, duration: AttackDuration, lam: float, u0: float | None
) -> None:
    s = protection(plan, duration)
    assert np.all(s >= 0) and np.all(s <= 1)
    p0, p = attack_distribution(
        plan, StrategicAttacker(rationality=lam, outside_option=u0, duration=duration)
    )
    assert math.isclose(p0 + p.sum(), 1.0, rel_tol=1e-9)
    assert np.all(p >= 0)


@settings(max_examples=60, deadline=None)
@given(plans(one_force=True), DURATIONS, st.data())
def test_more_coverage_never_lowers_protection_within_one_force(
    plan: DefencePlan, duration: AttackDuration, data: st.DataObject
) -> None:
    # (across forces it can: a faster detector of another force adds a hand-off delay)
    if not plan.deployments:
        return
    k = data.draw(st.integers(0, len(plan.deployments) - 1))
    dep = plan.deployments[k]
    more = Deployment(dep.unit, np.minimum(1.0, dep.coverage + 0.2))
    deps = list(plan.deployments)
    deps[k] = more
    richer = DefencePlan(plan.targets, tuple(deps), plan.qrf, handoff_delay_min=0.0)
    base = DefencePlan(plan.targets, plan.deployments, plan.qrf, handoff_delay_min=0.0)
    assert np.all(protection(richer, duration) >= protection(base, duration) - 1e-12)


def test_a_faster_detector_of_another_force_can_lower_protection() -> None:
    # the documented coordination effect: the monotonicity above does not hold across forces
    targets = TargetSet((Target("site", workers=10, lethality=1.0),))
    slow_same = UnitType(
        "cam_a", force="a", detection_prob=1.0, interdiction_prob=0.0, detection_delay_min=5.0
    )
    fast_other = UnitType(
        "cam_b", force="b", detection_prob=1.0, interdiction_prob=0.0, detection_delay_min=0.0
    )
    qrf = QRFBase("q", np.array([10.0]), force="a", dispatch_delay_min=0.0, interdiction_prob=1.0)
    duration = AttackDuration("fixed", mean_min=20.0)

    def plan(c_other: float) -> DefencePlan:
        deps = (Deployment(slow_same, np.array([1.0])), Deployment(fast_other, np.array([c_other])))
        return DefencePlan(targets, deps, (qrf,), handoff_delay_min=30.0)

    assert protection(plan(0.0), duration)[0] == 1.0  # detected at 5, on scene at 15 < 20
    assert protection(plan(1.0), duration)[0] == 0.0  # detected at 0 by b, 30 min hand-off
