"""Joint patrol schedules on the road graph: randomised routes per unit and shift for two forces.

Pipeline: :func:`build_targets` (segment × slot and site × slot values) →
:func:`build_patrol_graph` (time-expanded graph per unit crew and shift) →
:class:`FlowPatrolSolver` (compact flow LP, Stackelberg) or :class:`ColumnGenerationSolver`
(route rules) → route strategies → seeded daily schedules, predictability and exports.
:func:`plan_patrols` runs all of it, jointly and per force, and reports the value of coordination.
"""

from corridorguard.patrol.colgen import ColumnGenerationSolver, RouteRules, route_obeys
from corridorguard.patrol.graph import PatrolGraph, PatrolLayer, build_patrol_graph
from corridorguard.patrol.plan import PatrolConfig, PatrolPlan, PlanSolution, plan_patrols
from corridorguard.patrol.schedule import (
    EditCheck,
    Leg,
    Route,
    check_edits,
    entropy_bits,
    route_from_waypoints,
    sample_day,
    strategy_entropy,
)
from corridorguard.patrol.solvers import (
    FlowPatrolSolver,
    HandOff,
    LayerStrategy,
    PathEnumerationSolver,
    decompose_flow,
    enumerate_paths,
)
from corridorguard.patrol.targets import TargetSet, TargetWeights, build_targets

__all__ = [
    "ColumnGenerationSolver",
    "EditCheck",
    "FlowPatrolSolver",
    "HandOff",
    "LayerStrategy",
    "Leg",
    "PathEnumerationSolver",
    "PatrolConfig",
    "PatrolGraph",
    "PatrolLayer",
    "PatrolPlan",
    "PlanSolution",
    "Route",
    "RouteRules",
    "TargetSet",
    "TargetWeights",
    "build_patrol_graph",
    "build_targets",
    "check_edits",
    "decompose_flow",
    "entropy_bits",
    "enumerate_paths",
    "plan_patrols",
    "route_from_waypoints",
    "route_obeys",
    "sample_day",
    "strategy_entropy",
]
