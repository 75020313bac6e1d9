"""Early-exit point-to-point searches on :class:`~corridorguard.routing.graph.RoadGraph` arrays.

* :func:`bidirectional` -- bidirectional Dijkstra (Pohl 1971; stopping rule of Goldberg &
  Harrelson 2005: stop when ``top_f + top_b >= mu``), pure Python ``heapq`` over cached
  adjacency lists of ``(neighbour, arc)`` pairs.
* :func:`astar` -- A* (Hart, Nilsson & Raphael 1968) with a great-circle lower bound.
* :func:`bounded` -- SciPy's compiled Dijkstra cut at a distance ``limit`` that doubles until the
  target is settled; exact because Dijkstra's labels below ``limit`` are final.

Each returns ``(cost, arcs)`` with ``arcs`` the arc indices from source to target.
"""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.sparse.csgraph import dijkstra

from corridorguard.errors import NotFoundError

if TYPE_CHECKING:
    from corridorguard.routing.graph import RoadGraph

_INF = math.inf
_R = 6_371_008.8


def _adjacency(graph: RoadGraph) -> tuple[list[list[tuple[int, int]]], list[list[tuple[int, int]]]]:
    """Forward and backward ``[(neighbour, arc), ...]`` per node, cached on the graph."""
    cache: dict[Any, Any] = graph.__dict__.setdefault("_search_cache", {})
    if "adj" not in cache:
        head = graph.head.tolist()
        ptr = graph.indptr.tolist()
        fwd = [
            list(zip(head[ptr[u] : ptr[u + 1]], range(ptr[u], ptr[u + 1]), strict=True))
            for u in range(graph.n_nodes)
        ]
        rptr, rtail, rarc = graph.reverse
        rp, rt, ra = rptr.tolist(), rtail.tolist(), rarc.tolist()
        bwd = [
            list(zip(rt[rp[u] : rp[u + 1]], ra[rp[u] : rp[u + 1]], strict=True))
            for u in range(graph.n_nodes)
        ]
        cache["adj"] = (fwd, bwd)
    return cache["adj"]


def _weight_list(graph: RoadGraph, w: np.ndarray) -> list[float]:
    cache: dict[Any, Any] = graph.__dict__.setdefault("_search_cache", {})
    key = ("w", id(w))
    hit = cache.get("wlist")
    if hit is not None and hit[0] == key and hit[1] is w:
        return hit[2]
    lst = w.tolist()
    cache["wlist"] = (key, w, lst)
    return lst


def _unreachable(graph: RoadGraph, s: int, t: int) -> NotFoundError:
    return NotFoundError(
        f"no route from {graph.node_ids[s]!r} to {graph.node_ids[t]!r}", field="target"
    )


def bidirectional(
    graph: RoadGraph, s: int, t: int, w: np.ndarray, *, compiled: bool = True
) -> tuple[float, list[int]]:
    """Bidirectional Dijkstra; returns ``(cost, arcs)``. Compiled (numba) when available."""
    if s == t:
        return 0.0, []
    from corridorguard.routing import _compiled

    if compiled and _compiled.AVAILABLE:
        rptr, rtail, rarc = graph.reverse
        cost, arc_arr = _compiled.bidirectional_arrays(
            graph.indptr, graph.head, graph.tail, w, rptr, rtail, rarc, s, t
        )
        if not np.isfinite(cost):
            raise _unreachable(graph, s, t)
        return float(cost), arc_arr.tolist()
    fwd, bwd = _adjacency(graph)
    wl = _weight_list(graph, w)
    dist = ({s: 0.0}, {t: 0.0})
    pred: tuple[dict[int, int], dict[int, int]] = ({}, {})
    done: tuple[set[int], set[int]] = (set(), set())
    heaps: tuple[list[tuple[float, int]], list[tuple[float, int]]] = ([(0.0, s)], [(0.0, t)])
    adjs = (fwd, bwd)
    mu, meet = _INF, -1
    push, pop = heapq.heappush, heapq.heappop
    while heaps[0] and heaps[1]:
        if heaps[0][0][0] + heaps[1][0][0] >= mu:
            break
        side = 0 if heaps[0][0][0] <= heaps[1][0][0] else 1
        heap, d_me, d_other, p_me, settled = (
            heaps[side],
            dist[side],
            dist[1 - side],
            pred[side],
            done[side],
        )
        d, u = pop(heap)
        if u in settled:
            continue
        settled.add(u)
        for v, a in adjs[side][u]:
            nd = d + wl[a]
            if nd < d_me.get(v, _INF):
                d_me[v] = nd
                p_me[v] = a
                push(heap, (nd, v))
                other = d_other.get(v)
                if other is not None and nd + other < mu:
                    mu, meet = nd + other, v
    if meet < 0:
        raise _unreachable(graph, s, t)
    head, tail = graph.head, graph.tail
    arcs: list[int] = []
    v = meet
    while v != s:
        a = pred[0][v]
        arcs.append(a)
        v = int(tail[a])
    arcs.reverse()
    v = meet
    while v != t:
        a = pred[1][v]
        arcs.append(a)
        v = int(head[a])
    return mu, arcs


def _lower_bound_scale(graph: RoadGraph, w: np.ndarray, weight: Any) -> float:
    """Largest ``k`` with ``w[a] >= k * greatcircle(arc a)`` for every arc, so that
    ``k * greatcircle(v, t)`` never overestimates (consistent A* potential). 0 if none."""
    cache: dict[Any, Any] = graph.__dict__.setdefault("_search_cache", {})
    key = ("scale", weight) if isinstance(weight, str) else None
    if key is not None and key in cache:
        return float(cache[key])
    if "arc_gc" not in cache:
        from corridorguard.routing.graph import haversine_m

        t, h = graph.tail, graph.head
        cache["arc_gc"] = haversine_m(graph.lon[t], graph.lat[t], graph.lon[h], graph.lat[h])
    gc = cache["arc_gc"]
    pos = gc > 0
    k = float(np.min(w[pos] / gc[pos])) * (1 - 1e-9) if pos.any() else 0.0
    k = max(k, 0.0)
    if key is not None:
        cache[key] = k
    return k


def astar(graph: RoadGraph, s: int, t: int, w: np.ndarray, weight: Any) -> tuple[float, list[int]]:
    """A* with ``h(v) = scale * haversine(v, t)``; plain Dijkstra when no bound applies."""
    if s == t:
        return 0.0, []
    fwd, _ = _adjacency(graph)
    wl = _weight_list(graph, w)
    scale = _lower_bound_scale(graph, w, weight)
    lon, lat = graph.lon.tolist(), graph.lat.tolist()
    lt, ct = math.radians(lat[t]), math.cos(math.radians(lat[t]))
    gt = math.radians(lon[t])
    k = 2 * _R * scale * (1 - 1e-12)
    sin, cos, asin, sqrt, rad = math.sin, math.cos, math.asin, math.sqrt, math.radians
    hcache: dict[int, float] = {}

    def h(v: int) -> float:
        r = hcache.get(v)
        if r is None:
            la = rad(lat[v])
            x = sin((lt - la) / 2) ** 2 + cos(la) * ct * sin((gt - rad(lon[v])) / 2) ** 2
            r = k * asin(sqrt(min(1.0, x)))
            hcache[v] = r
        return r

    g = {s: 0.0}
    pred: dict[int, int] = {}
    closed: set[int] = set()
    heap = [(h(s) if scale else 0.0, s)]
    push, pop = heapq.heappush, heapq.heappop
    while heap:
        _, u = pop(heap)
        if u == t:
            break
        if u in closed:
            continue
        closed.add(u)
        gu = g[u]
        for v, a in fwd[u]:
            nd = gu + wl[a]
            if nd < g.get(v, _INF):
                g[v] = nd
                pred[v] = a
                push(heap, (nd + (h(v) if scale else 0.0), v))
    if t not in g:
        raise _unreachable(graph, s, t)
    tail = graph.tail
    arcs: list[int] = []
    v = t
    while v != s:
        a = pred[v]
        arcs.append(a)
        v = int(tail[a])
    arcs.reverse()
    return g[t], arcs


def _arc_keys(graph: RoadGraph) -> tuple[np.ndarray, np.ndarray]:
    cache: dict[Any, Any] = graph.__dict__.setdefault("_search_cache", {})
    if "keys" not in cache:
        key = graph.tail.astype(np.int64) * graph.n_nodes + graph.head
        order = np.argsort(key, kind="stable")
        cache["keys"] = (key[order], order)
    return cache["keys"]


def arcs_of_node_path(graph: RoadGraph, nodes: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The cheapest arc joining each consecutive pair of ``nodes`` (vectorised look-up)."""
    keys, order = _arc_keys(graph)
    want = nodes[:-1].astype(np.int64) * graph.n_nodes + nodes[1:]
    pos = np.searchsorted(keys, want)
    arcs = order[pos]
    # parallel arcs: take the cheapest (rare; short loop)
    dup = np.nonzero((pos + 1 < keys.size) & (keys[np.minimum(pos + 1, keys.size - 1)] == want))[0]
    for i in dup.tolist():
        j = int(pos[i])
        best = int(order[j])
        while j + 1 < keys.size and keys[j + 1] == want[i]:
            j += 1
            if w[order[j]] < w[best]:
                best = int(order[j])
        arcs[i] = best
    return arcs


def _hav(graph: RoadGraph, s: int, t: int) -> float:
    la1, la2 = math.radians(float(graph.lat[s])), math.radians(float(graph.lat[t]))
    dlon = math.radians(float(graph.lon[t]) - float(graph.lon[s]))
    x = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin(dlon / 2) ** 2
    return 2 * _R * math.asin(math.sqrt(min(1.0, x)))


def _reverse_matrix(graph: RoadGraph, weight: Any) -> Any:
    cache: dict[Any, Any] = graph.__dict__.setdefault("_search_cache", {})
    mat = graph._cached_matrix(weight)
    hit = cache.get("rev")
    if hit is not None and hit[0] is mat:
        return hit[1]
    rev = mat.T.tocsr()
    cache["rev"] = (mat, rev)
    return rev


def bounded(graph: RoadGraph, s: int, t: int, weight: Any) -> tuple[float, list[int]]:
    """Bidirectional search with SciPy's compiled Dijkstra, both sides cut at radius ``r``.

    With ``f`` (from ``s``) and ``b`` (to ``t``) exact below ``r``, ``mu = min over arcs
    (u, v) of f[u] + w(u, v) + b[v]`` equals the distance whenever ``mu <= 2r`` (the last
    node of a shortest path with ``f <= r`` and its successor straddle the middle);
    otherwise ``r`` doubles. ``r`` starts at the great-circle lower bound.
    """
    if s == t:
        return 0.0, []
    w = graph.weights(weight)
    mat = graph._cached_matrix(weight)
    rev = _reverse_matrix(graph, weight)
    scale = _lower_bound_scale(graph, w, weight)
    r = _hav(graph, s, t) * scale
    if not r > 0:
        r = float(np.median(w)) * 32 if w.size else 0.0
    if not r > 0:
        r = float(w.max()) if w.size and w.max() > 0 else 1.0
    total = float(w.sum())
    tail, head = graph.tail, graph.head
    while True:
        f, pf = dijkstra(mat, indices=s, limit=r, return_predecessors=True)
        b, pb = dijkstra(rev, indices=t, limit=r, return_predecessors=True)
        reach = np.nonzero(np.isfinite(f[tail]))[0]
        through = f[tail[reach]] + w[reach] + b[head[reach]]
        k = int(np.argmin(through)) if through.size else -1
        if k >= 0 and through[k] <= 2 * r:
            break
        if r > total:
            raise _unreachable(graph, s, t)
        r *= 2.0
    mid = int(reach[k])
    left = [int(tail[mid])]
    while left[-1] != s:
        left.append(int(pf[left[-1]]))
    right = [int(head[mid])]
    while right[-1] != t:
        right.append(int(pb[right[-1]]))
    nodes_l = np.array(left[::-1], dtype=np.int64)
    nodes_r = np.array(right, dtype=np.int64)
    arcs = np.concatenate(
        [arcs_of_node_path(graph, nodes_l, w), [mid], arcs_of_node_path(graph, nodes_r, w)]
    )
    return float(through[k]), arcs.astype(np.int64).tolist()
