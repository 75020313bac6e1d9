"""Point-to-point shortest path with path, on the contracted graph (compiled, exact).

Bidirectional Dijkstra (Pohl 1971; stopping rule of Goldberg & Harrelson 2005: stop when
``top_f + top_b >= mu``) over the core graph of :mod:`corridorguard.routing._sssp`, whose arcs
are whole chains. An interior source seeds the forward search with the end nodes of its chains
(walked from it); an interior target seeds the backward search with the start nodes of its
chains (prefix sums up to it). A target further along one of the source's own chains gives a
direct candidate. The path is unpacked chain by chain into the original arcs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from corridorguard.routing._compiled import _jit
from corridorguard.routing._sssp import Contraction, _pop, _sift_up

__all__ = ["shortest"]


@_jit
def _search(
    s: int, t: int, w: Any, core_id: Any, cptr: Any, chain_ptr: Any, chain_arcs: Any,
    chain_end: Any, chain_start: Any, chain_node: Any, pos_chain: Any, in_pos: Any,
    rcptr: Any, rchain: Any, cum: Any, total: Any,
) -> Any:  # fmt: skip
    """Return ``(mu, meet, direct_from, direct_to, fpred, bpred)``.

    ``fpred[x]``: chain reaching core ``x`` forward, -1 at a core source, ``-2 - q`` when
    seeded by walking the chain that enters the source at position ``q``. ``bpred`` likewise
    towards the target (``-2 - q``: the target's chain position ``q``). ``meet < 0`` and
    ``direct_from >= 0``: the path is the chain stretch ``direct_from + 1 .. direct_to``.
    """
    inf = np.inf
    nc = cptr.shape[0] - 1
    df = np.full(nc, inf)
    db = np.full(nc, inf)
    fpos = np.full(nc, -1, np.int64)
    bpos = np.full(nc, -1, np.int64)
    fk = np.empty(nc)
    bk = np.empty(nc)
    fv = np.empty(nc, np.int64)
    bv = np.empty(nc, np.int64)
    fpred = np.full(nc, -1, np.int64)
    bpred = np.full(nc, -1, np.int64)
    nf = 0
    nb = 0
    mu = inf
    meet = -1
    direct_from = -1
    direct_to = -1
    cs = core_id[s]
    ct = core_id[t]
    if cs >= 0:
        df[cs] = 0.0
        nf = _sift_up(fpos, fk, fv, nf, cs, 0.0)
    else:
        for slot in range(2):
            q0 = in_pos[s, slot]
            if q0 < 0:
                continue
            c = pos_chain[q0]
            last = chain_ptr[c + 1] - 1
            d = 0.0
            for q in range(q0 + 1, last + 1):
                d += w[chain_arcs[q]]
                if q == last:
                    e = chain_end[c]
                    if d < df[e]:
                        df[e] = d
                        fpred[e] = -2 - q0
                        nf = _sift_up(fpos, fk, fv, nf, e, d)
                elif chain_node[q] == t and d < mu:
                    mu = d
                    direct_from = q0
                    direct_to = q
    if ct >= 0:
        db[ct] = 0.0
        nb = _sift_up(bpos, bk, bv, nb, ct, 0.0)
    else:
        for slot in range(2):
            qt = in_pos[t, slot]
            if qt < 0:
                continue
            x = chain_start[pos_chain[qt]]
            if cum[qt] < db[x]:
                db[x] = cum[qt]
                bpred[x] = -2 - qt
                nb = _sift_up(bpos, bk, bv, nb, x, cum[qt])
    for i in range(nb):  # seeds that already meet
        x = bv[i]
        if df[x] + db[x] < mu:
            mu = df[x] + db[x]
            meet = x
    while nf > 0 and nb > 0:
        if fk[0] + bk[0] >= mu:
            break
        if fk[0] <= bk[0]:
            d = fk[0]
            u = fv[0]
            nf = _pop(fpos, fk, fv, nf)
            for a in range(cptr[u], cptr[u + 1]):
                v = chain_end[a]
                nd = d + total[a]
                if nd < df[v]:
                    df[v] = nd
                    fpred[v] = a
                    nf = _sift_up(fpos, fk, fv, nf, v, nd)
                    if nd + db[v] < mu:
                        mu = nd + db[v]
                        meet = v
        else:
            d = bk[0]
            u = bv[0]
            nb = _pop(bpos, bk, bv, nb)
            for j in range(rcptr[u], rcptr[u + 1]):
                a = rchain[j]
                v = chain_start[a]
                nd = d + total[a]
                if nd < db[v]:
                    db[v] = nd
                    bpred[v] = a
                    nb = _sift_up(bpos, bk, bv, nb, v, nd)
                    if nd + df[v] < mu:
                        mu = nd + df[v]
                        meet = v
    if meet >= 0:
        direct_from = -1
    return mu, meet, direct_from, direct_to, fpred, bpred


@_jit
def _unpack(
    meet: int, direct_from: int, direct_to: int, fpred: Any, bpred: Any, chain_ptr: Any,
    chain_arcs: Any, chain_end: Any, chain_start: Any, pos_chain: Any,
) -> Any:  # fmt: skip
    """The arcs of the path, source to target."""
    if meet < 0:
        return chain_arcs[direct_from + 1 : direct_to + 1].copy()
    # count: forward part (meet back to the source), then backward part (meet to target)
    count = 0
    x = meet
    while fpred[x] >= 0:
        k = fpred[x]
        count += chain_ptr[k + 1] - chain_ptr[k]
        x = chain_start[k]
    if fpred[x] <= -2:
        q0 = -2 - fpred[x]
        count += chain_ptr[pos_chain[q0] + 1] - 1 - q0
    n_fwd = count
    x = meet
    while bpred[x] >= 0:
        k = bpred[x]
        count += chain_ptr[k + 1] - chain_ptr[k]
        x = chain_end[k]
    if bpred[x] <= -2:
        qt = -2 - bpred[x]
        count += qt - chain_ptr[pos_chain[qt]] + 1
    arcs = np.empty(count, np.int64)
    i = n_fwd  # forward part is written backwards from n_fwd
    x = meet
    while fpred[x] >= 0:
        k = fpred[x]
        for q in range(chain_ptr[k + 1] - 1, chain_ptr[k] - 1, -1):
            i -= 1
            arcs[i] = chain_arcs[q]
        x = chain_start[k]
    if fpred[x] <= -2:
        q0 = -2 - fpred[x]
        for q in range(chain_ptr[pos_chain[q0] + 1] - 1, q0, -1):
            i -= 1
            arcs[i] = chain_arcs[q]
    i = n_fwd
    x = meet
    while bpred[x] >= 0:
        k = bpred[x]
        for q in range(chain_ptr[k], chain_ptr[k + 1]):
            arcs[i] = chain_arcs[q]
            i += 1
        x = chain_end[k]
    if bpred[x] <= -2:
        qt = -2 - bpred[x]
        for q in range(chain_ptr[pos_chain[qt]], qt + 1):
            arcs[i] = chain_arcs[q]
            i += 1
    return arcs


def shortest(
    con: Contraction, w: np.ndarray, cum: np.ndarray, total: np.ndarray, s: int, t: int
) -> tuple[float, np.ndarray]:
    """``(cost, arcs)`` from node ``s`` to node ``t``; ``cost = inf`` when unreachable."""
    if s == t:
        return 0.0, np.empty(0, np.int64)
    mu, meet, d_from, d_to, fpred, bpred = _search(
        s, t, w, con.core_id, con.cptr, con.chain_ptr, con.chain_arcs, con.chain_end,
        con.chain_start, con.chain_node, con.pos_chain, con.in_pos, con.rcptr, con.rchain,
        cum, total,
    )  # fmt: skip
    if meet < 0 and d_from < 0:
        return float("inf"), np.empty(0, np.int64)
    arcs = _unpack(
        meet, d_from, d_to, fpred, bpred, con.chain_ptr, con.chain_arcs, con.chain_end,
        con.chain_start, con.pos_chain,
    )  # fmt: skip
    return float(mu), arcs
