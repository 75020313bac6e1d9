"""Placement: cameras, drones, checkpoints and quick-reaction-force bases on the road graph."""

from corridorguard.placement.mclp import MCLP, great_circle_coverage, solve_mclp

__all__ = ["MCLP", "great_circle_coverage", "solve_mclp"]
