"""Compiled (numba) MCLP kernels: greedy, incremental 1-swap descent, Lagrangian relaxation,
and the separation of {0,1/2}-cuts (:mod:`corridorguard.placement._mclp_cuts`).

State of a selection ``S`` (the fast-interchange bookkeeping of Whitaker 1983, "A fast
algorithm for the greedy interchange for large-scale clustering and median location problems",
INFOR 21, adapted to coverage):

* ``cnt[i]``: selected candidates covering demand ``i``; ``ssum[i]``: the sum of their indices,
  so when ``cnt[i] == 1`` the one covering site ("owner") is ``ssum[i]`` — O(1) to maintain;
* ``gain[k] = sum of w_i over demand k covers with cnt == 0`` (value of adding ``k``);
* ``loss[j] = sum of w_i over demand j owns`` (value lost by removing ``j``);
* ``once[k] = sum of w_i over demand k covers with cnt == 1``.

The value of swapping ``j`` out and ``k`` in is ``gain[k] - loss[j] + extra(j, k)`` with
``extra(j, k)`` the weight ``j`` owns that ``k`` also covers. For one ``k`` the best ``j`` is
found from ``N(k)`` alone (owners touched there, else the smallest ``loss``), so a scan of the
whole swap neighbourhood costs at most O(nnz); since ``extra(j, k) <= min(loss[j], once[k])``,
``gain[k] + min(0, once[k] - min loss)`` bounds every swap bringing ``k`` in, candidates are
scanned by that bound and the scan stops when none can beat the best move found. A move costs
O(sum of touched row lengths). Everything is exact: values come from the maintained state,
never estimates, and the tests check the descent ends in a 1-swap local optimum.

Compiled once and cached on disk by numba (``cache=True``); without numba the same functions
run as (slow) Python.
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

__all__ = ["AVAILABLE", "descend", "greedy", "lagrangian"]


def _identity(f: Any) -> Any:
    return f


_jit: Any = njit(cache=True, nogil=True) if AVAILABLE else _identity


@_jit
def _init(
    cptr: Any, cind: Any, rptr: Any, rind: Any, w: Any, sel: Any
) -> tuple[Any, Any, Any, Any, Any, Any]:
    n = w.size
    m = cptr.size - 1
    cnt = np.zeros(n, np.int64)
    ssum = np.zeros(n, np.int64)
    insel = np.zeros(m, np.bool_)
    for j in sel:
        insel[j] = True
        for t in range(cptr[j], cptr[j + 1]):
            cnt[cind[t]] += 1
            ssum[cind[t]] += j
    gain = np.zeros(m)
    loss = np.zeros(m)
    once = np.zeros(m)
    for i in range(n):
        if cnt[i] == 0:
            for t in range(rptr[i], rptr[i + 1]):
                gain[rind[t]] += w[i]
        elif cnt[i] == 1:
            loss[ssum[i]] += w[i]
            for t in range(rptr[i], rptr[i + 1]):
                once[rind[t]] += w[i]
    return cnt, ssum, insel, gain, loss, once


@_jit
def _add(k: int, cptr: Any, cind: Any, rptr: Any, rind: Any, w: Any, st: Any) -> float:
    cnt, ssum, insel, gain, loss, once = st
    insel[k] = True
    delta = 0.0
    for t in range(cptr[k], cptr[k + 1]):
        i = cind[t]
        if cnt[i] == 0:
            delta += w[i]
            for u in range(rptr[i], rptr[i + 1]):
                gain[rind[u]] -= w[i]
                once[rind[u]] += w[i]
            loss[k] += w[i]
        elif cnt[i] == 1:
            loss[ssum[i]] -= w[i]
            for u in range(rptr[i], rptr[i + 1]):
                once[rind[u]] -= w[i]
        cnt[i] += 1
        ssum[i] += k
    return delta


@_jit
def _remove(j: int, cptr: Any, cind: Any, rptr: Any, rind: Any, w: Any, st: Any) -> float:
    cnt, ssum, insel, gain, loss, once = st
    insel[j] = False
    delta = 0.0
    for t in range(cptr[j], cptr[j + 1]):
        i = cind[t]
        cnt[i] -= 1
        ssum[i] -= j
        if cnt[i] == 0:
            delta -= w[i]
            for u in range(rptr[i], rptr[i + 1]):
                gain[rind[u]] += w[i]
                once[rind[u]] -= w[i]
            loss[j] -= w[i]
        elif cnt[i] == 1:
            loss[ssum[i]] += w[i]
            for u in range(rptr[i], rptr[i + 1]):
                once[rind[u]] += w[i]
    return delta


@_jit
def _best_swap(cptr: Any, cind: Any, w: Any, st: Any, locked: Any) -> tuple[int, int, float]:
    """Best swap ``(j out, k in, value)`` over all pairs; ``locked`` sites never leave.
    Returns ``k = -1`` when no site may leave."""
    cnt, ssum, insel, gain, loss, once = st
    m = cptr.size - 1
    b1, j1 = np.inf, -1  # the unlocked selected site with the smallest loss
    for j in range(m):
        if insel[j] and not locked[j] and loss[j] < b1:
            b1, j1 = loss[j], j
    if j1 < 0:
        return -1, -1, -np.inf
    # value(j, k) = gain[k] - loss[j] + extra(j, k) and extra(j, k) <= min(loss[j], once[k]),
    # so gain[k] + min(0, once[k] - b1) bounds every swap bringing k in: scan k by that bound
    # and stop when it cannot beat the best move found
    ubk = np.empty(m)
    for k in range(m):
        ubk[k] = -np.inf if insel[k] else gain[k] + min(0.0, once[k] - b1)
    order = np.argsort(-ubk)
    extra = np.zeros(m)
    best_v, best_j, best_k = -np.inf, -1, -1
    for k in order:
        if ubk[k] <= best_v or ubk[k] == -np.inf:
            break
        for t in range(cptr[k], cptr[k + 1]):
            i = cind[t]
            if cnt[i] == 1:
                extra[ssum[i]] += w[i]
        vk, jk = -b1, j1  # untouched owners keep nothing: the smallest loss is best
        for t in range(cptr[k], cptr[k + 1]):
            i = cind[t]
            if cnt[i] == 1:
                o = ssum[i]
                e = extra[o]
                if e > 0.0:
                    extra[o] = 0.0
                    if not locked[o] and e - loss[o] > vk:
                        vk, jk = e - loss[o], o
        if gain[k] + vk > best_v:
            best_v, best_j, best_k = gain[k] + vk, jk, k
    return best_j, best_k, best_v


@_jit
def _descend(
    cptr: Any,
    cind: Any,
    rptr: Any,
    rind: Any,
    w: Any,
    sel: Any,
    locked: Any,
    moves: int,
    tol: float,
) -> Any:
    """Apply the best swap while it improves by more than ``tol`` (at most ``moves``)."""
    m = cptr.size - 1
    st = _init(cptr, cind, rptr, rind, w, sel)
    insel = st[2]
    for _ in range(moves):
        j, k, v = _best_swap(cptr, cind, w, st, locked)
        if k < 0 or v <= tol:
            break
        _remove(j, cptr, cind, rptr, rind, w, st)
        _add(k, cptr, cind, rptr, rind, w, st)
    out = np.empty(sel.size, np.int64)
    pos = 0
    for c in range(m):
        if insel[c]:
            out[pos] = c
            pos += 1
    return out


def descend(cov: Any, sel: np.ndarray, locked: np.ndarray, moves: int = 10_000) -> np.ndarray:
    """Best-improvement 1-swap descent to a local optimum (at most ``moves`` swaps)."""
    m = cov.shape[1]
    lock = np.zeros(m, dtype=np.bool_)
    lock[np.asarray(locked, dtype=np.int64)] = True
    tol = 1e-9 * max(float(cov.w.sum()), 1.0)
    sel = np.asarray(sel, dtype=np.int64)
    return _descend(*_arrays(cov), cov.w, sel, lock, int(moves), tol)


@_jit
def _top(key: Any, fixed: Any, free: int) -> Any:
    """``fixed`` plus the ``free`` smallest keys (ties broken by index)."""
    kth = np.partition(key, free - 1)[free - 1]
    top = np.empty(fixed.size + free, np.int64)
    top[: fixed.size] = fixed
    pos = fixed.size
    for j in range(key.size):  # strictly below the threshold first, then ties
        if key[j] < kth:
            top[pos] = j
            pos += 1
    for j in range(key.size):
        if pos == top.size:
            break
        if key[j] == kth:
            top[pos] = j
            pos += 1
    return top


@_jit
def _greedy(cptr: Any, cind: Any, rptr: Any, rind: Any, w: Any, start: Any, p: int) -> Any:
    st = _init(cptr, cind, rptr, rind, w, start)
    insel, gain = st[2], st[3]
    sel = np.empty(p, np.int64)
    sel[: start.size] = start
    for pos in range(start.size, p):
        best, bj = -np.inf, -1
        for j in range(gain.size):
            if not insel[j] and gain[j] > best:
                best, bj = gain[j], j
        _add(bj, cptr, cind, rptr, rind, w, st)
        sel[pos] = bj
    return sel


def greedy(cov: Any, p: int, start: np.ndarray) -> np.ndarray:
    """Greedy fill from ``start`` to ``p`` sites: add the largest exact marginal gain
    (a ``1 - 1/e`` approximation; Nemhauser, Wolsey & Fisher 1978)."""
    return _greedy(*_arrays(cov), cov.w, np.asarray(start, dtype=np.int64), int(p))


def _arrays(cov: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (
        cov.ac.indptr.astype(np.int64),
        cov.ac.indices.astype(np.int64),
        cov.a.indptr.astype(np.int64),
        cov.a.indices.astype(np.int64),
    )


@_jit
def _lagr(
    cptr: Any,
    cind: Any,
    w: Any,
    fixed: Any,
    free: int,
    iters: int,
    lower: float,
    lam0: Any,
    keep: int,
) -> tuple[Any, Any, Any, float]:
    n = w.size
    m = cptr.size - 1
    isfixed = np.zeros(m, np.bool_)
    for j in fixed:
        isfixed[j] = True
    lam = lam0.copy()
    best_lam = lam.copy()
    best_ub = np.inf
    pool = np.zeros((keep, fixed.size + free), np.int64)  # the best distinct primal sets
    pool_v = np.full(keep, -1.0)
    step = 2.0
    stall = 0
    c = np.zeros(m)
    key = np.zeros(m)
    cnt = np.zeros(n)
    wtot = max(w.sum(), 1.0)
    for _ in range(iters):
        for j in range(m):
            s = 0.0
            for t in range(cptr[j], cptr[j + 1]):
                s += lam[cind[t]]
            c[j] = s
            key[j] = np.inf if isfixed[j] else -s
        top = _top(key, fixed, free)
        ub = 0.0
        for i in range(n):
            if w[i] > lam[i]:
                ub += w[i] - lam[i]
        for j in top:
            ub += c[j]
        if ub < best_ub - 1e-12 * wtot:
            best_ub = ub
            best_lam[:] = lam
            stall = 0
        else:
            stall += 1
            if stall >= 15:
                step /= 2.0
                stall = 0
        cnt[:] = 0.0
        for j in top:
            for t in range(cptr[j], cptr[j + 1]):
                cnt[cind[t]] += 1.0
        value = 0.0
        norm = 0.0
        for i in range(n):
            if cnt[i] > 0.0:
                value += w[i]
            g = (1.0 if w[i] > lam[i] else 0.0) - cnt[i]
            cnt[i] = g
            norm += g * g
        worst = np.argmin(pool_v)
        if value > pool_v[worst] and np.all(np.abs(pool_v - value) > 1e-12 * wtot):
            pool_v[worst] = value
            pool[worst] = top
        lower = max(lower, value)
        if norm == 0.0 or best_ub - lower <= 1e-7 * max(lower, 1.0) or step < 1e-6:
            break
        t_len = step * (ub - lower) / norm
        for i in range(n):
            lam[i] = min(max(lam[i] + t_len * cnt[i], 0.0), w[i])
    order = np.argsort(-pool_v)
    return pool[order], pool_v[order], best_lam, best_ub


def lagrangian(
    cov: Any,
    p: int,
    fixed: np.ndarray,
    iters: int,
    lower: float,
    *,
    lam0: np.ndarray | None = None,
    keep: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Subgradient optimisation (Polyak steps towards ``lower``) of the Lagrangian relaxation of
    ``y_i <= sum x_j``. Returns ``(sets, values, best multipliers, bound)``: the ``keep`` best
    distinct primal sets seen (rows, best first; value -1 = unused row) and their values."""
    lam = 0.5 * cov.w if lam0 is None else np.clip(lam0, 0.0, cov.w)
    sets, values, best_lam, best_ub = _lagr(
        cov.ac.indptr.astype(np.int64),
        cov.ac.indices.astype(np.int64),
        cov.w,
        np.asarray(fixed, dtype=np.int64),
        int(p - len(fixed)),
        int(iters),
        float(lower),
        np.asarray(lam, dtype=np.float64),
        max(int(keep), 1),
    )
    return sets, values, best_lam, float(best_ub)


@_jit
def _triangles(
    gptr: Any, gind: Any, gval: Any, rptr: Any, rind: Any, x: Any, ax: Any, slack: Any, vmin: float
) -> tuple[Any, Any]:
    """Triples ``i < k < l`` of rows, pairwise joined in the graph ``g`` (upper-triangular CSR
    of the pair masses ``M_ik``), whose {0,1/2}-cut is violated by more than ``vmin``; ``rptr``
    / ``rind``: the rows' columns with ``x > 0`` (CSR), ``ax``, ``slack``: per row ``A x`` and
    its slack. Returns ``(triples (t, 3), violations (t,))``, at most ``2**15`` of them (see
    :func:`corridorguard.placement._mclp_cuts.triangle_cuts`; the skips are proved there)."""
    n = gptr.size - 1
    stamp = np.zeros(x.size, np.int64)
    cap = 1 << 15  # more violated triples than this are not collected
    out = np.empty((cap, 3), np.int64)
    viol = np.empty(cap, np.float64)
    t = 0
    tag = 0
    for i in range(n):
        tag += 1
        ti = tag
        for q in range(rptr[i], rptr[i + 1]):
            stamp[rind[q]] = ti
        for e in range(gptr[i], gptr[i + 1]):
            k = gind[e]
            mik = gval[e]
            tag += 1
            tk = tag
            for q in range(rptr[k], rptr[k + 1]):
                if stamp[rind[q]] == ti:
                    stamp[rind[q]] = tk
            # l in nbr(i) after k, and in nbr(k): merge the sorted rows of g
            a, b = e + 1, gptr[k]
            while a < gptr[i + 1] and b < gptr[k + 1]:
                la, lb = gind[a], gind[b]
                if la < lb:
                    a += 1
                elif lb < la:
                    b += 1
                else:
                    mil, mkl = gval[a], gval[b]
                    # c3 >= M_ab + M_ac - (A x)_a for each row a (inclusion-exclusion):
                    # skip the triple when even that lower bound leaves no violation
                    c3_lo = max(0.0, mik + mil - ax[i], mik + mkl - ax[k], mil + mkl - ax[la])
                    odd_lb = ax[i] + ax[k] + ax[la] - 2.0 * (mik + mil + mkl) + 4.0 * c3_lo
                    if 0.5 * (1.0 - slack[i] - slack[k] - slack[la] - odd_lb) <= vmin:
                        a += 1
                        b += 1
                        continue
                    c3 = 0.0
                    for q in range(rptr[la], rptr[la + 1]):
                        if stamp[rind[q]] == tk:
                            c3 += x[rind[q]]
                    odd = ax[i] + ax[k] + ax[la] - 2.0 * (mik + mil + mkl) + 4.0 * c3
                    v = 0.5 * (1.0 - slack[i] - slack[k] - slack[la] - odd)
                    if v > vmin and t < cap:  # (re-binding the arrays here slows the loop 4x)
                        out[t, 0], out[t, 1], out[t, 2] = i, k, la
                        viol[t] = v
                        t += 1
                    a += 1
                    b += 1
            # unmark: the columns of N_i are marked ti again for the next k
            for q in range(rptr[k], rptr[k + 1]):
                if stamp[rind[q]] == tk:
                    stamp[rind[q]] = ti
    return out[:t], viol[:t]
