"""Plan comparison helpers: a static baseline builder and what-if resource curves."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from corridorguard.errors import ValidationError
from corridorguard.simulate.engine import Attacker, Comparison, Simulation
from corridorguard.simulate.model import (
    DefencePlan,
    Deployment,
    QRFBase,
    TargetSet,
    UnitType,
)
from corridorguard.simulate.results import PER_ATTACK, Estimate

__all__ = ["WhatIf", "static_baseline", "what_if"]


def _top(targets: TargetSet, kinds: tuple[str, ...], count: int, priority: np.ndarray) -> list[int]:
    idx = [i for i, t in enumerate(targets.targets) if t.kind in kinds]
    idx.sort(key=lambda i: (-priority[i], i))
    return idx[: max(count, 0)]


def static_baseline(
    targets: TargetSet,
    *,
    guard: UnitType,
    n_guards: int,
    checkpoint: UnitType | None = None,
    n_checkpoints: int = 0,
    qrf: Sequence[QRFBase] = (),
    handoff_delay_min: float | Mapping[tuple[str, str], float] = 0.0,
    priority: Sequence[float] | None = None,
    name: str = "static",
) -> DefencePlan:
    """Today's practice: fixed guards at the most critical sites and fixed checkpoints.

    Guards stand every day at the ``n_guards`` sites (kind ``site``) with the highest
    ``priority`` (default: expected harm ``workers × lethality``, then the attacker's reward);
    checkpoints stand every day on the ``n_checkpoints`` road segments (kind ``segment``) with the
    highest priority. Coverage is 1 there and 0 elsewhere: a pure, predictable plan.
    """
    n = len(targets)
    if priority is None:
        prio = targets.harm + 1e-9 * targets.reward
    else:
        prio = np.asarray(priority, dtype=float)
        if prio.shape != (n,):
            raise ValidationError(f"priority needs {n} values", field="priority")
    deployments = []
    if n_guards > 0:
        cov = np.zeros(n)
        cov[_top(targets, ("site",), n_guards, prio)] = 1.0
        deployments.append(Deployment(guard, cov))
    if checkpoint is not None and n_checkpoints > 0:
        cov = np.zeros(n)
        cov[_top(targets, ("segment",), n_checkpoints, prio)] = 1.0
        deployments.append(Deployment(checkpoint, cov))
    return DefencePlan(
        targets=targets,
        deployments=tuple(deployments),
        qrf=tuple(qrf),
        handoff_delay_min=handoff_delay_min,
        name=name,
    )


@dataclass
class WhatIf:
    """Marginal value curves: one curve per resource, others held at the base levels."""

    base: dict[str, int]
    curves: dict[str, list[dict[str, Any]]]
    comparison: Comparison
    metric: str

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base, "metric": self.metric, "curves": self.curves}


def _label(levels: Mapping[str, int]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(levels.items()))


def what_if(
    build_plan: Callable[[dict[str, int]], DefencePlan],
    resources: Mapping[str, Sequence[int]],
    attacker: Attacker,
    *,
    base: Mapping[str, int] | None = None,
    n_days: int = 50_000,
    seed: int = 0,
    metric: str = "harm",
    **options: Any,
) -> WhatIf:
    """Marginal value of each resource: vary one at a time, simulate all plans together.

    ``build_plan(levels)`` returns the plan for ``{"patrols": 2, "drones": 1, ...}``. For each
    resource the levels in ``resources[name]`` are tried with the others at ``base`` (default:
    each resource's first level). Every point carries the estimate of ``metric`` (and of
    ``interdicted``, ``deterred``, ``harm`` and the civilian delay per day) and the paired
    difference of ``metric`` to the previous level of the same resource (its marginal value, with
    a CI).
    """
    if not resources or any(len(v) == 0 for v in resources.values()):
        raise ValidationError("give at least one level per resource", field="resources")
    base_levels = {k: int(v[0]) for k, v in resources.items()}
    if base is not None:
        unknown = set(base) - set(resources)
        if unknown:
            raise ValidationError(f"unknown resource(s) {sorted(unknown)}", field="base")
        base_levels |= {k: int(v) for k, v in base.items()}
    plans: dict[str, DefencePlan] = {}
    points: dict[str, list[tuple[int, str]]] = {}
    for res, levels in resources.items():
        points[res] = []
        for level in levels:
            lv = base_levels | {res: int(level)}
            key = _label(lv)
            if key not in plans:
                plans[key] = build_plan(dict(lv))
            points[res].append((int(level), key))
    sim = Simulation(plans, attacker, n_days=n_days, seed=seed, **options).run()
    comp = sim.comparison_
    curves: dict[str, list[dict[str, Any]]] = {}
    for res, pts in points.items():
        curve = []
        for j, (level, key) in enumerate(pts):
            r = comp.results[key]
            est: Estimate = r.per_attack[metric] if metric in PER_ATTACK else r.per_day[metric]
            point: dict[str, Any] = {"level": level, "plan": key, metric: est.to_dict()}
            for extra in ("interdicted", "deterred", "harm"):
                point.setdefault(extra, r.per_day[extra].to_dict())
            point["delay_vehicle_hours_per_day"] = r.burden["delay_vehicle_hours"]["mean_per_day"]
            if j:
                point["marginal"] = comp.difference(key, pts[j - 1][1], metric).to_dict()
                point["marginal_per_unit"] = _per_unit(comp, key, pts[j - 1], level, metric)
            curve.append(point)
        curves[res] = curve
    return WhatIf(base_levels, curves, comp, metric)


def _per_unit(
    comp: Comparison, key: str, prev: tuple[int, str], level: int, metric: str
) -> float | None:
    step = level - prev[0]
    if step == 0:
        return None
    return comp.difference(key, prev[1], metric).mean / step
