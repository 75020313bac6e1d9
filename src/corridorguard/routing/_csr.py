"""Compiled CSR construction: one validation pass and one counting-sort scatter (O(n + m)).

:func:`build_csr` checks the arc arrays (ends in ``0..n-1``, lengths and times not negative
and not NaN) while counting out-degrees, then scatters every per-arc array to its CSR slot in
a single stable pass. Numba-compiled with ``cache=True``; a NumPy version (``argsort``) is
used when numba is missing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from corridorguard.routing._compiled import AVAILABLE, _jit

__all__ = ["build_csr"]

OK, BAD_END, BAD_VALUE, BAD_EDGE = 0, 1, 2, 3


@_jit
def _count(tail: Any, head: Any, length: Any, time: Any, edge: Any, n: int, indptr: Any) -> int:
    """Out-degree prefix sums into ``indptr``; returns OK / BAD_END / BAD_VALUE / BAD_EDGE."""
    m = tail.shape[0]
    for a in range(m):
        t = tail[a]
        h = head[a]
        if t < 0 or t >= n or h < 0 or h >= n:
            return BAD_END
        if not (length[a] >= 0.0 and time[a] >= 0.0):  # also rejects NaN
            return BAD_VALUE
        if edge[a] < 0:
            return BAD_EDGE
        indptr[t + 1] += 1
    for u in range(n):
        indptr[u + 1] += indptr[u]
    return OK


@_jit
def _scatter(
    tail: Any, head: Any, length: Any, time: Any, edge: Any, indptr: Any,
    o_tail: Any, o_head: Any, o_length: Any, o_time: Any, o_edge: Any,
) -> int:  # fmt: skip
    """Stable counting-sort scatter of the arc arrays by tail; returns max(edge) + 1."""
    n = indptr.shape[0] - 1
    nxt = indptr[:n].copy()
    n_edges = 0
    for a in range(tail.shape[0]):
        t = tail[a]
        p = nxt[t]
        nxt[t] = p + 1
        o_tail[p] = t
        o_head[p] = head[a]
        o_length[p] = length[a]
        o_time[p] = time[a]
        e = edge[a]
        o_edge[p] = e
        if e + 1 > n_edges:
            n_edges = e + 1
    return n_edges


def _numpy_build(
    tail: np.ndarray, head: np.ndarray, length: np.ndarray, time: np.ndarray, edge: np.ndarray,
    n: int,
) -> tuple[int, Any]:  # fmt: skip
    m = tail.shape[0]
    if m and (tail.min() < 0 or head.min() < 0 or max(tail.max(), head.max()) >= n):
        return BAD_END, None
    if m and not (np.all(length >= 0) and np.all(time >= 0)):
        return BAD_VALUE, None
    if m and edge.min() < 0:
        return BAD_EDGE, None
    order = np.argsort(tail, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    n_edges = int(edge.max()) + 1 if m else 0
    arrays = (
        tail[order].astype(np.int32),
        head[order].astype(np.int32),
        length[order],
        time[order],
        edge[order],
    )
    return OK, (indptr, *arrays, n_edges)


def build_csr(
    tail: np.ndarray, head: np.ndarray, length: np.ndarray, time: np.ndarray, edge: np.ndarray,
    n: int,
) -> tuple[int, Any]:  # fmt: skip
    """``(status, (indptr, tail, head, length, time, edge, n_edges))``; arrays sorted by tail
    (stable). ``status`` is OK, BAD_END, BAD_VALUE or BAD_EDGE (then the second item is None)."""
    if not AVAILABLE:  # pragma: no cover - exercised only without numba
        return _numpy_build(tail, head, length, time, edge, n)
    m = tail.shape[0]
    indptr = np.zeros(n + 1, dtype=np.int64)
    status = _count(tail, head, length, time, edge, n, indptr)
    if status != OK:
        return status, None
    o_tail = np.empty(m, np.int32)
    o_head = np.empty(m, np.int32)
    o_length = np.empty(m)
    o_time = np.empty(m)
    o_edge = np.empty(m, np.int64)
    n_edges = _scatter(
        tail, head, length, time, edge, indptr, o_tail, o_head, o_length, o_time, o_edge
    )
    return OK, (indptr, o_tail, o_head, o_length, o_time, o_edge, n_edges)
