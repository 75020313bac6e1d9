"""Reports: maps, plots and documents built from library results."""

from corridorguard.report.maps import draw_scenario, write_corridor_map

__all__ = ["draw_scenario", "write_corridor_map"]
