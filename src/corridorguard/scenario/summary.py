"""Graph helpers and a plain-data summary of a scenario (for ``scenario show`` and reports)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from corridorguard.scenario.model import Edge, Scenario

__all__ = ["adjacency", "component_count", "route_parts", "scenario_summary"]


def adjacency(scenario: Scenario, *, weight: str = "length_m") -> csr_matrix:
    """Symmetric CSR matrix of the road graph, indexed like ``scenario.nodes``.

    ``weight`` is an :class:`Edge` attribute (``length_m``, ``travel_time_s``...). Scenario
    validation forbids parallel segments, so no two edges sum into one entry.
    """
    idx = scenario.node_index
    rows = [idx[e.source] for e in scenario.edges]
    cols = [idx[e.target] for e in scenario.edges]
    vals = [float(getattr(e, weight)) for e in scenario.edges]
    n = len(scenario.nodes)
    mat = coo_matrix(
        (np.array(vals + vals), (np.array(rows + cols), np.array(cols + rows))), shape=(n, n)
    )
    return mat.tocsr()


def component_count(scenario: Scenario, edges: list[Edge] | None = None) -> int:
    """Number of connected components of the road graph (or of the subgraph of ``edges``)."""
    if edges is None:
        return int(connected_components(adjacency(scenario), directed=False)[0])
    touched = {e.source for e in edges} | {e.target for e in edges}
    local = {nid: i for i, nid in enumerate(sorted(touched))}
    rows = [local[e.source] for e in edges]
    cols = [local[e.target] for e in edges]
    mat = coo_matrix((np.ones(len(edges)), (rows, cols)), shape=(len(local), len(local)))
    return int(connected_components(mat, directed=False)[0])


def route_parts(scenario: Scenario) -> dict[str, list[Edge]]:
    """Route name -> its edges, in file order."""
    out: dict[str, list[Edge]] = defaultdict(list)
    for e in scenario.edges:
        out[e.route].append(e)
    return dict(out)


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
