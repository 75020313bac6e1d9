"""The compiled one-to-all kernel (contracted graph) against SciPy and networkx, and the
counting-sort graph build."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.routing import _sssp
from corridorguard.routing.graph import RoadGraph

RTOL = 1e-9


def assert_same(got: np.ndarray, ref: np.ndarray) -> None:
    """Same reachability, same costs within 1e-9 relative (1e-9 absolute near zero)."""
    fin = np.isfinite(ref)
    assert np.array_equal(fin, np.isfinite(got))
    np.testing.assert_allclose(got[fin], ref[fin], rtol=RTOL, atol=1e-9)


def check_all_sources(g: RoadGraph, w: np.ndarray) -> None:
    mat = g.matrix(w)
    src = np.arange(g.n_nodes)
    assert_same(g.distances(src, weight=w), dijkstra(mat, indices=src))
    assert_same(g.distances(src, weight=w, reverse=True), dijkstra(mat.T.tocsr(), indices=src))


@st.composite
def arbitrary_graphs(draw: st.DrawFn) -> tuple[RoadGraph, np.ndarray]:
    """Any digraph: self-loops, parallel arcs, zero weights, several components."""
    n = draw(st.integers(1, 20))
    m = draw(st.integers(0, 60))
    ends = st.lists(st.integers(0, n - 1), min_size=m, max_size=m)
    tail = np.array(draw(ends), dtype=np.int64)
    head = np.array(draw(ends), dtype=np.int64)
    weights = st.one_of(st.just(0.0), st.floats(0.0, 100.0), st.integers(0, 5).map(float))
    w = np.array(draw(st.lists(weights, min_size=m, max_size=m)), dtype=float)
    return RoadGraph.from_arcs(tail, head, w, w, n_nodes=n), w


@st.composite
def road_like_graphs(draw: st.DrawFn) -> tuple[RoadGraph, np.ndarray]:
    """Roads as polylines: two-way and one-way ways between junctions, rings of chain nodes
    (isolated or hung on a junction), and some parallel/zero-weight arcs -- the shapes the
    contraction has to get right."""
    n_junctions = draw(st.integers(1, 6))
    n = n_junctions
    tail: list[int] = []
    head: list[int] = []
    weight = st.one_of(st.just(0.0), st.floats(0.0, 50.0), st.integers(1, 4).map(float))
    w: list[float] = []

    def link(u: int, v: int, two_way: bool) -> None:
        tail.append(u)
        head.append(v)
        w.append(draw(weight))
        if two_way:
            tail.append(v)
            head.append(u)
            w.append(draw(weight))  # directions may differ (e.g. risk-weighted arcs)

    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["way", "ring", "island", "mixed"]))
        k = draw(st.integers(0, 5))  # interior nodes
        inner = list(range(n, n + k))
        n += k
        two_way = draw(st.booleans())
        a = draw(st.integers(0, n_junctions - 1))
        b = draw(st.integers(0, n_junctions - 1))
        if kind == "way" or kind == "mixed":
            path = [a, *inner, b]
            for i in range(len(path) - 1):
                tw = two_way if kind == "way" else draw(st.booleans())
                link(path[i], path[i + 1], tw)
        elif kind == "ring" and k:
            path = [a, *inner, a]
            for i in range(len(path) - 1):
                link(path[i], path[i + 1], two_way)
        elif kind == "island" and k >= 2:
            path = [*inner, inner[0]]
            for i in range(len(path) - 1):
                link(path[i], path[i + 1], two_way)
    for _ in range(draw(st.integers(0, 2))):  # a stray parallel arc or self-loop
        if tail:
            i = draw(st.integers(0, len(tail) - 1))
            to = head[i] if draw(st.booleans()) else tail[i]
            tail.append(tail[i])
            head.append(to)
            w.append(draw(weight))
    warr = np.array(w, dtype=float)
    perm = np.array(draw(st.permutations(range(len(tail)))), dtype=np.int64)
    g = RoadGraph.from_arcs(
        np.array(tail, dtype=np.int64)[perm],
        np.array(head, dtype=np.int64)[perm],
        warr[perm],
        warr[perm],
        n_nodes=n,
    )
    return g, g.length_m


@settings(max_examples=150, deadline=None)
@given(arbitrary_graphs())
def test_kernel_equals_scipy_on_arbitrary_graphs(case: tuple[RoadGraph, np.ndarray]) -> None:
    g, _ = case
    check_all_sources(g, g.length_m)


@settings(max_examples=200, deadline=None)
@given(road_like_graphs())
def test_kernel_equals_scipy_on_road_like_graphs(case: tuple[RoadGraph, np.ndarray]) -> None:
    g, w = case
    check_all_sources(g, w)
    con = g._contraction
    # every arc lies on exactly one chain
    assert np.array_equal(np.sort(con.chain_arcs), np.arange(g.n_arcs))


@settings(max_examples=100, deadline=None)
@given(road_like_graphs(), st.floats(0.0, 60.0), st.data())
def test_limit_and_targets_equal_scipy(
    case: tuple[RoadGraph, np.ndarray], limit: float, data: st.DataObject
) -> None:
    g, w = case
    src = np.arange(g.n_nodes)
    ref = dijkstra(g.matrix(w), indices=src, limit=limit)
    assert_same(g.distances(src, weight=w, limit=limit), ref)
    tgt = np.array(data.draw(st.lists(st.integers(0, g.n_nodes - 1), max_size=8)), dtype=int)
    got = g.distances(src, weight=w, targets=tgt, limit=limit)
    assert got.shape == (g.n_nodes, tgt.size)
    assert_same(got, ref[:, tgt])


def test_kernel_equals_networkx_with_named_nodes() -> None:
    """External node ids in, positions out: the contraction is internal only."""
    names = ["k", "a", "z", "m", "b"]
    tail = np.array([0, 1, 2, 3, 1, 4])
    head = np.array([1, 2, 3, 4, 0, 0])
    w = np.array([1.0, 2.0, 3.0, 4.0, 1.5, 0.5])
    g = RoadGraph.from_arcs(tail, head, w, w, n_nodes=5, node_ids=names)
    nxg = nx.DiGraph()
    nxg.add_weighted_edges_from(
        (names[t], names[h], c) for t, h, c in zip(tail, head, w, strict=True)
    )
    for s in names:
        row = g.distances(g.node_index(s), weight="length")
        ref = nx.single_source_dijkstra_path_length(nxg, s)
        assert {names[i] for i in np.nonzero(np.isfinite(row))[0]} == set(ref)
        for name, d in ref.items():
            assert row[g.node_index(name)] == pytest.approx(d, rel=RTOL)


@pytest.mark.parametrize("name", ["andorra", "liechtenstein"])
def test_osm_kernel_equals_scipy(name: str, request: pytest.FixtureRequest) -> None:
    g: RoadGraph = request.getfixturevalue(name)
    con = g._contraction
    assert con.n_core < g.n_nodes // 4  # mostly chain nodes, as unsimplified OSM is
    rng = np.random.default_rng(3)
    interior = np.nonzero(con.core_id < 0)[0]
    core = con.core_nodes
    src = np.concatenate([rng.choice(interior, 15), rng.choice(core, 15)])
    for weight in ("length", "time"):
        mat = g.matrix(weight)
        assert_same(g.distances(src, weight=weight), dijkstra(mat, indices=src))
        assert_same(
            g.distances(src, weight=weight, limit=3_000.0),
            dijkstra(mat, indices=src, limit=3_000.0),
        )
        assert_same(
            g.distances(src[:6], weight=weight, reverse=True),
            dijkstra(mat.T.tocsr(), indices=src[:6]),
        )
    risk = rng.uniform(0.0, 3.0, g.n_arcs)  # a custom per-arc weight
    assert_same(g.distances(src[:6], weight=risk), dijkstra(g.matrix(risk), indices=src[:6]))


def test_single_source_shape_and_fallback(
    andorra: RoadGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = andorra.distances(5, weight="length")
    assert d.shape == (andorra.n_nodes,)
    assert andorra.distances([5], weight="length", targets=[]).shape == (1, 0)
    d_pred, pred = andorra.distances(5, weight="length", predecessors=True)
    assert_same(d, d_pred)
    assert pred.shape == (andorra.n_nodes,)
    monkeypatch.setattr(_sssp, "AVAILABLE", False)  # SciPy fallback gives the same answer
    assert_same(andorra.distances(5, weight="length"), d)


def test_distances_reject_bad_queries(andorra: RoadGraph) -> None:
    with pytest.raises(NotFoundError):
        andorra.distances(andorra.n_nodes)
    with pytest.raises(NotFoundError):
        andorra.distances(0, targets=[-1])
    with pytest.raises(ValidationError):
        andorra.distances(0, limit=-1.0)
    with pytest.raises(ValidationError):
        andorra.distances(0, limit=float("nan"))


# --- graph build ----------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(arbitrary_graphs())
def test_build_is_a_stable_sort_by_tail(case: tuple[RoadGraph, np.ndarray]) -> None:
    g, _ = case
    # rebuild from shuffled arcs: CSR rows must hold the same arcs, in input order
    rng = np.random.default_rng(g.n_arcs)
    perm = rng.permutation(g.n_arcs)
    h = RoadGraph.from_arcs(
        g.tail[perm], g.head[perm], g.length_m[perm], g.time_s[perm], n_nodes=g.n_nodes,
        edge=g.edge[perm],
    )  # fmt: skip
    order = np.argsort(g.tail[perm], kind="stable")
    assert np.array_equal(h.indptr, g.indptr)
    assert np.array_equal(h.tail, g.tail[perm][order])
    assert np.array_equal(h.head, g.head[perm][order])
    assert np.array_equal(h.edge, g.edge[perm][order])
    assert np.array_equal(h.length_m, g.length_m[perm][order])
    assert h.head.dtype == np.int32 and h.indptr.dtype == np.int64 and h.edge.dtype == np.int64
    assert len(h.node_ids) == g.n_nodes and list(h.node_ids) == list(range(g.n_nodes))


@pytest.mark.parametrize(
    ("tail", "head", "length", "edge", "message"),
    [
        ([0, 3], [1, 0], [1.0, 1.0], None, "outside"),
        ([0, -1], [1, 0], [1.0, 1.0], None, "outside"),
        ([0, 1], [1, 0], [1.0, -2.0], None, "negative or NaN"),
        ([0, 1], [1, 0], [1.0, float("nan")], None, "negative or NaN"),
        ([0, 1], [1, 0], [1.0, 1.0], [0, -1], "negative edge"),
        ([0, 1], [1], [1.0, 1.0], None, "differ in length"),
        ([0, 1], [1, 0], [1.0, 1.0], [0], "differs in length"),
        ([0.5, 1], [1, 0], [1.0, 1.0], None, "integer"),
    ],
)
def test_build_rejects_bad_arcs(
    tail: list, head: list, length: list, edge: list | None, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        RoadGraph.from_arcs(
            np.array(tail), np.array(head), np.array(length), np.array(length), n_nodes=3,
            edge=None if edge is None else np.array(edge),
        )  # fmt: skip


def test_build_empty_and_int32_inputs() -> None:
    g = RoadGraph.from_arcs([], [], [], [], n_nodes=3)
    assert g.n_arcs == 0 and g.n_edges == 0
    assert np.isinf(g.distances(0)[1:]).all() and g.distances(0)[0] == 0
    t = np.array([1, 0], dtype=np.int32)
    h = np.array([0, 2], dtype=np.uint8)
    g = RoadGraph.from_arcs(t, h, [1.0, 2.0], [1.0, 2.0], n_nodes=3)
    assert g.distances(1, weight="length").tolist() == [1.0, 0.0, 3.0]


# --- point to point on the contracted graph -------------------------------------------------


def check_path(g: RoadGraph, w: np.ndarray, s: int, t: int, ref: float) -> None:
    if not np.isfinite(ref):
        with pytest.raises(NotFoundError):
            g.shortest_path(s, t, weight=w)
        return
    p = g.shortest_path(s, t, weight=w)
    assert p.cost == pytest.approx(ref, rel=RTOL, abs=1e-9)
    assert p.cost == pytest.approx(float(w[list(p.arcs)].sum()), rel=RTOL, abs=1e-9)
    chain = [s] + [int(g.head[a]) for a in p.arcs]
    assert all(int(g.tail[a]) == chain[i] for i, a in enumerate(p.arcs))
    assert chain[-1] == t and list(p.nodes) == chain


@settings(max_examples=150, deadline=None)
@given(road_like_graphs())
def test_p2p_equals_scipy_on_road_like_graphs(case: tuple[RoadGraph, np.ndarray]) -> None:
    g, w = case
    ref = dijkstra(g.matrix(w), indices=np.arange(g.n_nodes))
    for s in range(g.n_nodes):
        for t in range(g.n_nodes):
            check_path(g, w, s, t, ref[s, t])


@pytest.mark.parametrize("name", ["andorra", "liechtenstein"])
def test_osm_p2p_equals_scipy_from_chain_and_core_nodes(
    name: str, request: pytest.FixtureRequest
) -> None:
    g: RoadGraph = request.getfixturevalue(name)
    con = g._contraction
    rng = np.random.default_rng(11)
    interior = np.nonzero(con.core_id < 0)[0]
    ends = np.concatenate([rng.choice(interior, 8), rng.choice(con.core_nodes, 4)])
    w = g.weights("time")
    ref = dijkstra(g.matrix("time"), indices=ends)
    for i, s in enumerate(ends.tolist()):
        targets = [*ends.tolist(), *rng.integers(0, g.n_nodes, 4).tolist()]
        # a target on the source's own chain (same way, a few nodes on)
        if con.core_id[s] < 0:
            q = int(con.in_pos[s, 0])
            last = int(con.chain_ptr[con.pos_chain[q] + 1]) - 1
            targets.append(int(con.chain_node[min(q + 2, last)]))
        row = g.distances(s, weight="time")
        np.testing.assert_allclose(row, ref[i], rtol=RTOL)
        for t in targets:
            check_path(g, w, s, t, float(row[t]))
