"""Pipeline steps 3-6: solve the engines and assemble the three plans the simulator compares.

Resources are accounted once (the scenario's units, no more):

* **patrol** units -> the patrol engine's randomised routes (joint plan; per force for the
  uncoordinated plan); in the *static* baseline the same teams stand as fixed site guards
  (``count x shift_hours / 24`` posts staffed around the clock at the force's highest-harm sites);
* **checkpoint** units -> ``count`` day-shift posts (06-18): placed on the risk-weighted
  maximal-cover segments (placement engine) in the optimised plans, on the busiest segments of
  the force's jurisdiction in the static baseline;
* **camera** / **drone** units -> maximal-cover sensor placement per force (optimised); gate
  cameras at site access nodes and drones over their base (static); a drone's detection is
  scaled by the share of the day it is airborne (``shift_hours / 24``);
* **qrf** units -> a QRF base each, with travel minutes on the road graph. In the joint and
  static plans a QRF answers anywhere, after a hand-off delay when the detecting force is the
  other one; in the uncoordinated plan it answers only inside its own jurisdiction and the
  hand-off is slower.

All figures that are not in the scenario (hand-off delays, checkpoint delay per vehicle, stop
share, QRF availability, attack duration, attacker rationality) are NOTIONAL defaults listed in
:class:`Assumptions` and written to ``plan.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import time
from typing import Any

import numpy as np

from corridorguard.pipeline.coverage import (
    ConvoyDay,
    TargetIndex,
    checkpoint_coverage,
    sensor_detection,
    travel_minutes,
)
from corridorguard.placement.checkpoints import CheckpointPlacement
from corridorguard.placement.qrf import QRFCoverage
from corridorguard.placement.sensors import SensorPlacement
from corridorguard.routing.convoy import ConvoyRouter
from corridorguard.scenario.model import Force, Scenario, Unit
from corridorguard.simulate import (
    AttackDuration,
    DefencePlan,
    Deployment,
    QRFBase,
    StrategicAttacker,
    Target,
    TargetSet,
    UnitType,
    targets_from_scenario,
)

__all__ = ["Assumptions", "Placements", "build_plan", "convoy_routes", "sim_targets"]

DAY_SHIFT = (6.0, 18.0)


@dataclass(frozen=True)
class Assumptions:
    """Notional modelling inputs not given by the scenario (all written to ``plan.json``)."""

    handoff_joint_min: float = 10.0
    handoff_uncoordinated_min: float = 30.0
    checkpoint_delay_s: float = 120.0
    checkpoint_stop_fraction: float = 0.1
    qrf_availability: float = 0.8
    qrf_dispatch_delay_min: float = 5.0
    qrf_minutes: float = 30.0
    camera_delay_min: float = 3.0
    attack_mean_min: float = 30.0
    attack_sigma: float = 0.6
    rationality: float = 0.2
    outside_option: float = 0.0
    notional: bool = True

    def attacker(self) -> StrategicAttacker:
        return StrategicAttacker(
            rationality=self.rationality,
            outside_option=self.outside_option,
            observes="visible",
            duration=AttackDuration(
                "lognormal", mean_min=self.attack_mean_min, sigma=self.attack_sigma
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


RISK_FLOOR = 0.1
CONVOY_LETHALITY = 0.3


def attack_weights(
    scenario: Scenario, site_risk: Mapping[str, float], edge_risk: Mapping[str, float]
) -> dict[str, float]:
    """Attack-likelihood weight per site and segment id, as in the games engine:
    ``w = floor + (1 - floor) * risk / max(risk)`` (sites and segments scaled separately)."""
    out: dict[str, float] = {}
    for values in (site_risk, edge_risk):
        top = max(values.values(), default=0.0)
        for k, v in values.items():
            rho = v / top if top > 0 else 1.0
            out[k] = RISK_FLOOR + (1.0 - RISK_FLOOR) * rho
    return out


def patrol_risk(
    patrol_scenario: Scenario, weights: Mapping[str, float], *, slot_minutes: float
) -> dict[str, np.ndarray]:
    """Per-slot multipliers that make the patrol game's target values equal the simulator's
    attacker rewards (site: ``w (harm + criticality)``; segment slot: ``w (1 + people x
    lethality)`` when a convoy is on it), so the plan is optimised against the attacker it is
    evaluated against."""
    from corridorguard.patrol import build_targets

    base = build_targets(patrol_scenario, slot_minutes=slot_minutes)
    g = base.n_slots
    out: dict[str, np.ndarray] = {}
    vals = base.value
    people = base.convoy_people
    for k, eid in enumerate(base.edge_ids):
        sl = slice(k * g, (k + 1) * g)
        want = weights.get(eid, 1.0) * (1.0 + CONVOY_LETHALITY * people[sl])
        out[eid] = np.where(vals[sl] > 0, want / np.maximum(vals[sl], 1e-12), 1.0)
    sites = {s.id: s for s in patrol_scenario.sites}
    for k, sid in enumerate(base.site_ids):
        j0 = base.n_segment_targets + k * g
        s = sites[sid]
        want_s = weights.get(sid, 1.0) * (s.workers * 0.05 + s.criticality)
        v = vals[j0 : j0 + g]
        out[sid] = np.where(v > 0, want_s / np.maximum(v, 1e-12), 1.0)
    return out


def sim_targets(
    scenario: Scenario, etas: Mapping[str, float], weights: Mapping[str, float] | None = None
) -> TargetSet:
    """Simulator targets with the responsible force, each convoy's exposure window and the
    attacker's reward scaled by the forecast's attack-likelihood weight (a convoy takes the
    largest weight of its origin's and destination's segments)."""
    base = targets_from_scenario(scenario, convoy_lethality=CONVOY_LETHALITY)
    w = dict(weights or {})
    out: list[Target] = []
    for t in base.targets:
        force = _force_of(scenario, t)
        exposed = None
        if t.kind == "convoy":
            mv = next(m for m in scenario.movements if m.id == t.id)
            start = _hours(mv.window_start)
            end = (_hours(mv.window_end) + etas.get(t.id, 0.0) / 3600.0) % 24.0
            exposed = (start, end) if abs(end - start) > 1e-9 else None
        wt = w.get(t.id, 1.0)
        if t.kind == "convoy":
            mv = next(m for m in scenario.movements if m.id == t.id)
            ends = {mv.origin, mv.destination}
            wt = max(
                (w.get(e.id, 1.0) for e in scenario.edges if {e.source, e.target} & ends),
                default=1.0,
            )
        out.append(
            replace(
                t,
                force=force,
                exposed_hours=exposed,
                reward=t.attacker_reward * wt,
                penalty=min(t.penalty, t.attacker_reward * wt),
            )
        )
    return TargetSet(tuple(out), notional=base.notional)


def _hours(t: time) -> float:
    return t.hour + t.minute / 60.0


def _force_of(scenario: Scenario, t: Target) -> str:
    for f in scenario.forces:
        if t.kind == "site":
            node = scenario.site(t.id).node
            if node and scenario.node_in_jurisdiction(f.id, node):
                return f.id
        elif t.kind == "segment":
            edge = next(e for e in scenario.edges if e.id == t.id)
            if scenario.node_in_jurisdiction(f.id, edge.source):
                return f.id
        else:
            mv = next(m for m in scenario.movements if m.id == t.id)
            if scenario.node_in_jurisdiction(f.id, mv.origin):
                return f.id
    return ""


def convoy_routes(
    scenario: Scenario, edge_risk: Mapping[str, float], *, days: int, seed: int
) -> dict[str, ConvoyRouter]:
    """Risk-aware alternatives and a seeded randomised choice for every movement."""
    reset_highs()
    out: dict[str, ConvoyRouter] = {}
    for k, mv in enumerate(scenario.movements):
        out[mv.id] = ConvoyRouter.for_movement(
            scenario, mv.id, edge_risk=dict(edge_risk), alternatives=3, days=days, seed=seed + k
        ).solve()
    return out


def convoy_days(routers: Mapping[str, ConvoyRouter]) -> dict[str, list[ConvoyDay]]:
    out: dict[str, list[ConvoyDay]] = {}
    for cid, r in routers.items():
        by_index = {o.index: o for o in r.routes_}
        days = []
        for entry in r.schedule_:
            hh, mm = (int(x) for x in str(entry["depart"]).split(":")[:2])
            days.append(ConvoyDay(tuple(by_index[entry["route"]].edges), hh * 3600.0 + mm * 60.0))
        out[cid] = days
    return out


def route_mix(routers: Mapping[str, ConvoyRouter]) -> dict[str, list[tuple[float, list[str]]]]:
    return {
        cid: [(float(o.probability), list(o.edges)) for o in r.routes_ if o.probability > 0]
        or [(1.0, list(r.routes_[0].edges))]
        for cid, r in routers.items()
    }


@dataclass
class Placements:
    """Solved placement engine objects per force (optimised) and the static equivalents."""

    checkpoints: dict[str, CheckpointPlacement] = field(default_factory=dict)
    static_checkpoints: dict[str, list[str]] = field(default_factory=dict)
    cameras: dict[str, SensorPlacement] = field(default_factory=dict)
    static_cameras: dict[str, SensorPlacement] = field(default_factory=dict)
    drones: dict[str, SensorPlacement] = field(default_factory=dict)
    static_drones: dict[str, SensorPlacement] = field(default_factory=dict)
    qrf: dict[str, QRFCoverage] = field(default_factory=dict)
    """Unit id -> response times from the unit's current base (static baseline)."""
    qrf_opt: dict[str, QRFCoverage] = field(default_factory=dict)
    """Unit id -> response times from the base chosen by p-median placement (optimised plans)."""
    qrf_bases: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Force id -> the placement engine's base choice (``QRFCoverage.place_bases``)."""


def reset_highs() -> None:
    """Reset HiGHS's process-wide thread scheduler.

    A solve with a ``threads`` option different from the running global scheduler stops with
    model status "Not Set" (the placement engine used ``threads=1`` while the games and patrol
    engines had started the scheduler with the default). Resetting the scheduler between
    engines guards against that (an adapter here; the engines are unchanged).
    """
    import highspy

    reset = getattr(highspy.Highs, "resetGlobalScheduler", None)
    if reset is not None:  # not every highspy version has it
        reset(True)


def _force_nodes(scenario: Scenario, f: Force) -> list[str]:
    return [n.id for n in scenario.nodes if scenario.node_in_jurisdiction(f.id, n.id)]


def _force_edges(scenario: Scenario, f: Force) -> list[str]:
    return [e.id for e in scenario.edges if scenario.edge_in_jurisdiction(f.id, e)]


def _units(f: Force, kind: str) -> list[Unit]:
    return [u for u in f.units if u.kind == kind]


def solve_placements(
    scenario: Scenario,
    *,
    edge_risk: Mapping[str, float],
    site_risk: Mapping[str, float],
    assumptions: Assumptions,
) -> Placements:
    """Run the placement engine for each force's checkpoints, cameras, drones and QRF bases."""
    reset_highs()
    pl = Placements()
    er, sr = dict(edge_risk), dict(site_risk)
    for f in scenario.forces:
        nodes, edges = _force_nodes(scenario, f), _force_edges(scenario, f)
        cps = sum(u.count for u in _units(f, "checkpoint"))
        if cps and edges:
            pl.checkpoints[f.id] = CheckpointPlacement(
                scenario,
                count=min(cps, len(edges)),
                candidates=edges,
                delay_s=assumptions.checkpoint_delay_s,
                hours_per_day=DAY_SHIFT[1] - DAY_SHIFT[0],
                edge_risk=er,
                site_risk=sr,
                time_limit=20.0,
            ).solve()
            busiest = sorted(edges, key=lambda e: -_edge(scenario, e).traffic_vph)
            pl.static_checkpoints[f.id] = busiest[: min(cps, len(edges))]
        site_nodes = sorted({s.node for s in scenario.sites if s.node in set(nodes)})
        for u in _units(f, "camera"):
            pl.cameras[u.id] = SensorPlacement(
                scenario, kind="camera", count=min(u.count, len(nodes)), candidates=nodes,
                edge_risk=er, site_risk=sr, time_limit=20.0,
            ).solve()  # fmt: skip
            if site_nodes:
                pl.static_cameras[u.id] = SensorPlacement(
                    scenario, kind="camera", count=min(u.count, len(site_nodes)),
                    candidates=site_nodes, edge_risk=er, site_risk=sr, time_limit=20.0,
                ).solve()  # fmt: skip
        for u in _units(f, "drone"):
            pl.drones[u.id] = SensorPlacement(
                scenario, kind="drone", count=min(u.count, len(nodes)), candidates=nodes,
                edge_risk=er, site_risk=sr, time_limit=20.0,
            ).solve()  # fmt: skip
            pl.static_drones[u.id] = SensorPlacement(
                scenario, kind="drone", count=1, candidates=[u.base], edge_risk=er, site_risk=sr
            ).solve()
        _place_qrf(scenario, f, nodes, pl, assumptions, er, sr)
    return pl


def _place_qrf(
    scenario: Scenario,
    f: Force,
    nodes: list[str],
    pl: Placements,
    assumptions: Assumptions,
    er: dict[str, float],
    sr: dict[str, float],
) -> None:
    """Response times from each QRF unit's base today and from the p-median bases."""
    qrfs = sorted(_units(f, "qrf"), key=lambda u: (-u.speed_kmh, u.id))
    for u in qrfs:
        pl.qrf[u.id] = QRFCoverage(
            scenario, bases=[u.base], speed_kmh=u.speed_kmh, minutes=assumptions.qrf_minutes,
            edge_risk=er, site_risk=sr,
        ).solve()  # fmt: skip
    if qrfs and len(nodes) >= len(qrfs):
        choice = QRFCoverage(
            scenario,
            bases=[u.base for u in qrfs],
            minutes=assumptions.qrf_minutes,
            speed_kmh=qrfs[-1].speed_kmh,
            edge_risk=er,
            site_risk=sr,
        ).place_bases(len(qrfs), objective="p-median", candidates=nodes, time_limit=30.0)
        pl.qrf_bases[f.id] = choice
        for u, base in zip(qrfs, choice["bases"], strict=False):
            pl.qrf_opt[u.id] = QRFCoverage(
                scenario, bases=[base], speed_kmh=u.speed_kmh,
                minutes=assumptions.qrf_minutes, edge_risk=er, site_risk=sr,
            ).solve()  # fmt: skip


def _edge(scenario: Scenario, eid: str) -> Any:
    return next(e for e in scenario.edges if e.id == eid)


def _mean_effect(units: Sequence[Unit]) -> tuple[float, float]:
    n = sum(u.count for u in units) or 1
    d = sum(u.count * u.detection_prob for u in units) / n
    i = sum(u.count * u.interdiction_prob for u in units) / n
    return d, i


@dataclass
class PlanInputs:
    """Everything :func:`build_plan` needs (engine results mapped to target arrays)."""

    scenario: Scenario
    index: TargetIndex
    placements: Placements
    presence: dict[str, np.ndarray]
    """Unit id -> joint-plan presence schedule ``(days, targets)``."""
    presence_alone: dict[str, np.ndarray]
    """Unit id -> uncoordinated (force alone) presence schedule."""
    routes: dict[str, list[tuple[float, list[str]]]]
    assumptions: Assumptions
    priority: np.ndarray | None = None
    """Per target: simulated harm per day under the optimised plan (where what-if additions
    go); ``None`` = expected harm of a successful attack."""
    guards: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    """Plan kind -> unit id -> site-guard coverage from the games engine."""


def _checkpoint_unit(f: Force, a: Assumptions) -> UnitType:
    d, i = _mean_effect(_units(f, "checkpoint"))
    return UnitType(
        name=f"{f.id}:checkpoints", force=f.id, kind="checkpoint", detection_prob=d,
        interdiction_prob=i, staffed_hours=DAY_SHIFT[1] - DAY_SHIFT[0],
        delay_min_per_vehicle=a.checkpoint_delay_s / 60.0,
        stop_fraction=a.checkpoint_stop_fraction, shift=DAY_SHIFT,
    )  # fmt: skip


def _patrol_unit(f: Force, u: Unit) -> UnitType:
    return UnitType(
        name=u.id, force=f.id, kind="patrol", detection_prob=u.detection_prob,
        interdiction_prob=u.interdiction_prob, staffed_hours=24.0,
    )  # fmt: skip


def _static_guards(inp: PlanInputs, f: Force) -> Deployment | None:
    patrols = _units(f, "patrol")
    posts = int(sum(u.count * u.shift_hours for u in patrols) // 24)
    idx = inp.index
    sites = [t for t in idx.targets.targets if t.kind == "site" and t.force == f.id]
    sites.sort(key=lambda t: (-t.workers * t.lethality, -t.attacker_reward, t.id))
    if not posts or not sites:
        return None
    cov = np.zeros(idx.n)
    for t in sites[:posts]:
        cov[idx.pos[t.id]] = 1.0
    d, i = _mean_effect(patrols)
    unit = UnitType(
        name=f"{f.id}:guards", force=f.id, kind="guard", detection_prob=d,
        interdiction_prob=i, staffed_hours=24.0,
    )  # fmt: skip
    return Deployment(unit, cov)


def build_plan(
    inp: PlanInputs,
    kind: str,
    *,
    extra: Mapping[str, int] | None = None,
    name: str | None = None,
) -> DefencePlan:
    """The ``static``, ``optimised`` or ``uncoordinated`` plan (``extra``: what-if additions)."""
    sc, a, idx, pl = inp.scenario, inp.assumptions, inp.index, inp.placements
    deps: list[Deployment] = []
    for f in sc.forces:
        if kind == "static":
            g = _static_guards(inp, f)
            if g is not None:
                deps.append(g)
        else:
            pres = inp.presence if kind == "optimised" else inp.presence_alone
            for uid, cov in inp.guards.get(kind, {}).items():
                unit = next((u for u in _units(f, "patrol") if u.id == uid), None)
                if unit is not None and cov.any():
                    guard = replace(_patrol_unit(f, unit), name=f"{uid}:guards", kind="guard")
                    deps.append(Deployment(guard, cov))
            for u in _units(f, "patrol"):
                if u.id in pres and pres[u.id].any():
                    deps.append(Deployment(_patrol_unit(f, u), pres[u.id]))
        cp_segments = (
            pl.static_checkpoints.get(f.id, [])
            if kind == "static"
            else (pl.checkpoints[f.id].selected_ if f.id in pl.checkpoints else [])
        )
        if cp_segments:
            cov = checkpoint_coverage(idx, cp_segments, inp.routes)
            deps.append(Deployment(_checkpoint_unit(f, a), cov))
        for u in _units(f, "camera"):
            src = pl.static_cameras if kind == "static" else pl.cameras
            if u.id in src:
                det = sensor_detection(idx, src[u.id], inp.routes, scale=u.detection_prob)
                deps.append(_sensor(u.id, f.id, "camera", det, a.camera_delay_min, False))
        for u in _units(f, "drone"):
            src = pl.static_drones if kind == "static" else pl.drones
            if u.id in src:
                det = sensor_detection(
                    idx, src[u.id], inp.routes, scale=u.detection_prob * u.shift_hours / 24.0
                )
                deps.append(_sensor(u.id, f.id, "drone", det, 1.0, True))
    deps.extend(_extras(inp, kind, extra or {}))
    qrf = _qrf_bases(inp, uncoordinated=kind == "uncoordinated", moved=kind != "static")
    handoff = a.handoff_uncoordinated_min if kind == "uncoordinated" else a.handoff_joint_min
    return DefencePlan(
        targets=idx.targets,
        deployments=tuple(deps),
        qrf=tuple(qrf) + tuple(_extra_qrf(inp, (extra or {}).get("qrf", 0))),
        handoff_delay_min=handoff,
        default_handoff_min=handoff,
        name=name or kind,
        notional=a.notional,
    )


def _sensor(
    name: str, force: str, kind: str, det: np.ndarray, delay: float, observable: bool
) -> Deployment:
    unit = UnitType(
        name=name, force=force, kind=kind, detection_prob=1.0, interdiction_prob=0.0,
        detection_delay_min=delay, observable=observable, staffed_hours=0.0,
    )  # fmt: skip
    return Deployment(unit, det)


def _qrf_bases(inp: PlanInputs, *, uncoordinated: bool, moved: bool) -> list[QRFBase]:
    out = []
    src = inp.placements.qrf_opt if moved else inp.placements.qrf
    for f, u in inp.scenario.units():
        if u.kind != "qrf" or u.id not in src:
            continue
        allowed = None
        if uncoordinated:
            allowed = {t.id for t in inp.index.targets.targets if t.force == f.id}
        travel = travel_minutes(inp.index, src[u.id], inp.routes, allowed=allowed)
        out.append(
            QRFBase(
                name=u.id,
                travel_min=travel,
                force=f.id,
                availability=inp.assumptions.qrf_availability,
                interdiction_prob=u.interdiction_prob,
                dispatch_delay_min=inp.assumptions.qrf_dispatch_delay_min,
            )
        )
    return out


def _top_targets(inp: PlanInputs, n: int) -> list[int]:
    """Target indices carrying the most simulated harm under the optimised plan (the first
    ``n``, cycling when ``n`` is larger than the number of targets with harm)."""
    pr = np.asarray(inp.priority if inp.priority is not None else inp.index.targets.harm)
    order = [int(j) for j in np.argsort(-pr, kind="stable") if pr[j] > 0] or [0]
    return [order[k % len(order)] for k in range(n)]


def _extras(inp: PlanInputs, kind: str, extra: Mapping[str, int]) -> list[Deployment]:
    """What-if additions, put where the optimised plan's simulated harm falls (round-robin over
    the targets with the most harm): ``patrols`` = more teams standing guard there
    (``count x shift / 24`` posts round the clock), ``drones`` = stations at those targets,
    ``cameras`` = cameras there."""
    out: list[Deployment] = []
    sc, idx, a = inp.scenario, inp.index, inp.assumptions
    patrols = [u for _, u in sc.units() if u.kind == "patrol"]
    n = int(extra.get("patrols", 0))
    if n > 0 and patrols:
        shift = patrols[0].shift_hours
        posts = max(1, round(n * shift / 24.0))
        d, i = _mean_effect(patrols)
        for k, j in enumerate(_top_targets(inp, posts)):
            cov = np.zeros(idx.n)
            cov[j] = 1.0
            unit = UnitType(
                name=f"extra_guard_{k}", force=idx.targets.targets[j].force, kind="guard",
                detection_prob=d, interdiction_prob=i, staffed_hours=24.0,
            )  # fmt: skip
            out.append(Deployment(unit, cov))
    for kind_ in ("drone", "camera"):
        m = int(extra.get(kind_ + "s", 0))
        units = [u for _, u in sc.units() if u.kind == kind_]
        if m <= 0 or not units:
            continue
        u0 = units[0]
        scale = u0.detection_prob * (u0.shift_hours / 24.0 if kind_ == "drone" else 1.0)
        for k, j in enumerate(_top_targets(inp, m)):
            det = np.zeros(idx.n)
            det[j] = scale
            delay = 1.0 if kind_ == "drone" else a.camera_delay_min
            force = idx.targets.targets[j].force
            out.append(_sensor(f"extra_{kind_}_{k}", force, kind_, det, delay, kind_ == "drone"))
    return out


def _extra_qrf(inp: PlanInputs, m: int) -> list[QRFBase]:
    """``m`` more QRF bases, chosen greedily among site access nodes and unit bases to cut the
    harm-weighted mean response time (the new team drives at the fastest QRF speed)."""
    if m <= 0:
        return []
    sc, idx, a = inp.scenario, inp.index, inp.assumptions
    qrf_units = [(f, u) for f, u in sc.units() if u.kind == "qrf"]
    speed = max((u.speed_kmh for _, u in qrf_units), default=60.0)
    cands = sorted({s.node for s in sc.sites if s.node} | {u.base for _, u in sc.units()})
    used = {q.bases[0] for q in inp.placements.qrf_opt.values()}
    cands = [c for c in cands if c not in used]
    pr = inp.priority if inp.priority is not None else idx.targets.harm
    weight = np.maximum(np.asarray(pr, dtype=float), 1e-6)
    current = [travel_minutes(idx, q, inp.routes) for q in inp.placements.qrf_opt.values()]
    best = np.min(current, axis=0) if current else np.full(idx.n, np.inf)
    out: list[QRFBase] = []
    reset_highs()
    cache = {
        c: travel_minutes(idx, QRFCoverage(sc, bases=[c], speed_kmh=speed).solve(), inp.routes)
        for c in cands
    }
    for j in range(m):
        now = best
        pick = min(
            cands,
            key=lambda c: (float(np.sum(weight * np.minimum(np.minimum(now, cache[c]), 600.0))), c),
        )
        cands.remove(pick)
        best = np.minimum(best, cache[pick])
        force = next((f.id for f in sc.forces if sc.node_in_jurisdiction(f.id, pick)), "")
        out.append(
            QRFBase(
                name=f"extra_qrf_{j}_{pick}",
                travel_min=cache[pick],
                force=force,
                availability=a.qrf_availability,
                interdiction_prob=0.8,
                dispatch_delay_min=a.qrf_dispatch_delay_min,
            )
        )
    return out
