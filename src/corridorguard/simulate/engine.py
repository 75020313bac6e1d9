"""Monte Carlo evaluation of defence plans: :class:`Simulation`, :func:`simulate`,
:func:`compare_plans`.

Model (per attacker-day)
------------------------
1. The attacker abstains (**deterred**) or picks a target: quantal response to the protection it
   observes (:class:`~corridorguard.simulate.model.StrategicAttacker`) or fixed probabilities
   from a risk forecast (:class:`~corridorguard.simulate.model.OpportunisticAttacker`).
2. Each deployment is present at the target with its coverage for that day (marginal, or the row
   of its schedule for a uniformly drawn day), detects with ``detection_prob`` after its
   ``detection_delay_min`` and stops the attack on the spot with ``interdiction_prob``.
3. The first detector alerts the fastest *ready* QRF base: arrival = detection delay + hand-off
   between forces (if they differ) + dispatch delay + travel; the QRF stops the attack with its
   ``interdiction_prob`` if it arrives before the attack ends (duration drawn per attack).
4. Harm = head count × lethality if the attack succeeds; with ``partial_harm`` an interdicted
   attack still causes the elapsed fraction ``min(1, stop time / duration)`` of it.

The civilian burden of checkpoints (vehicle-hours of delay, vehicles stopped) is a function of the
plan alone and is computed exactly from the coverage (:func:`civilian_burden`).

Reference: the security-game evaluation protocol of Pita et al., "Deployed ARMOR protection"
(AAMAS 2008) and the quantal-response attacker of McKelvey & Palfrey (1995) / Yang et al. (2012).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from corridorguard.errors import ConfigError, ValidationError
from corridorguard.simulate._kernel import ChunkStats, Job, compile_plan
from corridorguard.simulate.model import DefencePlan, OpportunisticAttacker, StrategicAttacker
from corridorguard.simulate.parallel import run_job
from corridorguard.simulate.results import PER_ATTACK, PER_DAY, Estimate, StatsView

__all__ = [
    "Comparison",
    "PlanResult",
    "Simulation",
    "civilian_burden",
    "compare_plans",
    "simulate",
]

Attacker = StrategicAttacker | OpportunisticAttacker
DEFAULT_CHUNK = 1 << 16


def civilian_burden(plan: DefencePlan) -> dict[str, Any]:
    """Expected civilian cost per day of the plan's checkpoints (and its day-to-day spread).

    Per deployment and target: vehicles passing while staffed = ``traffic_vph × staffed_hours``;
    delay = that × ``delay_min_per_vehicle`` / 60 vehicle-hours; stops = that × ``stop_fraction``.
    The mean weights by the coverage marginals (exact). The day-to-day standard deviation uses the
    schedule rows, or independent presence per target for marginal deployments, and treats
    deployments as independent of each other.
    """
    traffic = plan.targets.traffic_vph
    total = {
        "delay_vehicle_hours": [0.0, 0.0],
        "stops": [0.0, 0.0],
        "staffed_unit_hours": [0.0, 0.0],
    }
    by_force: dict[str, dict[str, float]] = {}
    for d in plan.deployments:
        u = d.unit
        per_target = {
            "delay_vehicle_hours": traffic * u.staffed_hours * u.delay_min_per_vehicle / 60.0,
            "stops": traffic * u.staffed_hours * u.stop_fraction,
            "staffed_unit_hours": np.full(traffic.shape, u.staffed_hours),
        }
        if u.delay_min_per_vehicle == 0 and u.stop_fraction == 0:
            continue
        f = by_force.setdefault(u.force, dict.fromkeys(total, 0.0))
        for key, w in per_target.items():
            cov = d.coverage
            if cov.ndim == 1:
                mean, var = float(cov @ w), float((cov * (1 - cov)) @ (w * w))
            else:
                per_day = cov @ w
                mean, var = float(per_day.mean()), float(per_day.var())
            total[key][0] += mean
            total[key][1] += var
            f[key] += mean
    out: dict[str, Any] = {
        k: {"mean_per_day": v[0], "sd_per_day": math.sqrt(v[1])} for k, v in total.items()
    }
    out["by_force"] = by_force
    return out


@dataclass
class PlanResult:
    """Outcomes of one plan against one attacker (estimates with confidence intervals)."""

    plan: str
    n_days: int
    seed: int
    confidence: float
    per_day: dict[str, Estimate]
    per_attack: dict[str, Estimate]
    response_quantiles_min: dict[str, float | None]
    by_target: list[dict[str, Any]]
    by_force: dict[str, dict[str, float]]
    burden: dict[str, Any]
    attacker: dict[str, Any]
    notional: bool = True
    attack_share_by_hour: list[float] | None = None
    """Share of attacker-days with an attack in each local hour (when time of day matters)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "n_days": self.n_days,
            "seed": self.seed,
            "confidence": self.confidence,
            "notional_inputs": self.notional,
            "per_day": {k: v.to_dict() for k, v in self.per_day.items()},
            "per_attack": {k: v.to_dict() for k, v in self.per_attack.items()},
            "response_quantiles_min": self.response_quantiles_min,
            "by_target": self.by_target,
            "by_force": self.by_force,
            "civilian_burden": self.burden,
            "attacker": self.attacker,
            "attack_share_by_hour": self.attack_share_by_hour,
        }


@dataclass
class Comparison:
    """Several plans simulated together with common random numbers."""

    baseline: str
    results: dict[str, PlanResult]
    differences: dict[str, dict[str, Estimate]]
    """``differences[plan][metric]`` = plan − baseline (paired)."""
    seed: int
    n_days: int
    _view: StatsView = field(repr=False)
    _index: dict[str, int] = field(repr=False)

    def difference(self, plan: str, other: str, metric: str) -> Estimate:
        """Paired difference ``plan − other`` for any two plans of the comparison."""
        try:
            return self._view.diff(self._index[plan], self._index[other], metric)
        except KeyError as exc:
            raise ValidationError(f"unknown plan or metric {exc.args[0]!r}", field="plan") from None

    def table(
        self, metrics: tuple[str, ...] = ("harm", "interdicted", "deterred", "succeeded")
    ) -> list[dict[str, Any]]:
        """One row per plan and metric: estimate, CI and the paired difference to the baseline."""
        rows = []
        for name, res in self.results.items():
            for m in metrics:
                est = res.per_day.get(m) or res.per_attack[m]
                d = self.differences[name][m]
                rows.append(
                    {
                        "plan": name,
                        "metric": m,
                        "mean": est.mean,
                        "low": est.low,
                        "high": est.high,
                        "diff_vs_baseline": d.mean,
                        "diff_low": d.low,
                        "diff_high": d.high,
                        "significant": d.excludes_zero,
                    }
                )
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "seed": self.seed,
            "n_days": self.n_days,
            "plans": {k: v.to_dict() for k, v in self.results.items()},
            "differences": {
                k: {m: e.to_dict() for m, e in v.items()} for k, v in self.differences.items()
            },
        }


class Simulation:
    """Monte Carlo evaluation of one or more defence plans against an attacker.

    Parameters
    ----------
    plans
        One plan or ``{name: plan}``; all plans must have the same target ids.
    attacker
        :class:`StrategicAttacker` or :class:`OpportunisticAttacker`.
    n_days
        Attacker-days to simulate.
    seed
        Non-negative integer seed (recorded in every result).
    chunk_size
        Attacker-days per chunk (each chunk has its own random streams; results do not depend on
        how chunks are spread over workers).
    workers
        Local processes (``None`` = all cores; ``1`` = inline).
    dask
        A ``distributed.Client`` or a scheduler address to run the chunks on.
    partial_harm
        Count the elapsed fraction of the harm of interdicted attacks.
    confidence
        Level of the confidence intervals.
    baseline
        Plan name the differences are taken against (default: the first plan).

    Attributes
    ----------
    results_ : dict[str, PlanResult]
    comparison_ : Comparison
    """

    def __init__(
        self,
        plans: DefencePlan | Mapping[str, DefencePlan],
        attacker: Attacker,
        *,
        n_days: int = 100_000,
        seed: int = 0,
        chunk_size: int = DEFAULT_CHUNK,
        workers: int | None = None,
        dask: Any = None,
        partial_harm: bool = True,
        confidence: float = 0.95,
        baseline: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.plans = {plans.name: plans} if isinstance(plans, DefencePlan) else dict(plans)
        self.attacker = attacker
        self.n_days = int(n_days)
        self.seed = seed
        self.chunk_size = int(chunk_size)
        self.workers = workers
        self.dask = dask
        self.partial_harm = partial_harm
        self.confidence = confidence
        self.baseline = baseline
        self.progress = progress

    def _validate(self) -> None:
        if not self.plans:
            raise ValidationError("no plan to simulate", field="plans")
        if self.n_days < 2:
            raise ConfigError("n_days must be >= 2", field="n_days")
        if self.chunk_size < 1:
            raise ConfigError("chunk_size must be >= 1", field="chunk_size")
        if not isinstance(self.seed, int | np.integer) or self.seed < 0:
            raise ConfigError("seed must be a non-negative integer", field="seed")
        if not 0 < self.confidence < 1:
            raise ConfigError("confidence must be in (0, 1)", field="confidence")
        ids = [p.targets.ids for p in self.plans.values()]
        if any(i != ids[0] for i in ids):
            raise ValidationError("plans compared must share the same targets", field="plans")
        if self.baseline is not None and self.baseline not in self.plans:
            raise ValidationError(f"unknown baseline plan {self.baseline!r}", field="baseline")

    def run(self) -> Simulation:
        """Simulate every plan; sets :attr:`results_` and :attr:`comparison_`."""
        self._validate()
        names = list(self.plans)
        forces = sorted(
            {d.unit.force for p in self.plans.values() for d in p.deployments}
            | {b.force for p in self.plans.values() for b in p.qrf}
        )
        compiled = tuple(compile_plan(self.plans[n], self.attacker, forces) for n in names)
        first = self.plans[names[0]]
        job = Job(
            plans=compiled,
            n_days=self.n_days,
            chunk_size=self.chunk_size,
            seed=int(self.seed),
            partial_harm=self.partial_harm,
            n_targets=len(first.targets),
            n_forces=len(forces),
        )
        stats = run_job(job, workers=self.workers, dask=self.dask, progress=self.progress)
        view = StatsView(stats, self.confidence)
        self.results_ = {
            n: self._plan_result(i, n, view, stats, forces, compiled[i].p_abstain)
            for i, n in enumerate(names)
        }
        base = self.baseline or names[0]
        index = {n: i for i, n in enumerate(names)}
        metrics = list(PER_DAY) + list(PER_ATTACK)
        diffs = {n: {m: view.diff(index[n], index[base], m) for m in metrics} for n in names}
        self.comparison_ = Comparison(
            base, self.results_, diffs, int(self.seed), self.n_days, view, index
        )
        return self

    def _plan_result(
        self,
        p: int,
        name: str,
        view: StatsView,
        stats: ChunkStats,
        forces: list[str],
        p_abstain: float,
    ) -> PlanResult:
        plan = self.plans[name]
        n = stats.n
        by_t = stats.by_target[p]
        by_target = [
            {
                "target": tid,
                "attack_share": float(by_t[0, j] / n),
                "interdiction_rate": float(by_t[1, j] / by_t[0, j]) if by_t[0, j] else None,
                "harm_per_day": float(by_t[2, j] / n),
            }
            for j, tid in enumerate(plan.targets.ids)
        ]
        keys = ("first_detections", "qrf_dispatches", "handoffs_out", "handoffs_in")
        by_force = {
            f: {k: float(stats.by_force[p, i, fi] / n) for i, k in enumerate(keys)}
            for fi, f in enumerate(forces)
        }
        att = self.attacker
        attacker: dict[str, Any] = {
            "kind": "strategic" if isinstance(att, StrategicAttacker) else "opportunistic",
            "p_abstain_model": p_abstain,
            "duration": {"kind": att.duration.kind, "mean_min": att.duration.mean_min},
        }
        if isinstance(att, StrategicAttacker):
            attacker |= {
                "rationality": att.rationality,
                "outside_option": att.outside_option,
                "observes": att.observes,
            }
        return PlanResult(
            plan=name,
            n_days=n,
            seed=int(self.seed),
            confidence=self.confidence,
            per_day={m: view.mean(p, m) for m in PER_DAY},
            per_attack={m: view.ratio(p, m) for m in PER_ATTACK},
            response_quantiles_min=view.response_quantiles(p),
            by_target=by_target,
            by_force=by_force,
            burden=civilian_burden(plan),
            attacker=attacker,
            notional=plan.notional or plan.targets.notional,
            attack_share_by_hour=(
                [float(x / n) for x in stats.by_hour[p]] if plan.hours > 1 else None
            ),
        )


def simulate(
    plan: DefencePlan, attacker: Attacker, *, n_days: int = 100_000, seed: int = 0, **options: Any
) -> PlanResult:
    """Simulate one plan; ``options`` as for :class:`Simulation`."""
    sim = Simulation(plan, attacker, n_days=n_days, seed=seed, **options).run()
    return sim.results_[plan.name]


def compare_plans(
    plans: Mapping[str, DefencePlan],
    attacker: Attacker,
    n_days: int = 100_000,
    seed: int = 0,
    **options: Any,
) -> Comparison:
    """Simulate ``{name: plan}`` together (common random numbers) and difference them.

    The first plan (or ``baseline=``) is the reference; ``Comparison.table()`` lists each plan's
    estimates and its paired difference to the baseline with a confidence interval.
    """
    return Simulation(plans, attacker, n_days=n_days, seed=seed, **options).run().comparison_
