"""The vectorised Monte Carlo kernel: one chunk of attacker-days for one or more plans.

Random numbers come from named streams, one numpy ``Generator`` per (seed, chunk, stream name)
(``SeedSequence(seed, spawn_key=(chunk, crc32(name)))``): the result of a chunk depends only on
the seed and the chunk index (never on which worker ran it), and two plans simulated together
read the *same* uniforms for the attacker, the attack duration, each unit name and each QRF base
(common random numbers), so their paired differences have small variance.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from corridorguard.simulate.analytic import attack_distribution_by_hour, sorted_deployments
from corridorguard.simulate.model import (
    AttackDuration,
    DefencePlan,
    FloatArray,
    OpportunisticAttacker,
    StrategicAttacker,
    hour_mask,
)

METRICS = (
    "deterred",
    "attacked",
    "detected",
    "interdicted",
    "succeeded",
    "harm",
    "qrf_dispatched",
    "response_min_sum",
    "detect_min_sum",
    "handoff",
    "interdicted_onsite",
    "interdicted_qrf",
)
M_INDEX = {m: i for i, m in enumerate(METRICS)}
HIST_EDGES = np.arange(0.0, 721.0, 1.0)  # response-time histogram, 1-min bins to 12 h (+ overflow)


@dataclass(frozen=True, eq=False)
class CompiledPlan:
    """A plan and attacker reduced to the arrays the kernel needs (cheap to pickle)."""

    name: str
    cum: FloatArray
    harm: FloatArray
    dep_names: tuple[str, ...]
    dep_cov: tuple[FloatArray, ...]
    det: FloatArray
    intr: FloatArray
    delay: FloatArray
    dep_force: NDArray[np.int64]
    base_names: tuple[str, ...]
    travel: FloatArray
    dispatch: FloatArray
    avail: FloatArray
    qrf_q: FloatArray
    base_force: NDArray[np.int64]
    handoff: FloatArray
    duration: AttackDuration
    p_abstain: float
    p_targets: FloatArray
    hours: int
    on_shift: FloatArray  # (K, hours): 1 where the unit is on duty in that hour slot


def compile_plan(
    plan: DefencePlan,
    attacker: StrategicAttacker | OpportunisticAttacker,
    forces: list[str],
) -> CompiledPlan:
    """Reduce ``plan`` and ``attacker`` to arrays; ``forces`` indexes force names.

    Attack choices are laid out as ``[abstain, (t0, h0), (t0, h1), ..., (t1, h0), ...]`` so a
    single uniform picks target and hour by inverse CDF.
    """
    p_abstain, p_th = attack_distribution_by_hour(plan, attacker)
    hours = p_th.shape[1]
    cum = np.cumsum(np.concatenate([[p_abstain], p_th.ravel()]))
    cum[-1] = 1.0
    deps = sorted_deployments(plan.deployments)
    fidx = {f: i for i, f in enumerate(forces)}
    n = len(plan.targets)
    bases = plan.qrf
    handoff = np.array(
        [[plan.handoff(d.unit.force, b.force) for b in bases] for d in deps], dtype=float
    ).reshape(len(deps), len(bases))
    return CompiledPlan(
        name=plan.name,
        cum=cum,
        harm=plan.targets.harm,
        dep_names=tuple(d.unit.name for d in deps),
        dep_cov=tuple(d.coverage for d in deps),
        det=np.array([d.unit.detection_prob for d in deps], dtype=float),
        intr=np.array([d.unit.interdiction_prob for d in deps], dtype=float),
        delay=np.array([d.unit.detection_delay_min for d in deps], dtype=float),
        dep_force=np.array([fidx[d.unit.force] for d in deps], dtype=np.int64),
        base_names=tuple(b.name for b in bases),
        travel=np.array([b.travel_min for b in bases], dtype=float).reshape(len(bases), n),
        dispatch=np.array([b.dispatch_delay_min for b in bases], dtype=float),
        avail=np.array([b.availability for b in bases], dtype=float),
        qrf_q=np.array([b.interdiction_prob for b in bases], dtype=float),
        base_force=np.array([fidx[b.force] for b in bases], dtype=np.int64),
        handoff=handoff,
        duration=attacker.duration,
        p_abstain=p_abstain,
        p_targets=p_th.sum(axis=1),
        hours=hours,
        on_shift=np.array(
            [hour_mask(d.unit.shift)[:hours] if hours > 1 else [True] for d in deps], dtype=float
        ).reshape(len(deps), hours),
    )


@dataclass(frozen=True, eq=False)
class Job:
    """Everything a worker needs: compiled plans, sizes and the seed."""

    plans: tuple[CompiledPlan, ...]
    n_days: int
    chunk_size: int
    seed: int
    partial_harm: bool
    n_targets: int
    n_forces: int

    @property
    def n_chunks(self) -> int:
        return -(-self.n_days // self.chunk_size)


@dataclass
class ChunkStats:
    """Sufficient statistics of one chunk (summed across chunks in chunk order)."""

    n: int
    s1: FloatArray  # (P, M) sums
    within: FloatArray  # (P, M, M) sums of products within a plan
    cross: FloatArray  # (M, P, P) sums of products across plans, metric by metric
    hist: FloatArray  # (P, bins) response-time histogram
    by_target: FloatArray  # (P, 3, T): attacks, interdicted, harm
    by_force: FloatArray  # (P, 4, F): first detections, QRF dispatches, hand-offs out, in
    by_hour: FloatArray  # (P, 24): attacks by hour slot (zeros when time of day is not modelled)

    def add(self, other: ChunkStats) -> ChunkStats:
        return ChunkStats(
            self.n + other.n,
            self.s1 + other.s1,
            self.within + other.within,
            self.cross + other.cross,
            self.hist + other.hist,
            self.by_target + other.by_target,
            self.by_force + other.by_force,
            self.by_hour + other.by_hour,
        )


def stream(seed: int, chunk: int, name: str) -> np.random.Generator:
    """The generator of one named random stream of one chunk."""
    key = (chunk, zlib.crc32(name.encode("utf-8")))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def run_chunk(job: Job, chunk: int) -> ChunkStats:
    """Simulate chunk ``chunk`` of ``job`` for every plan with common random numbers."""
    n = min(job.chunk_size, job.n_days - chunk * job.chunk_size)
    uni: dict[str, FloatArray] = {}

    def draw(name: str, rows: int = 1) -> FloatArray:
        if name not in uni:
            uni[name] = stream(job.seed, chunk, name).random((rows, n))
        return uni[name]

    feats, hists, targets, forces, hours = [], [], [], [], []
    for plan in job.plans:
        f, h, t, fo, hr = _simulate_plan(plan, job, n, draw)
        feats.append(f)
        hists.append(h)
        targets.append(t)
        forces.append(fo)
        hours.append(hr)
    x = np.stack(feats)  # (P, M, n)
    return ChunkStats(
        n=n,
        s1=x.sum(axis=2),
        within=np.einsum("pmn,pkn->pmk", x, x),
        cross=np.einsum("pmn,qmn->mpq", x, x),
        hist=np.stack(hists),
        by_target=np.stack(targets),
        by_force=np.stack(forces),
        by_hour=np.stack(hours),
    )


Draw = Callable[..., FloatArray]


@dataclass
class _Day:
    """Per attacker-day arrays of one plan within one chunk."""

    attacked: NDArray[np.bool_]
    tgt: NDArray[np.int64]
    hour: NDArray[np.int64]
    duration: FloatArray
    t_detect: FloatArray
    first: NDArray[np.int64]
    stop_time: FloatArray
    arrival: FloatArray
    best: NDArray[np.int64]
    qrf_stop: NDArray[np.bool_]
    handoff: NDArray[np.bool_]


def _simulate_plan(
    plan: CompiledPlan, job: Job, n: int, draw: Draw
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    choice = np.minimum(
        np.searchsorted(plan.cum, draw("attacker")[0], side="right"), plan.cum.size - 1
    )
    attacked = choice > 0
    pair = np.where(attacked, choice - 1, 0)
    tgt, hour = np.divmod(pair, plan.hours)
    duration = plan.duration.from_uniform(draw("duration")[0])
    t_detect, first, stop_time = _on_site(plan, n, draw, attacked, tgt, hour)
    day = _Day(
        attacked,
        tgt,
        hour,
        duration,
        t_detect,
        first,
        stop_time,
        arrival=np.full(n, np.inf),
        best=np.zeros(n, dtype=np.int64),
        qrf_stop=np.zeros(n, dtype=bool),
        handoff=np.zeros(n, dtype=bool),
    )
    if len(plan.base_names) and len(plan.dep_names):
        _respond(plan, n, draw, day)
    return _tally(plan, job, day)


def _on_site(
    plan: CompiledPlan,
    n: int,
    draw: Draw,
    attacked: NDArray[np.bool_],
    tgt: NDArray[np.int64],
    hour: NDArray[np.int64],
) -> tuple[FloatArray, NDArray[np.int64], FloatArray]:
    """Presence, detection, on-the-spot interdiction: detection time, first detector, stop."""
    u_day = draw("day")[0]
    det_time = np.full((max(len(plan.dep_names), 1), n), np.inf)
    stop_time = np.full(n, np.inf)
    for k, name in enumerate(plan.dep_names):
        u = draw("unit:" + name, 3)
        cov = plan.dep_cov[k]
        if cov.ndim == 1:
            prob = cov[tgt]
        else:
            row = np.minimum((u_day * cov.shape[0]).astype(np.int64), cov.shape[0] - 1)
            prob = cov[row, tgt]
        if plan.hours > 1:
            prob = prob * plan.on_shift[k, hour]
        detect = attacked & (u[0] < prob) & (u[1] < plan.det[k])
        det_time[k] = np.where(detect, plan.delay[k], np.inf)
        stopped = detect & (u[2] < plan.intr[k])
        stop_time = np.where(stopped, np.minimum(stop_time, plan.delay[k]), stop_time)
    first = np.argmin(det_time, axis=0)
    return det_time[first, np.arange(n)], first, stop_time


def _respond(plan: CompiledPlan, n: int, draw: Draw, day: _Day) -> None:
    """The fastest ready QRF base: arrival, interdiction before the attack ends, hand-off."""
    b_n = len(plan.base_names)
    arr = np.empty((b_n, n))
    ub = np.empty((b_n, n))
    for b, name in enumerate(plan.base_names):
        u = draw("qrf:" + name, 2)
        ub[b] = u[1]
        a = day.t_detect + plan.dispatch[b] + plan.handoff[day.first, b] + plan.travel[b, day.tgt]
        arr[b] = np.where(u[0] < plan.avail[b], a, np.inf)
    day.best = np.argmin(arr, axis=0)
    cols = np.arange(n)
    day.arrival = arr[day.best, cols]
    reached = np.isfinite(day.t_detect) & np.isfinite(day.arrival)
    day.qrf_stop = (
        reached & (day.arrival < day.duration) & (ub[day.best, cols] < plan.qrf_q[day.best])
    )
    day.handoff = reached & (plan.dep_force[day.first] != plan.base_force[day.best])


def _tally(
    plan: CompiledPlan, job: Job, day: _Day
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per-day metric rows, the response-time histogram, per-target and per-force counts."""
    attacked, tgt = day.attacked, day.tgt
    detected = np.isfinite(day.t_detect)
    onsite = np.isfinite(day.stop_time)
    dispatched = detected & np.isfinite(day.arrival)
    stop_time = np.where(day.qrf_stop, np.minimum(day.stop_time, day.arrival), day.stop_time)
    interdicted = onsite | day.qrf_stop
    harm_full = plan.harm[tgt] * attacked
    if job.partial_harm:
        harm = harm_full * np.where(interdicted, np.minimum(1.0, stop_time / day.duration), 1.0)
    else:
        harm = harm_full * ~interdicted
    feats: FloatArray = np.stack(
        [
            ~attacked,
            attacked,
            detected,
            interdicted,
            attacked & ~interdicted,
            harm,
            dispatched,
            np.where(dispatched, day.arrival, 0.0),
            np.where(detected, day.t_detect, 0.0),
            day.handoff,
            onsite,
            day.qrf_stop & ~onsite,
        ]
    ).astype(float)
    hist: FloatArray = np.bincount(
        np.searchsorted(HIST_EDGES, day.arrival[dispatched], side="right") - 1,
        minlength=HIST_EDGES.size,
    ).astype(float)
    t_n, f_n = job.n_targets, job.n_forces
    by_target: FloatArray = np.stack(
        [
            np.bincount(tgt, weights=attacked, minlength=t_n),
            np.bincount(tgt, weights=interdicted, minlength=t_n),
            np.bincount(tgt, weights=harm, minlength=t_n),
        ]
    )
    by_force = np.zeros((4, f_n))
    if len(plan.dep_names):
        det_force = plan.dep_force[day.first]
        by_force[0] = np.bincount(det_force[detected], minlength=f_n)
        if len(plan.base_names):
            base_force = plan.base_force[day.best]
            by_force[1] = np.bincount(base_force[dispatched], minlength=f_n)
            by_force[2] = np.bincount(det_force[day.handoff], minlength=f_n)
            by_force[3] = np.bincount(base_force[day.handoff], minlength=f_n)
    by_hour = np.zeros(24)
    if plan.hours > 1:
        by_hour = np.bincount(day.hour[attacked], minlength=24).astype(float)
    return feats, hist, by_target, by_force, by_hour
