"""Compiled (numba) bidirectional Dijkstra on the CSR arrays, with path.

Same algorithm as :func:`corridorguard.routing._search.bidirectional` (stop when
``top_f + top_b >= mu``), on flat arrays and two lazy binary heaps. Compiled once and cached
on disk by numba (``cache=True``). :data:`AVAILABLE` is False when numba cannot be imported;
callers then fall back to the pure-Python search.
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:  # numba is a declared dependency; keep the package importable without it
    from numba import njit
except ImportError:  # pragma: no cover - exercised only on broken installs
    AVAILABLE = False
else:
    AVAILABLE = True

__all__ = ["AVAILABLE", "bidirectional_arrays"]


def _identity(f: Any) -> Any:
    return f


_jit: Any = njit(cache=True, nogil=True) if AVAILABLE else _identity


@_jit
def _push(keys: Any, vals: Any, size: int, k: float, v: int) -> int:
    i = size
    keys[i] = k
    vals[i] = v
    while i > 0:
        p = (i - 1) >> 1
        if keys[p] <= k:
            break
        keys[i] = keys[p]
        vals[i] = vals[p]
        i = p
    keys[i] = k
    vals[i] = v
    return size + 1


@_jit
def _pop(keys: Any, vals: Any, size: int) -> Any:
    k0 = keys[0]
    v0 = vals[0]
    size -= 1
    if size > 0:
        k = keys[size]
        v = vals[size]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= size:
                break
            if c + 1 < size and keys[c + 1] < keys[c]:
                c += 1
            if keys[c] >= k:
                break
            keys[i] = keys[c]
            vals[i] = vals[c]
            i = c
        keys[i] = k
        vals[i] = v
    return k0, v0, size


@_jit
def bidirectional_arrays(
    indptr: Any, head: Any, tail: Any, w: Any, rindptr: Any, rtail: Any, rarc: Any, s: int, t: int
) -> Any:
    """Return ``(cost, arcs)``; ``cost = inf`` and no arcs when ``t`` is unreachable."""
    n = indptr.shape[0] - 1
    m = head.shape[0]
    inf = np.inf
    df = np.full(n, inf)
    db = np.full(n, inf)
    pf = np.full(n, -1, np.int64)
    pb = np.full(n, -1, np.int64)
    done_f = np.zeros(n, np.bool_)
    done_b = np.zeros(n, np.bool_)
    kf = np.empty(m + 1)
    vf = np.empty(m + 1, np.int64)
    kb = np.empty(m + 1)
    vb = np.empty(m + 1, np.int64)
    df[s] = 0.0
    db[t] = 0.0
    nf = _push(kf, vf, 0, 0.0, s)
    nb = _push(kb, vb, 0, 0.0, t)
    mu = inf
    meet = -1
    if s == t:
        mu = 0.0
        meet = s
    while nf > 0 and nb > 0:
        if kf[0] + kb[0] >= mu:
            break
        if kf[0] <= kb[0]:
            d, u, nf = _pop(kf, vf, nf)
            if done_f[u]:
                continue
            done_f[u] = True
            for a in range(indptr[u], indptr[u + 1]):
                v = head[a]
                nd = d + w[a]
                if nd < df[v]:
                    df[v] = nd
                    pf[v] = a
                    nf = _push(kf, vf, nf, nd, v)
                    if nd + db[v] < mu:
                        mu = nd + db[v]
                        meet = v
        else:
            d, u, nb = _pop(kb, vb, nb)
            if done_b[u]:
                continue
            done_b[u] = True
            for j in range(rindptr[u], rindptr[u + 1]):
                v = rtail[j]
                a = rarc[j]
                nd = d + w[a]
                if nd < db[v]:
                    db[v] = nd
                    pb[v] = a
                    nb = _push(kb, vb, nb, nd, v)
                    if nd + df[v] < mu:
                        mu = nd + df[v]
                        meet = v
    if meet < 0:
        return inf, np.empty(0, np.int64)
    count = 0
    v = meet
    while v != s:
        v = tail[pf[v]]
        count += 1
    v = meet
    while v != t:
        v = head[pb[v]]
        count += 1
    arcs = np.empty(count, np.int64)
    v = meet
    i = 0
    while v != s:
        a = pf[v]
        i += 1
        v = tail[a]
    k = i
    v = meet
    while v != s:
        k -= 1
        arcs[k] = pf[v]
        v = tail[pf[v]]
    v = meet
    while v != t:
        arcs[i] = pb[v]
        i += 1
        v = head[pb[v]]
    return mu, arcs
