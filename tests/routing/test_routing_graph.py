"""Road graph on CSR arrays: construction, one-to-all and point-to-point searches."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.routing.graph import RoadGraph, edge_risk_array
from corridorguard.scenario.model import Scenario

METHODS = ["bidirectional", "astar", "bounded"]


def test_from_scenario_two_arcs_per_edge(grid: Scenario) -> None:
    g = RoadGraph.from_scenario(grid)
    assert g.n_nodes == len(grid.nodes)
    assert g.n_arcs == 2 * len(grid.edges)
    assert g.n_edges == len(grid.edges)
    # each arc leaves the node its CSR row says
    rows = np.repeat(np.arange(g.n_nodes), np.diff(g.indptr))
    assert np.array_equal(rows, g.tail)
    e = grid.edges[3]
    arcs = np.nonzero(g.edge == 3)[0]
    assert len(arcs) == 2
    assert np.allclose(g.time_s[arcs], e.travel_time_s)
    assert g.label == "notional"


def test_scenario_distances_equal_networkx(grid: Scenario) -> None:
    g = RoadGraph.from_scenario(grid)
    nxg = nx.Graph()
    for e in grid.edges:
        nxg.add_edge(e.source, e.target, weight=e.travel_time_s)
    d = g.distances(np.arange(g.n_nodes), weight="time")
    for i, nid in enumerate(g.node_ids):
        ref = nx.single_source_dijkstra_path_length(nxg, nid)
        for j, nj in enumerate(g.node_ids):
            assert d[i, j] == pytest.approx(ref[nj])


@pytest.mark.parametrize("method", METHODS)
def test_path_cost_is_sum_of_its_edges(grid: Scenario, method: str) -> None:
    g = RoadGraph.from_scenario(grid)
    s, t = g.node_index("n0_0"), g.node_index("n3_4")
    p = g.shortest_path(s, t, weight="time", method=method)
    assert p.cost == pytest.approx(sum(grid.edges[g.edge[a]].travel_time_s for a in p.arcs))
    assert p.cost == pytest.approx(g.distances(s)[t])
    assert p.nodes[0] == s and p.nodes[-1] == t
    assert p.length_m == pytest.approx(float(g.length_m[list(p.arcs)].sum()))


def test_unknown_node_and_bad_weight(grid: Scenario) -> None:
    g = RoadGraph.from_scenario(grid)
    with pytest.raises(NotFoundError):
        g.node_index("nope")
    with pytest.raises(NotFoundError):
        g.shortest_path(0, 10_000)
    with pytest.raises(ValidationError):
        g.weights(np.ones(3))
    with pytest.raises(ValidationError):
        g.weights(-np.ones(g.n_arcs))


def test_edge_risk_mapping(grid: Scenario) -> None:
    g = RoadGraph.from_scenario(grid)
    assert np.all(edge_risk_array(g, None) == 1.0)
    r = edge_risk_array(g, {"h0_0": 3.0})
    assert r[g.edge_index("h0_0")] == 3.0
    with pytest.raises(ValidationError):
        edge_risk_array(g, {"h0_0": -1})
    with pytest.raises(NotFoundError):
        edge_risk_array(g, {"zzz": 1})


@st.composite
def random_graphs(draw: st.DrawFn) -> tuple[RoadGraph, int, int]:
    n = draw(st.integers(2, 25))
    m = draw(st.integers(0, 80))
    tail = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=int)
    head = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=int)
    w = np.array(draw(st.lists(st.floats(0.0, 100.0), min_size=m, max_size=m)), dtype=float)
    lon = np.array(draw(st.lists(st.floats(70, 71), min_size=n, max_size=n)))
    lat = np.array(draw(st.lists(st.floats(30, 31), min_size=n, max_size=n)))
    g = RoadGraph.from_arcs(tail, head, w, w, n_nodes=n, lon=lon, lat=lat)
    s = draw(st.integers(0, n - 1))
    t = draw(st.integers(0, n - 1))
    return g, s, t


@settings(max_examples=120, deadline=None)
@given(random_graphs())
def test_point_to_point_matches_csgraph(case: tuple[RoadGraph, int, int]) -> None:
    g, s, t = case
    ref = dijkstra(g.matrix("length"), indices=s)[t]
    for method in METHODS:
        if not np.isfinite(ref):
            with pytest.raises(NotFoundError):
                g.shortest_path(s, t, weight="length", method=method)  # type: ignore[arg-type]
            continue
        p = g.shortest_path(s, t, weight="length", method=method)  # type: ignore[arg-type]
        assert p.cost == pytest.approx(ref, abs=1e-9)
        assert p.cost == pytest.approx(float(g.length_m[list(p.arcs)].sum()), abs=1e-9)
        chain = [s] + [int(g.head[a]) for a in p.arcs]
        assert all(int(g.tail[a]) == chain[i] for i, a in enumerate(p.arcs))
        assert chain[-1] == t
    from corridorguard.routing import _search

    if np.isfinite(ref):
        cost, _ = _search.bidirectional(g, s, t, g.length_m, compiled=False)
        assert cost == pytest.approx(ref, abs=1e-9)
