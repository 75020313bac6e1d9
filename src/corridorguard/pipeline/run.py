"""``run_plan``: forecast -> games and patrols -> placement -> convoys -> simulation -> outputs."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from corridorguard.errors import ValidationError
from corridorguard.games import coordination_value, game_from_scenario
from corridorguard.patrol import PatrolConfig, PatrolPlan, plan_patrols, sample_day
from corridorguard.patrol.schedule import day_start
from corridorguard.pipeline.coverage import TargetIndex, patrol_presence
from corridorguard.pipeline.forecast import Forecast, events_from, forecast_risk
from corridorguard.pipeline.plans import (
    Assumptions,
    Placements,
    PlanInputs,
    attack_weights,
    build_plan,
    convoy_days,
    convoy_routes,
    patrol_risk,
    route_mix,
    sim_targets,
    solve_placements,
)
from corridorguard.routing.convoy import ConvoyRouter
from corridorguard.scenario import Scenario, load_scenario
from corridorguard.simulate import Comparison, WhatIf, compare_plans, what_if

__all__ = ["PlanResult", "SimSizes", "run_plan"]

Progress = Callable[[str, int, int | None], None]

SLOT_MINUTES = 60.0
WHAT_IF_LEVELS: dict[str, list[int]] = {
    "patrols": [0, 6, 12],
    "drones": [0, 2, 4],
    "cameras": [0, 10, 20],
    "qrf": [0, 1, 2],
}


@dataclass(frozen=True)
class SimSizes:
    """Monte Carlo sizes: attacker-days for the plan comparison and per what-if plan."""

    compare_days: int = 200_000
    what_if_days: int = 40_000
    workers: int | None = None


@dataclass
class PlanResult:
    """Everything the pipeline produced (``to_dict()`` is ``plan.json``)."""

    scenario: Scenario
    seed: int
    days: int
    forecast: Forecast
    game: dict[str, Any]
    patrol: PatrolPlan
    placements: Placements
    convoys: dict[str, ConvoyRouter]
    comparison: Comparison
    what_if: WhatIf
    assumptions: Assumptions
    sizes: SimSizes
    incidents_source: str
    timings: dict[str, float] = field(default_factory=dict)
    files: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from corridorguard.pipeline.document import plan_document

        return plan_document(self)


def _stage(progress: Progress | None, name: str) -> Callable[[int, int | None], None]:
    def update(done: int, total: int | None = None) -> None:
        if progress is not None:
            progress(name, done, total)

    return update


GUARD_SHARE = 0.5
"""Share of each patrol unit's round-the-clock capacity posted as site guards (games engine);
the rest patrols the roads (patrol engine)."""


def guard_posts(unit: Any) -> tuple[int, int]:
    """(site-guard posts staffed 24/7, teams they take) for a patrol unit."""
    posts = int(unit.count * unit.shift_hours / 24.0 * GUARD_SHARE)
    teams = min(unit.count, int(np.ceil(posts * 24.0 / unit.shift_hours)))
    return posts, teams


def _split_scenario(scenario: Scenario, part: str) -> Scenario:
    """Only patrol units: ``guards`` with their guard posts as count, or ``routes`` with the
    teams left for road patrols (checkpoints, sensors and QRF are placed separately)."""
    forces = []
    for f in scenario.forces:
        units = []
        for u in f.units:
            if u.kind != "patrol":
                continue
            posts, teams = guard_posts(u)
            n = posts if part == "guards" else u.count - teams
            if n > 0:
                units.append(u.model_copy(update={"count": n}))
        forces.append(f.model_copy(update={"units": tuple(units)}))
    return scenario.model_copy(update={"forces": tuple(forces)})


def _patrol_scenario(scenario: Scenario) -> Scenario:
    return _split_scenario(scenario, "routes")


def _solve_game(scenario: Scenario, targets: Any) -> tuple[dict[str, Any], Any]:
    """The site game with the attacker's reward proportional to the simulator's (risk-weighted)
    reward: ``site_risk_s = R_s / v_s`` with ``risk_floor = 0`` gives ``R^a_s ∝ R_s``."""
    from corridorguard.games.scenario_game import site_value

    reward = {t.id: t.attacker_reward for t in targets.targets if t.kind == "site"}
    risk = {s.id: reward.get(s.id, 0.0) / max(site_value(s), 1e-9) for s in scenario.sites}
    game = game_from_scenario(
        _split_scenario(scenario, "guards"), site_risk=risk, unit_kinds=("patrol",), risk_floor=0.0
    )
    res = coordination_value(game)
    return {
        "targets": "sites",
        "unit_kinds": ["patrol (site-guard posts)"],
        "guard_share": GUARD_SHARE,
        **res.to_dict(),
        "note": "site-level Stackelberg game (games engine): how often each site gets a guard "
        "post, drawn afresh every day; the remaining patrol teams drive the patrol engine's routes",
    }, res


def _alone_schedules(plan: PatrolPlan, days: int, seed: int) -> dict[str, list[list[Any]]]:
    out: dict[str, list[list[Any]]] = {}
    cfg = plan.config
    for k, (fid, sol) in enumerate(sorted(plan.uncoordinated.items())):
        rng = np.random.default_rng([seed, 7919, k])
        out[fid] = [
            sample_day(
                sol.graph,
                sol.strategies,
                rng,
                day=d,
                t0=day_start(cfg.start_date, d, cfg.utc_offset_hours),
            )
            for d in range(days)
        ]
    return out


def _presence(
    index: TargetIndex,
    schedules: Sequence[Sequence[Any]],
    units: Sequence[str],
    starts: Sequence[Any],
    cdays: dict[str, Any],
) -> dict[str, np.ndarray]:
    return {
        u: patrol_presence(index, schedules, u, day_starts=starts, convoys=cdays) for u in units
    }


QR_LAMBDA = 0.5
"""Rationality of the quantal-response attacker the site-guard game is solved against."""


def _guard_coverage(coord: Any, index: TargetIndex) -> dict[str, dict[str, np.ndarray]]:
    """Per plan kind and unit id: marginal site-guard coverage over simulator targets.

    Solved with the games engine's quantal-response solver (``qr``), jointly and per force alone.
    The SSE solvers stop covering once the attacked target is settled (any coverage elsewhere is
    equally optimal for them); against the simulator's quantal-response attacker every post
    counts, so the QR solution is the one deployed. The SSE joint/uncoordinated values are still
    reported as the games engine's value of coordination.
    """
    from corridorguard.games import solve
    from corridorguard.games.coordination import restrict

    game = coord.joint.game
    ids = list(game.ids)
    out: dict[str, dict[str, np.ndarray]] = {"optimised": {}, "uncoordinated": {}}
    joint = solve(game, "qr", lam=QR_LAMBDA)
    _put(out["optimised"], game, joint.type_coverage, ids, index)
    elig = game.eligibility()
    for agency in sorted({rt.agency for rt in game.resource_types}):
        types = [r for r, rt in enumerate(game.resource_types) if rt.agency == agency]
        targets = np.flatnonzero(elig[types].any(axis=0))
        if targets.size == 0:
            continue
        sub = restrict(game, targets, types)
        sol = solve(sub, "qr", lam=QR_LAMBDA)
        _put(out["uncoordinated"], sub, sol.type_coverage, [ids[t] for t in targets], index)
    return out


def _deployed_summary(
    guards: dict[str, dict[str, np.ndarray]], index: TargetIndex, sc: Scenario
) -> dict[str, Any]:
    """Site -> share of days with a guard post (summed over units, capped at 1) per plan."""
    out: dict[str, Any] = {"solver": "qr", "lam": QR_LAMBDA}
    for kind, per_unit in guards.items():
        total = np.zeros(index.n)
        for cov in per_unit.values():
            total += cov
        out[kind] = {s.id: float(min(1.0, total[index.pos[s.id]])) for s in sc.sites}
    return out


def _put(
    dst: dict[str, np.ndarray], game: Any, tc: Any, ids: list[str], index: TargetIndex
) -> None:
    if tc is None:
        return
    for r, rt in enumerate(game.resource_types):
        cov = np.zeros(index.n)
        for j, sid in enumerate(ids):
            if sid in index.pos:
                cov[index.pos[sid]] = tc[r, j]
        dst[rt.id] = np.clip(cov, 0.0, 1.0)


def _incidents(sc: Scenario, incidents: Sequence[Any] | None, source: str) -> tuple[list[Any], str]:
    if incidents is not None:
        return list(incidents), source or "given records"
    from corridorguard.incidents import BUILTIN_LAYERS, builtin_incidents

    if sc.name in BUILTIN_LAYERS:
        return builtin_incidents(sc.name), source or f"built-in {sc.name} incident layer"
    return [], "none (no built-in incident layer for this scenario)"


@dataclass
class _Timer:
    progress: Progress | None
    timings: dict[str, float] = field(default_factory=dict)

    def stage(self, name: str) -> Callable[[int, int | None], None]:
        return _stage(self.progress, name)

    def lap(self, name: str, t0: float) -> float:
        now = time.perf_counter()
        self.timings[name] = now - t0
        return now


def _engines(
    sc: Scenario, fc: Forecast, *, days: int, seed: int, a: Assumptions, clock: _Timer
) -> tuple[PatrolPlan, Placements, dict[str, ConvoyRouter]]:
    """Joint patrol plan, placements and convoy routes."""
    t = time.perf_counter()
    pstage = clock.stage("patrols")
    weights = attack_weights(sc, fc.site_risk(), fc.edge_risk_per_km())
    psc = _patrol_scenario(sc)
    patrol = plan_patrols(
        psc,
        PatrolConfig(days=days, slot_minutes=SLOT_MINUTES, seed=seed),
        risk=patrol_risk(psc, weights, slot_minutes=SLOT_MINUTES),
        progress=lambda _s, done, total: pstage(done, total),
    )
    t = clock.lap("patrols", t)
    clock.stage("placement")(0, 2)
    placements = solve_placements(
        sc, edge_risk=fc.relative_edge_risk(), site_risk=fc.consequence_site_risk(sc), assumptions=a
    )
    clock.stage("placement")(1, 2)
    routers = convoy_routes(sc, fc.relative_edge_risk(), days=days, seed=seed)
    clock.stage("placement")(2, 2)
    clock.lap("placement_routing", t)
    return patrol, placements, routers


def _plan_inputs(
    sc: Scenario,
    patrol: PatrolPlan,
    placements: Placements,
    routers: dict[str, ConvoyRouter],
    *,
    days: int,
    seed: int,
    a: Assumptions,
    clock: _Timer,
) -> tuple[PlanInputs, dict[str, Any]]:
    """Map every engine's result onto the simulator's targets; solve the site-guard game."""
    etas = {cid: r.routes_[0].eta_s for cid, r in routers.items()}
    index = TargetIndex(sim_targets(sc, etas), sc)
    t = time.perf_counter()
    clock.stage("game")(0, 1)
    game, coord = _solve_game(sc, index.targets)
    clock.stage("game")(1, 1)
    clock.lap("game", t)
    cdays = convoy_days(routers)
    cfg = patrol.config
    starts = [day_start(cfg.start_date, d, cfg.utc_offset_hours) for d in range(days)]
    units = [u.id for _, u in sc.units() if u.kind == "patrol"]
    presence = _presence(index, patrol.schedules, units, starts, cdays)
    alone: dict[str, np.ndarray] = {}
    for _fid, sched in _alone_schedules(patrol, days, seed).items():
        alone |= _presence(index, sched, units, starts, cdays)
    alone = {u: v for u, v in alone.items() if v.any()}
    inp = PlanInputs(sc, index, placements, presence, alone, route_mix(routers), a)
    inp.guards = _guard_coverage(coord, index)
    game["deployed"] = _deployed_summary(inp.guards, index, sc)
    return inp, game


def _evaluate(
    inp: PlanInputs, *, seed: int, sizes: SimSizes, dask: Any, clock: _Timer
) -> tuple[Comparison, WhatIf]:
    """Static vs optimised vs uncoordinated on common random numbers, then what-if curves."""
    t = time.perf_counter()
    plans = {k: build_plan(inp, k) for k in ("static", "optimised", "uncoordinated")}
    attacker = inp.assumptions.attacker()
    opts: dict[str, Any] = {"dask": dask} if dask else {}
    if sizes.workers is not None:
        opts["workers"] = sizes.workers
    comparison = compare_plans(
        plans, attacker, n_days=sizes.compare_days, seed=seed,
        progress=clock.stage("simulate"), **opts,
    )  # fmt: skip
    t = clock.lap("simulate", t)
    by_target = comparison.results["optimised"].by_target
    inp.priority = np.array([float(x["harm_per_day"]) for x in by_target])
    wi = what_if(
        lambda lv: build_plan(inp, "optimised", extra=lv, name=_label(lv)),
        WHAT_IF_LEVELS, attacker, n_days=sizes.what_if_days, seed=seed,
        progress=clock.stage("what-if"), **opts,
    )  # fmt: skip
    clock.lap("what_if", t)
    return comparison, wi


def run_plan(
    scenario: Scenario | str,
    incidents: Sequence[Any] | None = None,
    *,
    days: int,
    seed: int,
    out_dir: str | Path | None = None,
    progress: Progress | None = None,
    dask: Any = None,
    sizes: SimSizes | None = None,
    assumptions: Assumptions | None = None,
    incidents_source: str = "",
) -> PlanResult:
    """Run the whole planning job; see ``docs/user-guide.md``.

    ``incidents``: incident records (``Incident`` objects or dicts with lon, lat, time); ``None``
    uses the scenario's built-in incident layer (``cpec``), if any, else no history (a flat
    prior). ``days``: plan length (patrol schedules, convoy schedules and the forecast horizon).
    Everything random derives from ``seed``, recorded in the result.
    """
    if days < 1:
        raise ValidationError("must be >= 1", field="days")
    sc = load_scenario(scenario) if isinstance(scenario, str) else scenario
    sizes = sizes or SimSizes()
    a = assumptions or Assumptions()
    clock = _Timer(progress)
    t = time.perf_counter()
    records, source = _incidents(sc, incidents, incidents_source)
    clock.stage("forecast")(0, None)
    fc = forecast_risk(
        sc, events_from(records), horizon_days=days, seed=seed, progress=clock.stage("forecast")
    )
    clock.stage("forecast")(1, 1)
    clock.lap("forecast", t)
    patrol, placements, routers = _engines(sc, fc, days=days, seed=seed, a=a, clock=clock)
    inp, game = _plan_inputs(
        sc, patrol, placements, routers, days=days, seed=seed, a=a, clock=clock
    )
    comparison, wi = _evaluate(inp, seed=seed, sizes=sizes, dask=dask, clock=clock)
    result = PlanResult(
        scenario=sc, seed=seed, days=days, forecast=fc, game=game, patrol=patrol,
        placements=placements, convoys=routers, comparison=comparison, what_if=wi,
        assumptions=a, sizes=sizes, incidents_source=source, timings=clock.timings,
    )  # fmt: skip
    if out_dir is not None:
        from corridorguard.pipeline.outputs import write_outputs

        t = time.perf_counter()
        write_outputs(result, Path(out_dir), progress=clock.stage("report"))
        result.timings["outputs"] = time.perf_counter() - t
    return result


def _label(levels: dict[str, int]) -> str:
    parts = [f"+{v} {k}" for k, v in sorted(levels.items()) if v]
    return "optimised" + (" " + ", ".join(parts) if parts else "")
