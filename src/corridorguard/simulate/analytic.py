"""Closed-form quantities of a plan: stop probability per target and the attacker's choice.

These are exact under the simulator's model when every deployment is given by marginals (unit
presences independent across unit types): the Monte Carlo estimates converge to them, which the
tests check. With schedule deployments they are what an attacker who only observes *marginals*
believes.

Stop probability of an attack on target ``t``
---------------------------------------------
Deployments ``k`` (sorted by detection delay ``δ_k``, ties by position) detect with probability
``π_k = c_kt d_k`` (presence × detection) and then stop the attack on the spot with probability
``i_k``. The first detector's force alerts the QRF; base ``b`` arrives after
``a_kb = δ_k + dispatch_b + handoff(f_k, g_b) + travel_bt`` and is ready with probability
``α_b``; the fastest ready base is sent and stops the attack with probability ``q_b`` if it
arrives before the attack ends (survival ``S(a) = P(D > a)``). Then

``P(stop) = 1 - Π_k (1 - π_k i_k) + Σ_k w_k Q_k``, with
``w_k = π_k (1 - i_k) Π_{j<k} (1 - π_j) Π_{j>k} (1 - π_j i_j)`` (no on-site stop, ``k`` first)
and ``Q_k = Σ_b α_b Π_{b' faster} (1 - α_b') q_b S(a_kb)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from corridorguard.errors import ValidationError
from corridorguard.simulate.model import (
    AttackDuration,
    DefencePlan,
    Deployment,
    FloatArray,
    OpportunisticAttacker,
    StrategicAttacker,
    hour_mask,
)

__all__ = [
    "attack_distribution",
    "attack_distribution_by_hour",
    "expected_utility",
    "protection",
    "protection_by_hour",
    "sorted_deployments",
]


def sorted_deployments(deployments: tuple[Deployment, ...]) -> list[Deployment]:
    """Deployments in detection order: by delay, ties by their position in the plan."""
    order = sorted(
        range(len(deployments)), key=lambda k: (deployments[k].unit.detection_delay_min, k)
    )
    return [deployments[k] for k in order]


def protection(
    plan: DefencePlan,
    duration: AttackDuration,
    *,
    observes: str = "all",
    hour: int | None = None,
) -> FloatArray:
    """Probability that an attack on each target is stopped (on the spot or by the QRF).

    ``observes="visible"`` keeps only observable units and ignores the QRF (what an attacker sees
    on reconnaissance). ``hour`` (0-23) counts only units on shift then; ``None`` ignores shifts.
    """
    deps = list(plan.deployments)
    if observes == "visible":
        deps = [d for d in deps if d.unit.observable]
    deps = sorted_deployments(tuple(deps))
    n = len(plan.targets)
    if not deps:
        return np.zeros(n)
    on = [1.0 if hour is None else float(hour_mask(d.unit.shift)[hour]) for d in deps]
    pi = np.array([d.marginals * d.unit.detection_prob * o for d, o in zip(deps, on, strict=True)])
    ii = np.array([d.unit.interdiction_prob for d in deps])[:, None]
    no_onsite = np.prod(1.0 - pi * ii, axis=0)
    stop = 1.0 - no_onsite
    if observes == "visible" or not plan.qrf:
        return np.asarray(stop, dtype=float)
    for k, dep in enumerate(deps):
        before = np.prod(1.0 - pi[:k], axis=0) if k else np.ones(n)
        after = np.prod(1.0 - pi[k + 1 :] * ii[k + 1 :], axis=0) if k + 1 < len(deps) else 1.0
        w = pi[k] * (1.0 - ii[k, 0]) * before * after
        stop = stop + w * _qrf_stop(plan, dep, duration)
    return np.asarray(np.clip(stop, 0.0, 1.0), dtype=float)


def _qrf_stop(plan: DefencePlan, first: Deployment, duration: AttackDuration) -> FloatArray:
    """``Q_k``: probability that the fastest ready QRF stops the attack, given detector ``k``."""
    bases = plan.qrf
    delay = first.unit.detection_delay_min
    arrival = np.array(
        [
            delay + b.dispatch_delay_min + plan.handoff(first.unit.force, b.force) + b.travel_min
            for b in bases
        ]
    )  # (B, n)
    order = np.argsort(arrival, axis=0, kind="stable")
    alpha = np.array([b.availability for b in bases])
    q = np.array([b.interdiction_prob for b in bases])
    n = arrival.shape[1]
    cols = np.arange(n)
    none_faster = np.ones(n)
    total = np.zeros(n)
    for rank in range(len(bases)):
        b = order[rank]
        a = arrival[b, cols]
        reach = np.isfinite(a)
        gain = alpha[b] * none_faster * q[b] * duration.survival(np.where(reach, a, 0.0))
        total += np.where(reach, gain, 0.0)
        none_faster = none_faster * np.where(reach, 1.0 - alpha[b], 1.0)
    return total


def expected_utility(plan: DefencePlan, attacker: StrategicAttacker) -> FloatArray:
    """``EU_t = (1 - s_t) R_t + s_t P_t`` under the protection the attacker observes."""
    s = protection(plan, attacker.duration, observes=attacker.observes)
    t = plan.targets
    return np.asarray((1.0 - s) * t.reward + s * t.penalty, dtype=float)


def protection_by_hour(
    plan: DefencePlan, duration: AttackDuration, *, observes: str = "all"
) -> FloatArray:
    """``(n_targets, plan.hours)`` stop probabilities, per hour slot when time of day matters."""
    if plan.hours == 1:
        return protection(plan, duration, observes=observes)[:, None]
    return np.stack(
        [protection(plan, duration, observes=observes, hour=h) for h in range(plan.hours)], axis=1
    )


def attack_distribution(
    plan: DefencePlan, attacker: StrategicAttacker | OpportunisticAttacker
) -> tuple[float, FloatArray]:
    """``(P(abstain), P(attack target t))`` for one attacker-day; they sum to one."""
    p0, p = attack_distribution_by_hour(plan, attacker)
    return p0, np.asarray(p.sum(axis=1), dtype=float)


def attack_distribution_by_hour(
    plan: DefencePlan, attacker: StrategicAttacker | OpportunisticAttacker
) -> tuple[float, FloatArray]:
    """``(P(abstain), P(target t at hour slot h))``, shape ``(n_targets, plan.hours)``.

    Strategic attacker with time of day: a nested logit with a uniform base over each target's
    exposed hours, ``P(t) ∝ mean_{h ∈ E_t} exp(λ EU_th)`` against ``exp(λ U_0)``, and
    ``P(h | t) ∝ exp(λ EU_th)``; with a single slot it is the plain logit of
    :class:`StrategicAttacker`. ``λ = inf``: uniform over the best (target, hour) pairs.
    """
    n, hours = len(plan.targets), plan.hours
    exposed = np.array(
        [hour_mask(t.exposed_hours) if hours > 1 else [True] for t in plan.targets.targets]
    )  # (n, H)
    if isinstance(attacker, OpportunisticAttacker):
        p = attacker.target_probs
        if p.shape[0] != n:
            raise ValidationError(
                f"target_probs has {p.shape[0]} entries, the plan has {n} targets",
                field="attacker.target_probs",
            )
        if hours == 1:
            return 0.0, np.array(p, dtype=float)[:, None]
        base = np.ones(hours) if attacker.hour_probs is None else attacker.hour_probs
        w = exposed * base
        sums = w.sum(axis=1, keepdims=True)
        w = np.where(
            sums > 0, w / np.where(sums > 0, sums, 1.0), exposed / exposed.sum(1, keepdims=True)
        )
        return 0.0, np.asarray(p[:, None] * w, dtype=float)
    s = protection_by_hour(plan, attacker.duration, observes=attacker.observes)
    t = plan.targets
    eu = (1.0 - s) * t.reward[:, None] + s * t.penalty[:, None]  # (n, H)
    return _logit(eu, exposed, attacker.rationality, attacker.outside_option)


def _logit(
    eu: FloatArray, exposed: NDArray[np.bool_], lam: float, u0: float | None
) -> tuple[float, FloatArray]:
    eu = np.where(exposed, eu, -np.inf)
    top = max(float(eu.max()), -np.inf if u0 is None else u0)
    if np.isinf(lam):
        best = exposed & (eu >= top - 1e-12)
        if u0 is not None and u0 >= top - 1e-12:
            total = best.sum() + 1
            return 1.0 / total, best / total
        return 0.0, best / best.sum()
    e = np.where(exposed, np.exp(lam * (np.where(exposed, eu, top) - top)), 0.0)  # (n, H)
    counts = exposed.sum(axis=1, keepdims=True)
    weight_t = e.sum(axis=1, keepdims=True) / counts  # mean over exposed hours
    within = e / np.where(weight_t > 0, e.sum(axis=1, keepdims=True), 1.0)
    outside = 0.0 if u0 is None else float(np.exp(lam * (u0 - top)))
    denom = outside + float(weight_t.sum())
    return outside / denom, np.asarray(weight_t / denom * within, dtype=float)
