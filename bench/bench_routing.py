"""Routing benchmark: our CSR road graph against networkx (and SciPy) on real OSM extracts.

Same graphs, same queries, same run. Andorra and Liechtenstein driving networks
(``../shared/data/real/osm``; © OpenStreetMap contributors, ODbL), read once with pyrosm
(untimed). Prints medians (ms) and ratios = peer time / our time; both sides interleaved.

Graph build is timed from the arcs in a shuffled order (a real sort, not the already sorted
arrays of a built graph). One-to-all is timed per call of ``RoadGraph.distances(s)`` on a
graph whose one-off contraction is done (its cost is printed separately, like the untimed
networkx graph the peer gets).

    python bench/bench_routing.py [--queries 20] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse.csgraph import dijkstra

from corridorguard.routing import _search
from corridorguard.routing.convoy import ConvoyRouter
from corridorguard.routing.graph import RoadGraph
from corridorguard.routing.osm import read_osm_pbf

OSM = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real" / "osm"


def median_ms(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def scipy_p2p(mat: Any, s: int, t: int) -> list[int]:
    _, pred = dijkstra(mat, indices=s, return_predecessors=True)
    path = [t]
    while path[-1] != s:
        path.append(int(pred[path[-1]]))
    return path[::-1]


def run(name: str, queries: int, repeats: int) -> None:
    g = read_osm_pbf(OSM / f"{name}-latest.osm.pbf")
    print(f"\n## {name}: {g.n_nodes:,} nodes, {g.n_arcs:,} arcs (driving, unsimplified)")
    rng = np.random.default_rng(42)
    sources = rng.choice(g.n_nodes, queries, replace=False).tolist()
    pairs: list[tuple[int, int]] = []
    while len(pairs) < queries:
        s, t = rng.integers(0, g.n_nodes, 2).tolist()
        if s != t and np.isfinite(g.distances(s, weight="length")[t]):
            pairs.append((s, t))
    shuffle = rng.permutation(g.n_arcs)
    tail, head, w = g.tail[shuffle], g.head[shuffle], g.length_m[shuffle]
    time_s, edge = g.time_s[shuffle], g.edge[shuffle]
    edges = list(zip(tail.tolist(), head.tolist(), w.tolist(), strict=True))

    def build_ours() -> None:
        RoadGraph.from_arcs(tail, head, w, time_s, n_nodes=g.n_nodes, edge=edge)

    fresh = [
        RoadGraph.from_arcs(tail, head, w, time_s, n_nodes=g.n_nodes, edge=edge)
        for _ in range(repeats)
    ]
    first = [median_ms(lambda f=f: f.distances(sources[0], weight="length"), 1) for f in fresh]
    print(
        f"first one-to-all on a fresh graph (includes the one-off contraction): "
        f"{statistics.median(first):.2f} ms; core {g._contraction.n_core:,} of {g.n_nodes:,} "
        f"nodes, {len(g._contraction.chain_end):,} chains"
    )

    def build_nx() -> None:
        h = nx.DiGraph()
        h.add_weighted_edges_from(edges)

    nxg = g.to_networkx("length")
    mat = g.matrix("length")
    for s in sources[:5]:  # exactness of one-to-all before timing
        ref = nx.single_source_dijkstra_path_length(nxg, s)
        row = g.distances(s, weight="length")
        assert set(np.nonzero(np.isfinite(row))[0].tolist()) == set(ref)
        assert all(abs(row[v] - d) <= 1e-9 * max(d, 1.0) for v, d in ref.items())
    g.shortest_path(*pairs[0], weight="length")  # compile / warm caches (untimed)
    _search.bidirectional(g, *pairs[0], g.length_m, compiled=False)
    _search.bidirectional(g, *pairs[0], g.length_m)

    rows = [
        ("graph build", build_ours, build_nx, "networkx DiGraph"),
        (
            f"one-to-all (SSSP) x{queries}",
            lambda: [g.distances(s, weight="length") for s in sources],
            lambda: [nx.single_source_dijkstra_path_length(nxg, s) for s in sources],
            "networkx",
        ),
        (
            f"one-to-all (SSSP) x{queries} vs SciPy",
            lambda: [g.distances(s, weight="length") for s in sources],
            lambda: [dijkstra(mat, indices=s) for s in sources],
            "scipy csgraph dijkstra",
        ),
        (
            f"one-to-all batched, one call x{queries}",
            lambda: g.distances(sources, weight="length"),
            lambda: [nx.single_source_dijkstra_path_length(nxg, s) for s in sources],
            "networkx",
        ),
        (
            f"p2p with path x{queries}",
            lambda: [g.shortest_path(s, t, weight="length") for s, t in pairs],
            lambda: [nx.bidirectional_dijkstra(nxg, s, t) for s, t in pairs],
            "networkx bidirectional",
        ),
        (
            f"p2p with path x{queries} (vs SciPy SSSP+walk)",
            lambda: [g.shortest_path(s, t, weight="length") for s, t in pairs],
            lambda: [scipy_p2p(mat, s, t) for s, t in pairs],
            "scipy csgraph",
        ),
        (
            f"p2p full-graph compiled bidirectional x{queries}",
            lambda: [_search.bidirectional(g, s, t, g.length_m) for s, t in pairs],
            lambda: [nx.bidirectional_dijkstra(nxg, s, t) for s, t in pairs],
            "networkx bidirectional",
        ),
        (
            f"p2p bounded csgraph x{queries}",
            lambda: [g.shortest_path(s, t, weight="length", method="bounded") for s, t in pairs],
            lambda: [nx.bidirectional_dijkstra(nxg, s, t) for s, t in pairs],
            "networkx bidirectional",
        ),
        (
            f"p2p pure-Python bidirectional x{queries}",
            lambda: [_search.bidirectional(g, s, t, g.length_m, compiled=False) for s, t in pairs],
            lambda: [nx.bidirectional_dijkstra(nxg, s, t) for s, t in pairs],
            "networkx bidirectional",
        ),
    ]
    for s, t in pairs[:5]:
        ref = nx.bidirectional_dijkstra(nxg, s, t)[0]
        assert abs(g.shortest_path(s, t, weight="length").cost - ref) < 1e-6
    print(f"{'operation':44s} {'ours ms':>9s} {'peer ms':>9s} {'ratio':>7s}  peer")
    g.distances(sources, weight="length")  # compile / warm (untimed)
    for label, ours, peer, peer_name in rows:
        a, b = [], []
        for _ in range(repeats):  # interleaved so load spikes hit both sides
            a.append(median_ms(ours, 21 if label == "graph build" else 1))
            b.append(median_ms(peer, 1))
        ma, mb = statistics.median(a), statistics.median(b)
        per = "" if label == "graph build" else f"  ({ma / queries:.3f} ms/query)"
        if label == "graph build":
            per = f"  ({ma * 40_000 / g.n_arcs:.3f} ms per 40k arcs)"
        print(f"{label:44s} {ma:9.2f} {mb:9.2f} {mb / ma:6.1f}x  {peer_name}{per}")
    sorted_build = statistics.median(
        [
            median_ms(
                lambda: RoadGraph.from_arcs(
                    g.tail, g.head, g.length_m, g.time_s, n_nodes=g.n_nodes, edge=g.edge
                ),
                1,
            )
            for _ in range(repeats * 5)
        ]
    )
    print(
        "graph build from arcs already sorted by tail: "
        f"{sorted_build * 40_000 / g.n_arcs:.3f} ms per 40k arcs"
    )
    # 3 alternative routes by the penalty method (time + risk weight, uniform risk)
    s, t = pairs[0]
    router = ConvoyRouter(g, g.node_ids[s], g.node_ids[t], alternatives=3, max_stretch=3.0)
    alt = statistics.median([median_ms(router.alternatives, 1) for _ in range(repeats)])
    print(
        f"3 alternative routes (penalty method): {alt:.2f} ms "
        f"({len(router.alternatives())} distinct found)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args()
    print("# routing benchmark (medians; ratio = peer / ours; machine shared, expect noise)")
    for name in ("andorra", "liechtenstein"):
        run(name, args.queries, args.repeats)


if __name__ == "__main__":
    main()
