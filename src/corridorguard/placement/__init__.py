"""Placement: cameras, drones, checkpoints and quick-reaction-force bases on the road graph."""

from corridorguard.placement.checkpoints import CheckpointPlacement
from corridorguard.placement.demand import Demand, corridor_demand, gaps_geojson
from corridorguard.placement.mclp import MCLP, great_circle_coverage, solve_mclp
from corridorguard.placement.qrf import QRFCoverage
from corridorguard.placement.sensors import SensorPlacement
from corridorguard.placement.variants import LSCP, PCenter, PMedian, budgeted_max_cover

__all__ = [
    "LSCP",
    "MCLP",
    "CheckpointPlacement",
    "Demand",
    "PCenter",
    "PMedian",
    "QRFCoverage",
    "SensorPlacement",
    "budgeted_max_cover",
    "corridor_demand",
    "gaps_geojson",
    "great_circle_coverage",
    "solve_mclp",
]
