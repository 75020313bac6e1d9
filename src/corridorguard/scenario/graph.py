"""Road-graph helpers on a scenario: sparse adjacency, connected components, routes."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from corridorguard.scenario.model import Edge, Scenario

__all__ = ["adjacency", "component_count", "route_parts"]


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
