"""A plain-data summary of a scenario (for ``scenario show``, the API and reports)."""

from __future__ import annotations

from typing import Any

from corridorguard.scenario.graph import component_count, route_parts
from corridorguard.scenario.model import Scenario

__all__ = ["scenario_summary"]


def scenario_summary(scenario: Scenario) -> dict[str, Any]:
    """Counts, routes, sites, forces/units, movements and labels as plain JSON-able data."""
    routes = []
    for name, edges in route_parts(scenario).items():
        routes.append(
            {
                "route": name,
                "segments": len(edges),
                "length_km": round(sum(e.length_m for e in edges) / 1000, 1),
                "parts": component_count(scenario, edges),
                "road_classes": sorted({e.road_class for e in edges}),
            }
        )
    forces = [
        {
            "id": f.id,
            "name": f.name,
            "notional": f.notional,
            "jurisdiction": list(f.jurisdiction.provinces)
            + (["(polygon)"] if f.jurisdiction.polygon else []),
            "units": [u.model_dump(mode="json") for u in f.units],
        }
        for f in scenario.forces
    ]
    return {
        "name": scenario.name,
        "title": scenario.title,
        "description": scenario.description,
        "labels": dict(scenario.labels),
        "counts": {
            "nodes": len(scenario.nodes),
            "approximate_nodes": sum(n.approximate for n in scenario.nodes),
            "roads": len(scenario.edges),
            "road_km": round(sum(e.length_m for e in scenario.edges) / 1000, 1),
            "components": component_count(scenario) if scenario.edges else len(scenario.nodes),
            "sites": len(scenario.sites),
            "forces": len(scenario.forces),
            "units": sum(len(f.units) for f in scenario.forces),
            "movements": len(scenario.movements),
        },
        "bbox": list(scenario.bbox()),
        "circuity": dict(scenario.circuity),
        "routes": routes,
        "sites": [s.model_dump(mode="json") for s in scenario.sites],
        "forces": forces,
        "movements": [m.model_dump(mode="json") for m in scenario.movements],
        "attribution": list(scenario.attribution),
    }
