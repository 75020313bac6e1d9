"""The patrol planning job: joint and uncoordinated plans, daily schedules, the report.

:func:`plan_patrols` values the targets, builds the time-expanded graph of every patrolling unit
of every force (each restricted to its force's jurisdiction) and solves the Stackelberg game
jointly. It then solves the *uncoordinated* case — each force alone, for the targets of its own
jurisdiction, as if the other did not exist — evaluates the sum of the two plans against the same
attacker, and reports the difference in defender utility as the value of coordination. Finally it
draws seeded daily schedules from the joint plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from corridorguard.errors import ValidationError
from corridorguard.patrol._lp import Evaluation, evaluate_coverage
from corridorguard.patrol.colgen import ColumnGenerationSolver, RouteRules
from corridorguard.patrol.graph import PatrolGraph, build_patrol_graph
from corridorguard.patrol.schedule import (
    EditCheck,
    Route,
    check_edits,
    day_start,
    entropy_bits,
    evaluate_strategies,
    raw_coverage,
    sample_day,
    strategy_entropy,
)
from corridorguard.patrol.solvers import FlowPatrolSolver, HandOff, LayerStrategy
from corridorguard.patrol.targets import RiskMapping, TargetSet, TargetWeights, build_targets
from corridorguard.scenario import Scenario

__all__ = ["PatrolConfig", "PatrolPlan", "PlanSolution", "plan_patrols"]

IntArray = NDArray[np.int64]
Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``."""


@dataclass(frozen=True)
class PatrolConfig:
    """Everything a patrol plan depends on (recorded in the plan)."""

    days: int = 7
    slot_minutes: float = 60.0
    shift_hours: float | None = None
    """Override every unit's shift length (default: each unit's own)."""
    seed: int = 0
    method: str = "sse"
    max_candidates: int | None = 200
    candidate_seconds: float | None = 120.0
    """Time budget of the SSE candidate search per game (then ``exact`` is false)."""
    max_consecutive_hours: float | None = None
    min_rest_hours: float = 0.0
    handoffs: tuple[HandOff, ...] = ()
    weights: TargetWeights = field(default_factory=TargetWeights)
    start_date: date = date(2026, 1, 1)
    utc_offset_hours: float = 0.0
    """Local time = UTC + offset; slots are local time of day."""
    entropy_threshold: float | None = None

    def rules(self) -> RouteRules | None:
        if self.max_consecutive_hours is None and self.min_rest_hours <= 0:
            return None
        return RouteRules.from_hours(
            slot_minutes=self.slot_minutes,
            max_consecutive_hours=self.max_consecutive_hours,
            min_rest_hours=self.min_rest_hours,
        )


@dataclass(frozen=True)
class PlanSolution:
    """One solved game: its graph, route strategies and the attacker's response to them."""

    graph: PatrolGraph
    strategies: list[LayerStrategy]
    evaluation: Evaluation
    exact: bool
    solver: str
    seconds: float
    reachable: NDArray[np.bool_]
    """Targets some allowed route covers (under the route rules, if any)."""
    upper_bound: float = float("inf")
    """No plan gives the defender more (equal to the utility when ``exact``)."""


@dataclass(frozen=True)
class PatrolPlan:
    """A joint patrol plan with its uncoordinated counterpart and sampled daily schedules."""

    scenario: Scenario
    config: PatrolConfig
    targets: TargetSet
    joint: PlanSolution
    uncoordinated: dict[str, PlanSolution]
    uncoordinated_evaluation: Evaluation
    schedules: list[list[Route]]
    """Per day, every resource's route."""
    overrides: tuple[EditCheck, ...] = ()
    """Manual edits applied with :meth:`apply_edits`, kept visible in the report."""

    def apply_edits(
        self, edits: Mapping[str, IntArray], *, entropy_threshold: float | None = None
    ) -> tuple[PatrolPlan, EditCheck]:
        """Pin routes by hand (layer key -> arcs, see
        :func:`~corridorguard.patrol.schedule.route_from_waypoints`) and redraw the schedules with
        the same seed. The returned plan lists the edit and its warnings under ``overrides``."""
        g = self.joint.graph
        threshold = entropy_threshold
        if threshold is None:
            threshold = self.config.entropy_threshold
        new, check = check_edits(g, self.joint.strategies, edits, entropy_threshold=threshold)
        joint = replace(self.joint, strategies=new, evaluation=evaluate_strategies(g, new))
        schedules = _draw(g, new, self.config)
        plan = replace(self, joint=joint, schedules=schedules, overrides=(*self.overrides, check))
        return plan, check

    @property
    def value_of_coordination(self) -> float:
        return (
            self.joint.evaluation.defender_utility - self.uncoordinated_evaluation.defender_utility
        )

    @property
    def predictability_bits(self) -> float:
        return strategy_entropy(self.joint.strategies)

    def coverage_by_class(self, ev: Evaluation) -> dict[str, dict[str, float]]:
        classes = self.targets.classes()
        v = self.targets.value
        out = {}
        for c in ("segment", "convoy_segment", "site"):
            m = classes == c
            if not m.any():
                continue
            cov = ev.coverage[m]
            vw = float((cov * v[m]).sum() / v[m].sum()) if v[m].sum() > 0 else 0.0
            out[c] = {
                "targets": int(m.sum()),
                "mean_coverage": float(cov.mean()),
                "value_weighted_coverage": vw,
                "min_coverage": float(cov.min()),
            }
        return out

    def realised_evaluation(self) -> Evaluation:
        """The sampled days' own outcome, with *non-additive* coverage.

        Per day and target: the probability that at least one crew present stops an attack,
        ``1 - Π (1 - p)`` over the crews' presences that day; averaged over the sampled days and
        evaluated against a best-responding attacker. It converges (as days grow) to at most the
        planned additive coverage, which is an upper bound on it.
        """
        g = self.joint.graph
        n = self.targets.n
        layer = {ly.key: ly for ly in g.layers}
        total = np.zeros(n)
        for routes in self.schedules:
            log_miss = np.zeros(n)
            for r in routes:
                ly = layer[r.layer]
                hits = ly.cover[r.arcs]
                counts = np.bincount(hits.indices, weights=hits.data, minlength=n)
                log_miss += counts * np.log1p(-min(ly.effectiveness, 1 - 1e-12))
            total += 1.0 - np.exp(log_miss)
        t = self.targets
        return evaluate_coverage(
            total / max(1, len(self.schedules)),
            t.attacker_reward,
            t.attacker_penalty,
            t.defender_reward,
            t.defender_penalty,
        )

    def gaps(self, top: int = 10) -> list[dict[str, object]]:
        """The most valuable targets no patrol can reach at all (too far from every base in the
        time a shift allows): what more units or other bases would have to fix."""
        cov = self.joint.reachable
        v = np.where(cov, -np.inf, self.targets.value)
        order = [
            int(j) for j in np.argsort(-v, kind="stable")[:top] if np.isfinite(v[j]) and v[j] > 0
        ]
        return [{**self.targets.describe(j), "value": float(self.targets.value[j])} for j in order]

    def checkpoint_burden(self) -> float:
        """Expected vehicles passing a checkpoint team per day (civilian burden proxy)."""
        sc, g = self.scenario, self.joint.graph
        traffic_at = np.zeros(len(sc.nodes))
        idx = sc.node_index
        for e in sc.edges:
            traffic_at[idx[e.source]] += e.traffic_vph
            traffic_at[idx[e.target]] += e.traffic_vph
        hours = self.targets.slot_minutes / 60
        total = 0.0
        for ly, st in zip(g.layers, self.joint.strategies, strict=True):
            if ly.kind != "checkpoint":
                continue
            for path, w in zip(st.paths, st.weights, strict=True):
                waits = path[ly.arc_edge[path] == -1]
                total += w * hours * float(traffic_at[ly.state_node[ly.arc_tail[waits]]].sum())
        return total

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``corridorguard patrol plan --json``."""
        cfg = self.config
        joint, unc = self.joint.evaluation, self.uncoordinated_evaluation
        real = self.realised_evaluation()
        forces: dict[str, Any] = {}
        for f in self.scenario.forces:
            units: dict[str, Any] = {}
            for ly, st in zip(self.joint.graph.layers, self.joint.strategies, strict=True):
                if ly.force_id != f.id:
                    continue
                count = next(x.count for x in f.units if x.id == ly.unit_id)
                u = units.setdefault(
                    ly.unit_id,
                    {"kind": ly.kind, "count": count, "entropy_bits": 0.0, "days": []},
                )
                u["entropy_bits"] += entropy_bits(st.weights)
            for day, routes in enumerate(self.schedules):
                for uid, u in units.items():
                    mine = [r.to_dict() for r in routes if r.unit_id == uid]
                    when = (cfg.start_date + timedelta(days=day)).isoformat()
                    u["days"].append({"day": day, "date": when, "routes": mine})
            forces[f.id] = {"name": f.name, "units": units}
        return {
            "scenario": self.scenario.name,
            "labels": dict(self.scenario.labels),
            "days": cfg.days,
            "slot_minutes": cfg.slot_minutes,
            "shift_hours": cfg.shift_hours,
            "seed": cfg.seed,
            "method": cfg.method,
            "solver": self.joint.solver,
            "exact": self.joint.exact,
            "defender_utility_upper_bound": self.joint.upper_bound,
            "start_date": cfg.start_date.isoformat(),
            "utc_offset_hours": cfg.utc_offset_hours,
            "defender_utility": joint.defender_utility,
            "attacker_utility": joint.attacker_utility,
            "attacked_target": self.targets.describe(joint.attacked_target),
            "uncoordinated": {
                "defender_utility": unc.defender_utility,
                "attacker_utility": unc.attacker_utility,
                "attacked_target": self.targets.describe(unc.attacked_target),
                "per_force_seconds": {k: v.seconds for k, v in self.uncoordinated.items()},
            },
            "value_of_coordination": self.value_of_coordination,
            "coverage": self.coverage_by_class(joint),
            "coverage_uncoordinated": self.coverage_by_class(unc),
            "realised": {
                "note": "the sampled days themselves, non-additive coverage (1 - prod(1 - p))",
                "days": len(self.schedules),
                "defender_utility": real.defender_utility,
                "attacker_utility": real.attacker_utility,
                "coverage": self.coverage_by_class(real),
            },
            "predictability": {
                "entropy_bits_per_day": self.predictability_bits,
                "effective_choices_log10": self.predictability_bits * float(np.log10(2)),
                "threshold_bits": cfg.entropy_threshold,
            },
            "gaps": self.gaps(),
            "civilian_burden": {"checkpoint_vehicles_per_day": self.checkpoint_burden()},
            "solve_seconds": self.joint.seconds,
            "skipped_units": list(self.joint.graph.skipped),
            "overrides": [c.to_dict() for c in self.overrides],
            "forces": forces,
        }


def _jurisdiction_mask(scenario: Scenario, targets: TargetSet, force_id: str) -> NDArray[np.bool_]:
    T = targets.n_slots
    seg = np.repeat([scenario.edge_in_jurisdiction(force_id, e) for e in scenario.edges], T)
    site = np.repeat(
        [
            s.node is not None and scenario.node_in_jurisdiction(force_id, s.node)
            for s in scenario.sites
        ],
        T,
    )
    return np.concatenate([seg.astype(bool), site.astype(bool)])


def _solve(graph: PatrolGraph, cfg: PatrolConfig) -> PlanSolution:
    rules = cfg.rules()
    solver: FlowPatrolSolver | ColumnGenerationSolver
    if rules is None:
        solver = FlowPatrolSolver(
            graph,
            method=cfg.method,
            handoffs=cfg.handoffs,
            max_candidates=cfg.max_candidates,
            candidate_seconds=cfg.candidate_seconds,
        )
        name = "flow-lp"
    else:
        solver = ColumnGenerationSolver(
            graph,
            rules=rules,
            method=cfg.method,
            handoffs=cfg.handoffs,
            max_candidates=cfg.max_candidates,
        )
        name = "column-generation"
    solver.solve()
    return PlanSolution(
        graph,
        solver.strategies_,
        evaluate_strategies(graph, solver.strategies_),
        solver.exact_,
        name,
        solver.solve_seconds_,
        solver.coverable() if isinstance(solver, ColumnGenerationSolver) else graph.coverable(),
        solver.upper_bound_,
    )


def plan_patrols(
    scenario: Scenario,
    config: PatrolConfig | None = None,
    *,
    risk: RiskMapping | None = None,
    progress: Progress | None = None,
) -> PatrolPlan:
    """Solve the joint and uncoordinated patrol games and draw ``config.days`` daily schedules."""
    cfg = config or PatrolConfig()
    if cfg.days < 1:
        raise ValidationError("at least one day", field="days")
    report = progress or (lambda stage, done, total: None)
    forces = [f.id for f in scenario.forces]
    steps = 2 + len(forces)
    report("solve", 0, steps)
    targets = build_targets(scenario, slot_minutes=cfg.slot_minutes, risk=risk, weights=cfg.weights)
    graph = build_patrol_graph(scenario, targets, shift_hours=cfg.shift_hours)
    if not graph.layers:
        raise ValidationError(
            "no patrolling unit (patrol, checkpoint or drone) in the scenario", field="forces"
        )
    joint = _solve(graph, cfg)
    report("solve", 1, steps)
    alone: dict[str, PlanSolution] = {}
    s_total = np.zeros(targets.n)
    own_handoffs = cfg.handoffs
    for k, f in enumerate(forces):
        mine = targets.restricted(_jurisdiction_mask(scenario, targets, f))
        g_f = build_patrol_graph(scenario, mine, forces=(f,), shift_hours=cfg.shift_hours)
        if g_f.layers:
            own = tuple(
                HandOff(h.node, h.slot, tuple(x for x in h.forces if x == f), h.min_presence)
                for h in own_handoffs
            )
            sub = replace(cfg, handoffs=own)
            sol = _solve(g_f, sub)
            alone[f] = sol
            s_total += raw_coverage(g_f, sol.strategies)
        report("solve", 2 + k, steps)
    unc = evaluate_coverage(
        s_total,
        targets.attacker_reward,
        targets.attacker_penalty,
        targets.defender_reward,
        targets.defender_penalty,
    )
    report("solve", steps, steps)
    schedules = _draw(graph, joint.strategies, cfg, lambda d: report("sample", d, cfg.days))
    return PatrolPlan(scenario, cfg, targets, joint, alone, unc, schedules)


def _draw(
    graph: PatrolGraph,
    strategies: list[LayerStrategy],
    cfg: PatrolConfig,
    done: Callable[[int], None] | None = None,
) -> list[list[Route]]:
    """``cfg.days`` daily schedules from ``numpy.random.default_rng(cfg.seed)``."""
    rng = np.random.default_rng(cfg.seed)
    schedules = []
    for d in range(cfg.days):
        t0 = day_start(cfg.start_date, d, cfg.utc_offset_hours)
        schedules.append(sample_day(graph, strategies, rng, day=d, t0=t0))
        if done is not None:
            done(d + 1)
    return schedules
