"""Road-graph routing: CSR road graphs, importers, shortest paths and convoy routing."""

from corridorguard.routing.graph import Path, RoadGraph, edge_risk_array, haversine_m

__all__ = ["Path", "RoadGraph", "edge_risk_array", "haversine_m"]
