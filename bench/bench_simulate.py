"""Benchmark: 10^6 attacker-days through the vectorised simulator vs per-day peers.

Workload (notional, generated): 200 targets, 4 deployments (two marginal unit types, one 30-day
schedule, one sensor layer), 3 QRF bases with cross-force hand-offs, a strategic quantal-response
attacker with an outside option, lognormal attack durations.

Ours: ``corridorguard.simulate.simulate`` on 10^6 attacker-days, inline (1 worker) and on all
local cores. Peers, same model and the same attacker distribution: (a) a straightforward per-day
Python loop and (b) a SimPy discrete-event model (QRF arrival racing the attack's end), each run
on a subset of days and extrapolated linearly to 10^6 (stated in the output). The peers'
interdiction rates are checked against ours (they must agree within sampling error). On a shared
machine wall time is noisy, so the in-process CPU time is printed as well.

Run: ``python bench/bench_simulate.py`` (``PYTHONPATH=src`` if the package is not installed).
"""

from __future__ import annotations

import math
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

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
    default_workers,
    sensor,
    simulate,
)

N_DAYS = 1_000_000
PEER_DAYS = 20_000
SIMPY_DAYS = 20_000
REPEATS = 3


def build(seed: int = 0, n: int = 200) -> tuple[DefencePlan, StrategicAttacker]:
    rng = np.random.default_rng(seed)
    targets = TargetSet(
        tuple(
            Target(
                f"t{i}",
                kind=("site", "segment", "convoy")[i % 3],
                workers=float(rng.integers(0, 400)),
                lethality=float(rng.uniform(0.02, 0.4)),
                penalty=-float(rng.uniform(0, 20)),
                traffic_vph=float(rng.uniform(0, 500)) if i % 3 == 1 else 0.0,
            )
            for i in range(n)
        )
    )
    patrol = UnitType(
        "police_patrol",
        force="police",
        detection_prob=0.7,
        interdiction_prob=0.4,
        detection_delay_min=3.0,
    )
    cp = UnitType(
        "army_checkpoint",
        force="army",
        kind="checkpoint",
        detection_prob=0.9,
        interdiction_prob=0.6,
        delay_min_per_vehicle=2.0,
        stop_fraction=0.1,
    )
    escort = UnitType(
        "escort",
        force="police",
        kind="escort",
        detection_prob=0.8,
        interdiction_prob=0.5,
        detection_delay_min=1.0,
    )
    schedule = (rng.random((30, n)) < 0.15).astype(float)
    deps = (
        Deployment(patrol, rng.uniform(0, 0.4, n)),
        Deployment(cp, rng.uniform(0, 0.3, n)),
        Deployment(escort, schedule),
        sensor("cameras", rng.uniform(0, 0.7, n), force="army", detection_delay_min=1.0),
    )
    bases = tuple(
        QRFBase(
            f"qrf{b}",
            rng.uniform(5, 120, n),
            force=("army", "police", "army")[b],
            availability=0.8,
            dispatch_delay_min=5.0,
        )
        for b in range(3)
    )
    plan = DefencePlan(
        targets, deps, bases, handoff_delay_min={("police", "army"): 15.0, ("army", "police"): 8.0}
    )
    attacker = StrategicAttacker(
        rationality=0.05,
        outside_option=5.0,
        duration=AttackDuration("lognormal", mean_min=40.0, sigma=0.7),
    )
    return plan, attacker


def python_loop(plan: DefencePlan, attacker: StrategicAttacker, days: int, seed: int) -> float:
    """The same model, one attacker-day at a time in plain Python; returns the interdiction rate."""
    rnd = random.Random(seed)
    p0, p = attack_distribution(plan, attacker)
    weights = [p0, *p.tolist()]
    deps = sorted(plan.deployments, key=lambda d: d.unit.detection_delay_min)
    cov = [d.coverage.tolist() for d in deps]
    dur = attacker.duration
    mu = math.log(dur.mean_min) - 0.5 * dur.sigma**2
    interdicted = 0
    for _ in range(days):
        choice = rnd.choices(range(len(weights)), weights)[0]
        if choice == 0:
            continue
        t = choice - 1
        day = rnd.random()
        duration = math.exp(rnd.gauss(mu, dur.sigma))
        first = None
        stopped = False
        for k, d in enumerate(deps):
            c = cov[k]
            prob = c[t] if d.coverage.ndim == 1 else c[int(day * len(c))][t]
            if rnd.random() < prob and rnd.random() < d.unit.detection_prob:
                if first is None:
                    first = d
                if rnd.random() < d.unit.interdiction_prob:
                    stopped = True
        if not stopped and first is not None:
            best = math.inf
            best_q = 0.0
            for b in plan.qrf:
                if rnd.random() < b.availability:
                    a = (
                        first.unit.detection_delay_min
                        + b.dispatch_delay_min
                        + plan.handoff(first.unit.force, b.force)
                        + b.travel_min[t]
                    )
                    if a < best:
                        best, best_q = a, b.interdiction_prob
            stopped = best < duration and rnd.random() < best_q
        interdicted += stopped
    return interdicted / days


def simpy_model(plan: DefencePlan, attacker: StrategicAttacker, days: int, seed: int) -> float:
    """The same model as a SimPy process: the QRF's arrival races the attack's end each day."""
    import simpy

    rnd = random.Random(seed)
    p0, p = attack_distribution(plan, attacker)
    weights = [p0, *p.tolist()]
    deps = sorted(plan.deployments, key=lambda d: d.unit.detection_delay_min)
    cov = [d.coverage.tolist() for d in deps]
    dur = attacker.duration
    mu = math.log(dur.mean_min) - 0.5 * dur.sigma**2
    env = simpy.Environment()
    count = {"interdicted": 0}

    def attack(t: int, day: float):  # type: ignore[no-untyped-def]
        start = env.now
        end = env.timeout(math.exp(rnd.gauss(mu, dur.sigma)))
        first = None
        for k, d in enumerate(deps):
            c = cov[k]
            prob = c[t] if d.coverage.ndim == 1 else c[int(day * len(c))][t]
            if rnd.random() < prob and rnd.random() < d.unit.detection_prob:
                yield env.timeout(max(d.unit.detection_delay_min - (env.now - start), 0))
                if first is None:
                    first = d
                if rnd.random() < d.unit.interdiction_prob:
                    count["interdicted"] += 1
                    return
        if first is None:
            return
        ready = [b for b in plan.qrf if rnd.random() < b.availability]
        if not ready:
            return
        legs = [
            (b.dispatch_delay_min + plan.handoff(first.unit.force, b.force) + b.travel_min[t], b)
            for b in ready
        ]
        leg, base = min(legs, key=lambda x: x[0])
        arrive = env.timeout(leg)
        fired = yield arrive | end
        if arrive in fired and end not in fired and rnd.random() < base.interdiction_prob:
            count["interdicted"] += 1

    def days_loop():  # type: ignore[no-untyped-def]
        for _ in range(days):
            choice = rnd.choices(range(len(weights)), weights)[0]
            if choice:
                yield env.process(attack(choice - 1, rnd.random()))
            yield env.timeout(1440 - env.now % 1440)

    env.process(days_loop())
    env.run()
    return count["interdicted"] / days


CPU: dict[str, float] = {}


def timed(fn, repeats: int, key: str = ""):  # type: ignore[no-untyped-def]
    times, cpu, out = [], [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    CPU[key] = statistics.median(cpu)
    return statistics.median(times), out


def main() -> None:
    plan, attacker = build()
    cores = default_workers()
    print(f"simulate benchmark: 200 targets, 4 deployments, 3 QRF bases; {N_DAYS:,} attacker-days")
    t1, r1 = timed(
        lambda: simulate(plan, attacker, n_days=N_DAYS, seed=1, workers=1), REPEATS, "ours"
    )
    tn, rn = timed(lambda: simulate(plan, attacker, n_days=N_DAYS, seed=1, workers=cores), REPEATS)
    assert r1.to_dict() == rn.to_dict(), "results must not depend on the number of workers"
    est = r1.per_day["interdicted"]
    print(f"  ours, 1 worker      : {t1:7.2f} s  (median of {REPEATS}; CPU {CPU['ours']:.2f} s)")
    print(f"  ours, {cores} workers     : {tn:7.2f} s  (median of {REPEATS})")
    print(f"  interdicted/attacker-day = {est.mean:.4f} [{est.low:.4f}, {est.high:.4f}]")

    tp, rate_p = timed(lambda: python_loop(plan, attacker, PEER_DAYS, 2), REPEATS, "loop")
    tp_full = tp * N_DAYS / PEER_DAYS
    se_p = math.sqrt(rate_p * (1 - rate_p) / PEER_DAYS)
    print(
        f"  Python per-day loop : {tp:7.2f} s for {PEER_DAYS:,} days -> {tp_full:7.1f} s "
        f"extrapolated to {N_DAYS:,}; rate {rate_p:.4f} ± {1.96 * se_p:.4f}"
    )
    ts, rate_s = timed(lambda: simpy_model(plan, attacker, SIMPY_DAYS, 3), REPEATS, "simpy")
    ts_full = ts * N_DAYS / SIMPY_DAYS
    se_s = math.sqrt(rate_s * (1 - rate_s) / SIMPY_DAYS)
    print(
        f"  SimPy                : {ts:7.2f} s for {SIMPY_DAYS:,} days -> {ts_full:7.1f} s "
        f"extrapolated to {N_DAYS:,}; rate {rate_s:.4f} ± {1.96 * se_s:.4f}"
    )
    for name, rate, se in (("Python loop", rate_p, se_p), ("SimPy", rate_s, se_s)):
        z = abs(rate - est.mean) / math.hypot(se, est.se)
        print(f"  agreement with {name}: |z| = {z:.2f}" + ("" if z < 4 else "  <-- DISAGREES"))
    print("ratios (peer time / ours, 1 worker):")
    print(f"  Python loop / ours = {tp_full / t1:8.0f}x   SimPy / ours = {ts_full / t1:8.0f}x")
    cpu_loop = CPU["loop"] * N_DAYS / PEER_DAYS
    cpu_simpy = CPU["simpy"] * N_DAYS / SIMPY_DAYS
    print(
        f"  by CPU time: Python loop / ours = {cpu_loop / CPU['ours']:8.0f}x   "
        f"SimPy / ours = {cpu_simpy / CPU['ours']:8.0f}x"
    )
    print(f"  ours 1 worker / ours {cores} workers (wall) = {t1 / tn:.2f}x")
    print(f"goal: 10^6 attacker-days <= 60 s: {'met' if t1 <= 60 else 'NOT met'} ({t1:.2f} s)")


if __name__ == "__main__":
    main()
