"""Road-graph routing: CSR road graphs, importers, shortest paths and convoy routing."""

from corridorguard.routing.convoy import ConvoyRouter, RouteOption
from corridorguard.routing.game import RouteGameResult, solve_route_game
from corridorguard.routing.graph import Path, RoadGraph, edge_risk_array, haversine_m
from corridorguard.routing.osm import DEFAULT_SPEEDS_KMH, read_geojson, read_osm_pbf

__all__ = [
    "DEFAULT_SPEEDS_KMH",
    "ConvoyRouter",
    "Path",
    "RoadGraph",
    "RouteGameResult",
    "RouteOption",
    "edge_risk_array",
    "haversine_m",
    "read_geojson",
    "read_osm_pbf",
    "solve_route_game",
]
