"""Monte Carlo evaluation of defence plans, plan comparison and exercises (pure core).

Inputs are plain typed data (:mod:`corridorguard.simulate.model`) that the game, patrol,
placement, routing and risk engines can be adapted to; see ``docs/simulate.md``.
"""

from corridorguard.simulate.adapters import targets_from_scenario
from corridorguard.simulate.analytic import attack_distribution, expected_utility, protection
from corridorguard.simulate.compare import WhatIf, static_baseline, what_if
from corridorguard.simulate.engine import (
    Comparison,
    PlanResult,
    Simulation,
    civilian_burden,
    compare_plans,
    simulate,
)
from corridorguard.simulate.model import (
    AttackDuration,
    DefencePlan,
    Deployment,
    OpportunisticAttacker,
    QRFBase,
    StrategicAttacker,
    Target,
    TargetSet,
    UnitType,
    sensor,
)
from corridorguard.simulate.parallel import default_workers
from corridorguard.simulate.results import Estimate

__all__ = [
    "AttackDuration",
    "Comparison",
    "DefencePlan",
    "Deployment",
    "Estimate",
    "OpportunisticAttacker",
    "PlanResult",
    "QRFBase",
    "Simulation",
    "StrategicAttacker",
    "Target",
    "TargetSet",
    "UnitType",
    "WhatIf",
    "attack_distribution",
    "civilian_burden",
    "compare_plans",
    "default_workers",
    "expected_utility",
    "protection",
    "sensor",
    "simulate",
    "static_baseline",
    "targets_from_scenario",
    "what_if",
]
