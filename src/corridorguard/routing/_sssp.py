"""One-to-all shortest paths on a contracted road graph (compiled, exact).

Unsimplified road networks are mostly *chain* nodes: OSM ways are polylines, so ~90 % of the
nodes of a driving network have exactly two neighbours (Andorra: 93 %). Dijkstra spends most
of its heap work on them. We split the graph once (lazily, on the first query) into

* **core** nodes: junctions, dead ends, nodes with parallel arcs or self-loops, one-way/two-way
  changes, and one node per ring of chain nodes;
* **chains**: maximal directed paths ``core -> interior ... interior -> core`` whose interior
  nodes have either exactly one in-arc and one out-arc to two different neighbours (one-way), or
  exactly two neighbours joined in both directions (two-way). Every arc lies on exactly one
  chain; a two-way chain node lies on two chains, a one-way one on one.

A query runs Dijkstra (indexed 4-ary heap with decrease-key) on the core graph, whose arcs are
the chains weighted by their sums, then fills each interior node with
``min over its chains c of d(start(c)) + prefix_c(node)``. When the source is itself an
interior node, its chains are walked from it first and seed the core search. This is exact: a
shortest path to an interior node enters its chain from the chain's start (or starts on it),
and a shortest path between core nodes is a sequence of whole chains. It is the classic
degree-2 contraction (as in OSMnx ``simplify_graph``) kept inside the engine, so callers keep
every node. Sums along chains are prefix sums, so a result may differ from a sequential
Dijkstra's by float rounding (relative ~1e-15).

All kernels are numba-compiled with ``cache=True``; :data:`AVAILABLE` is False without numba
and :class:`~corridorguard.routing.graph.RoadGraph` then falls back to SciPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from corridorguard.routing._compiled import AVAILABLE, _jit

__all__ = ["AVAILABLE", "Contraction", "contract", "many_to_all"]


@_jit
def _classify(indptr: Any, head: Any, tail: Any, n: int) -> Any:
    """Interior (chain) flag per node and the continuation arc of each arc into one."""
    m = head.shape[0]
    indeg = np.zeros(n, np.int64)
    first_in = np.full(n, -1, np.int64)
    second_in = np.full(n, -1, np.int64)
    for a in range(m):
        v = head[a]
        if indeg[v] == 0:
            first_in[v] = a
        elif indeg[v] == 1:
            second_in[v] = a
        indeg[v] += 1
    interior = np.zeros(n, np.bool_)
    for v in range(n):
        lo = indptr[v]
        od = indptr[v + 1] - lo
        if od == 1 and indeg[v] == 1:
            x = tail[first_in[v]]
            y = head[lo]
            interior[v] = x != v and y != v and x != y
        elif od == 2 and indeg[v] == 2:
            o1 = head[lo]
            o2 = head[lo + 1]
            i1 = tail[first_in[v]]
            i2 = tail[second_in[v]]
            interior[v] = (
                o1 != o2
                and o1 != v
                and o2 != v
                and ((i1 == o1 and i2 == o2) or (i1 == o2 and i2 == o1))
            )
    nxt = np.full(m, -1, np.int64)
    for a in range(m):
        v = head[a]
        if interior[v]:
            lo = indptr[v]
            if indptr[v + 1] - lo == 1 or head[lo] != tail[a]:
                nxt[a] = lo
            else:
                nxt[a] = lo + 1
    return interior, nxt


@_jit
def _promote_rings(indptr: Any, head: Any, interior: Any, nxt: Any) -> None:
    """Make one node of every ring of interior nodes (no core node on it) a core node."""
    n = interior.shape[0]
    m = head.shape[0]
    covered = np.zeros(m, np.bool_)
    for u in range(n):
        if not interior[u]:
            for a in range(indptr[u], indptr[u + 1]):
                j = a
                while True:
                    covered[j] = True
                    if not interior[head[j]]:
                        break
                    j = nxt[j]
    for a in range(m):
        if covered[a]:
            continue
        # ``a`` lies on a ring of interior nodes: cut it at the ring's node ``head[a]``
        u = head[a]
        interior[u] = False
        for b in range(indptr[u], indptr[u + 1]):
            j = b
            while True:
                covered[j] = True
                if not interior[head[j]]:
                    break
                j = nxt[j]


@_jit
def _chains(indptr: Any, head: Any, interior: Any, nxt: Any) -> Any:
    """Record the chains, grouped by start core node (so chain ``k`` is core arc ``k``)."""
    n = interior.shape[0]
    m = head.shape[0]
    core_id = np.full(n, -1, np.int64)
    nc = 0
    for v in range(n):
        if not interior[v]:
            core_id[v] = nc
            nc += 1
    core_nodes = np.empty(nc, np.int64)
    cptr = np.zeros(nc + 1, np.int64)
    chain_ptr = np.empty(m + 1, np.int64)
    chain_arcs = np.empty(m, np.int64)
    chain_end = np.empty(m, np.int64)
    chain_start = np.empty(m, np.int64)
    in_pos = np.full((n, 2), -1, np.int64)
    k = 0
    p = 0
    chain_ptr[0] = 0
    for u in range(n):
        if interior[u]:
            continue
        core_nodes[core_id[u]] = u
        for a in range(indptr[u], indptr[u + 1]):
            j = a
            while True:
                chain_arcs[p] = j
                v = head[j]
                if not interior[v]:
                    p += 1
                    break
                slot = 0 if in_pos[v, 0] < 0 else 1
                in_pos[v, slot] = p
                p += 1
                j = nxt[j]
            chain_end[k] = core_id[head[chain_arcs[p - 1]]]
            chain_start[k] = core_id[u]
            k += 1
            chain_ptr[k] = p
        cptr[core_id[u] + 1] = k
    chain_node = np.empty(p, np.int64)
    pos_chain = np.empty(p, np.int64)
    for c in range(k):
        for q in range(chain_ptr[c], chain_ptr[c + 1]):
            chain_node[q] = head[chain_arcs[q]]
            pos_chain[q] = c
    return (
        core_id,
        core_nodes,
        cptr,
        chain_ptr[: k + 1].copy(),
        chain_arcs[:p].copy(),
        chain_end[:k].copy(),
        chain_start[:k].copy(),
        chain_node,
        pos_chain,
        in_pos,
    )


@_jit
def _prefix(chain_ptr: Any, chain_arcs: Any, w: Any) -> Any:
    """Within-chain inclusive prefix sums of ``w`` and each chain's total."""
    k = chain_ptr.shape[0] - 1
    cum = np.empty(chain_arcs.shape[0])
    total = np.empty(k)
    for c in range(k):
        s = 0.0
        for q in range(chain_ptr[c], chain_ptr[c + 1]):
            s += w[chain_arcs[q]]
            cum[q] = s
        total[c] = s
    return cum, total


@dataclass(frozen=True)
class Contraction:
    """Core graph and chains of a :class:`RoadGraph` (weight-independent topology)."""

    n: int
    core_id: np.ndarray
    core_nodes: np.ndarray
    cptr: np.ndarray
    chain_ptr: np.ndarray
    chain_arcs: np.ndarray
    chain_end: np.ndarray
    chain_start: np.ndarray
    chain_node: np.ndarray
    pos_chain: np.ndarray
    in_pos: np.ndarray
    rcptr: np.ndarray
    """Reverse core graph: chains ending at core node ``v`` are ``rchain[rcptr[v]:rcptr[v+1]]``."""
    rchain: np.ndarray

    @property
    def n_core(self) -> int:
        return int(self.core_nodes.shape[0])

    def prefix(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(cum, total)`` for arc weights ``w``: chain prefix sums and core arc weights."""
        cum, total = _prefix(self.chain_ptr, self.chain_arcs, np.asarray(w, dtype=np.float64))
        return cum, total


def contract(indptr: np.ndarray, head: np.ndarray, tail: np.ndarray) -> Contraction:
    """Split a CSR graph into core nodes and chains (O(m), compiled)."""
    n = int(indptr.shape[0] - 1)
    interior, nxt = _classify(indptr, head, tail, n)
    _promote_rings(indptr, head, interior, nxt)
    (core_id, core_nodes, cptr, chain_ptr, chain_arcs, chain_end, chain_start, chain_node,
     pos_chain, in_pos) = _chains(indptr, head, interior, nxt)  # fmt: skip
    nc = core_nodes.shape[0]
    rcptr = np.zeros(nc + 1, np.int64)
    np.cumsum(np.bincount(chain_end, minlength=nc), out=rcptr[1:])
    rchain = np.argsort(chain_end, kind="stable").astype(np.int64)
    return Contraction(
        n, core_id, core_nodes, cptr, chain_ptr, chain_arcs, chain_end, chain_start,
        chain_node, pos_chain, in_pos, rcptr, rchain,
    )  # fmt: skip


@_jit
def _core_dijkstra(
    limit: float,
    cptr: Any,
    chain_end: Any,
    total: Any,
    dcore: Any,
    hpos: Any,
    hk: Any,
    hv: Any,
    size: int,
) -> None:
    """Dijkstra on the core graph from the seeds already in the heap (``size`` of them).

    ``hpos[u]``: heap slot, -1 never reached, -2 settled. Stops past ``limit``.
    """
    while size > 0:
        d = hk[0]
        if d > limit:
            break
        u = hv[0]
        size = _pop(hpos, hk, hv, size)
        for a in range(cptr[u], cptr[u + 1]):
            v = chain_end[a]
            nd = d + total[a]
            if nd < dcore[v]:
                dcore[v] = nd
                size = _sift_up(hpos, hk, hv, size, v, nd)


@_jit
def _pop(hpos: Any, hk: Any, hv: Any, size: int) -> int:
    """Remove the root (marked settled, ``hpos = -2``); returns the new heap size."""
    hpos[hv[0]] = -2
    size -= 1
    if size > 0:  # sift the last entry down from the root (4-ary)
        k = hk[size]
        x = hv[size]
        i = 0
        while True:
            c = 4 * i + 1
            if c >= size:
                break
            best = c
            bk = hk[c]
            e = min(c + 4, size)
            for j in range(c + 1, e):
                if hk[j] < bk:
                    bk = hk[j]
                    best = j
            if bk >= k:
                break
            hk[i] = bk
            hv[i] = hv[best]
            hpos[hv[best]] = i
            i = best
        hk[i] = k
        hv[i] = x
        hpos[x] = i
    return size


@_jit
def _sift_up(hpos: Any, hk: Any, hv: Any, size: int, v: int, nd: float) -> int:
    """Insert ``v`` with key ``nd`` or decrease its key; returns the new heap size."""
    i = hpos[v]
    if i == -2:
        return size
    if i == -1:
        i = size
        size += 1
    while i > 0:
        p = (i - 1) >> 2
        if hk[p] <= nd:
            break
        hk[i] = hk[p]
        hv[i] = hv[p]
        hpos[hv[p]] = i
        i = p
    hk[i] = nd
    hv[i] = v
    hpos[v] = i
    return size


@_jit
def _one_to_all(
    s: int,
    limit: float,
    w: Any,
    core_id: Any,
    core_nodes: Any,
    cptr: Any,
    chain_ptr: Any,
    chain_arcs: Any,
    chain_end: Any,
    chain_node: Any,
    pos_chain: Any,
    in_pos: Any,
    cum: Any,
    total: Any,
    out: Any,
    dcore: Any,
    hpos: Any,
    hk: Any,
    hv: Any,
) -> None:
    inf = np.inf
    out[:] = inf
    dcore[:] = inf
    hpos[:] = -1
    size = 0
    cs = core_id[s]
    if cs >= 0:
        dcore[cs] = 0.0
        size = _sift_up(hpos, hk, hv, size, cs, 0.0)
    else:  # interior source: walk its chains from it, seeding their end core nodes
        for slot in range(2):
            q0 = in_pos[s, slot]
            if q0 < 0:
                continue
            last = chain_ptr[pos_chain[q0] + 1] - 1
            d = 0.0
            for q in range(q0 + 1, last + 1):
                d += w[chain_arcs[q]]
                if q == last:
                    e = chain_end[pos_chain[q0]]
                    if d < dcore[e]:
                        dcore[e] = d
                        size = _sift_up(hpos, hk, hv, size, e, d)
                elif d < out[chain_node[q]]:
                    out[chain_node[q]] = d
    _core_dijkstra(limit, cptr, chain_end, total, dcore, hpos, hk, hv, size)
    for u in range(core_nodes.shape[0]):
        if hpos[u] != -2:
            continue
        du = dcore[u]
        out[core_nodes[u]] = du
        for c in range(cptr[u], cptr[u + 1]):
            for q in range(chain_ptr[c], chain_ptr[c + 1] - 1):
                v = chain_node[q]
                nd = du + cum[q]
                if nd < out[v]:
                    out[v] = nd
    out[s] = 0.0
    if limit < inf:
        for v in range(out.shape[0]):
            if out[v] > limit:
                out[v] = inf


@_jit
def _many(
    sources: Any,
    targets: Any,
    limit: float,
    w: Any,
    core_id: Any,
    core_nodes: Any,
    cptr: Any,
    chain_ptr: Any,
    chain_arcs: Any,
    chain_end: Any,
    chain_node: Any,
    pos_chain: Any,
    in_pos: Any,
    cum: Any,
    total: Any,
    out: Any,
) -> None:
    """Rows of ``out`` for each source; only the ``targets`` columns when ``targets`` is
    non-empty (``out`` then has ``len(targets)`` columns). Work arrays reused across sources."""
    n = core_id.shape[0]
    nc = core_nodes.shape[0]
    dcore = np.empty(nc)
    hpos = np.empty(nc, np.int64)
    hk = np.empty(nc)
    hv = np.empty(nc, np.int64)
    pick = targets.shape[0] > 0
    row = np.empty(n)
    for i in range(sources.shape[0]):
        if not pick:
            row = out[i]
        _one_to_all(
            sources[i], limit, w, core_id, core_nodes, cptr, chain_ptr, chain_arcs, chain_end,
            chain_node, pos_chain, in_pos, cum, total, row, dcore, hpos, hk, hv,
        )  # fmt: skip
        if pick:
            for j in range(targets.shape[0]):
                out[i, j] = row[targets[j]]


def many_to_all(
    con: Contraction,
    w: np.ndarray,
    cum: np.ndarray,
    total: np.ndarray,
    sources: np.ndarray,
    *,
    targets: np.ndarray | None = None,
    limit: float = np.inf,
) -> np.ndarray:
    """Distances ``(len(sources), n)`` (or ``len(targets)`` columns); ``inf`` beyond ``limit``
    or unreachable. ``sources``/``targets`` are validated int64 node indices."""
    tgt = np.empty(0, np.int64) if targets is None else targets
    cols = con.n if targets is None else tgt.shape[0]
    out = np.empty((sources.shape[0], cols))
    if targets is not None and cols == 0:
        return out
    _many(
        sources, tgt, float(limit), w, con.core_id, con.core_nodes, con.cptr, con.chain_ptr,
        con.chain_arcs, con.chain_end, con.chain_node, con.pos_chain, con.in_pos, cum, total,
        out,
    )  # fmt: skip
    return out
