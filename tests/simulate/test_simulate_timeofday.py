"""Time of day: unit shifts, target exposure windows, an attacker who picks its hour."""

from __future__ import annotations

import math

import numpy as np
import pytest

from corridorguard.errors import ValidationError
from corridorguard.simulate import (
    DefencePlan,
    Deployment,
    OpportunisticAttacker,
    StrategicAttacker,
    Target,
    TargetSet,
    UnitType,
    attack_distribution,
    simulate,
)
from corridorguard.simulate.analytic import attack_distribution_by_hour

Z999 = 3.2905
DAY_GUARD = UnitType("guard", detection_prob=1.0, interdiction_prob=1.0, shift=(6.0, 18.0))


def _site(**kw: object) -> TargetSet:
    return TargetSet((Target("site", workers=100, lethality=0.2, **kw),))  # type: ignore[arg-type]


def test_random_hour_attacker_meets_a_day_shift_half_the_time() -> None:
    plan = DefencePlan(_site(), (Deployment(DAY_GUARD, np.array([1.0])),))
    assert plan.hours == 24
    res = simulate(plan, OpportunisticAttacker(np.array([1.0])), n_days=20_000, seed=1, workers=1)
    est = res.per_day["interdicted"]
    assert abs(est.mean - 0.5) <= Z999 * est.se
    assert res.attack_share_by_hour is not None and len(res.attack_share_by_hour) == 24
    assert sum(res.attack_share_by_hour) == pytest.approx(1.0)


def test_strategic_attacker_strikes_off_shift() -> None:
    plan = DefencePlan(_site(), (Deployment(DAY_GUARD, np.array([1.0])),))
    att = StrategicAttacker(rationality=math.inf, outside_option=None)
    p0, p = attack_distribution_by_hour(plan, att)
    assert p0 == 0.0 and p[0, 6:18].sum() == 0.0 and p[0].sum() == pytest.approx(1.0)
    res = simulate(plan, att, n_days=5_000, seed=2, workers=1)
    assert res.per_day["interdicted"].mean == 0.0
    # quantal response: nested logit with a uniform base over hours, closed form
    lam = 0.2
    qr = StrategicAttacker(rationality=lam, outside_option=10.0)
    eu_day, eu_night = 0.0, 20.0  # guarded hours: stopped (penalty 0); night: harm 20
    w = (12 * math.exp(lam * eu_day) + 12 * math.exp(lam * eu_night)) / 24
    p_abstain = math.exp(lam * 10.0) / (math.exp(lam * 10.0) + w)
    assert attack_distribution(plan, qr)[0] == pytest.approx(p_abstain, rel=1e-12)


def test_convoy_is_attacked_only_inside_its_window() -> None:
    targets = TargetSet(
        (
            Target("camp", workers=50, lethality=0.1),
            Target("convoy", kind="convoy", workers=30, lethality=0.4, exposed_hours=(22.0, 2.0)),
        )
    )
    escort = UnitType("escort", detection_prob=1.0, interdiction_prob=1.0, shift=(22.0, 2.0))
    plan = DefencePlan(targets, (Deployment(escort, np.array([0.0, 1.0])),))
    att = OpportunisticAttacker(np.array([0.5, 0.5]))
    _, p = attack_distribution_by_hour(plan, att)
    assert np.flatnonzero(p[1]).tolist() == [0, 1, 22, 23]
    res = simulate(plan, att, n_days=10_000, seed=3, workers=1)
    by_t = {r["target"]: r for r in res.by_target}
    assert by_t["convoy"]["interdiction_rate"] == 1.0 and by_t["camp"]["interdiction_rate"] == 0.0


def test_bad_windows_are_rejected() -> None:
    with pytest.raises(ValidationError) as err:
        UnitType("u", shift=(6.0, 6.0))
    assert err.value.field == "units[u].shift"
    with pytest.raises(ValidationError):
        _site(exposed_hours=(3.2, 3.4))  # no whole hour slot inside
    with pytest.raises(ValidationError):
        OpportunisticAttacker(np.array([1.0]), hour_probs=np.ones(5))


def test_monte_carlo_matches_closed_form_with_shifts() -> None:
    from corridorguard.simulate import AttackDuration, QRFBase
    from corridorguard.simulate.analytic import protection_by_hour

    rng = np.random.default_rng(8)
    n = 6
    targets = TargetSet(
        tuple(
            Target(
                f"t{i}",
                workers=float(rng.integers(10, 200)),
                lethality=0.2,
                penalty=-3.0,
                exposed_hours=(6.0, 20.0) if i == 0 else None,
            )
            for i in range(n)
        )
    )
    units = (
        UnitType("day", force="a", detection_prob=0.8, interdiction_prob=0.5, shift=(7, 19)),
        UnitType(
            "night",
            force="b",
            detection_prob=0.6,
            interdiction_prob=0.4,
            shift=(19, 7),
            detection_delay_min=2.0,
        ),
    )
    plan = DefencePlan(
        targets,
        tuple(Deployment(u, rng.uniform(0, 0.7, n)) for u in units),
        (QRFBase("q", rng.uniform(5, 60, n), force="a", availability=0.8),),
        handoff_delay_min=12.0,
    )
    att = StrategicAttacker(
        rationality=0.05, outside_option=5.0, duration=AttackDuration("exponential", mean_min=30.0)
    )
    p0, p = attack_distribution_by_hour(plan, att)
    truth = float((p * protection_by_hour(plan, att.duration)).sum())
    res = simulate(plan, att, n_days=60_000, seed=4, workers=1)
    est = res.per_day["interdicted"]
    assert abs(est.mean - truth) <= Z999 * est.se
    assert abs(res.per_day["deterred"].mean - p0) <= Z999 * res.per_day["deterred"].se + 1e-12
