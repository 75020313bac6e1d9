"""A bounded dual simplex for the MCLP node LPs, with a small dense "kernel" factor of the basis.

The LP (computational form, minimising): ``min c @ z`` s.t. ``A z - r = 0``, ``lo <= (z, r)
<= hi``; ``z`` the structural columns (``x`` then ``y`` for the MCLP), ``r`` the row
activities. A basis has one basic variable per row. Most rows of the MCLP are coverage rows
``y_i - A_i x <= 0``: in a basis their row activity ``r_i`` or their ``y_i`` is (almost always)
basic. Order the rows as

* ``Ty``: coverage rows whose ``y_i`` is basic and ``r_i`` nonbasic ("owned" by ``y_i``);
* ``Tr``: rows whose activity ``r_r`` is basic (column ``-e_r``);
* ``Kr``: the rest (tight rows without an owner: the cardinality row, tight cuts, tight
  coverage rows with ``y_i`` nonbasic),

and the basic columns as the owners of ``Ty`` and ``Tr`` plus the "kernel" columns ``K``
(basic ``x_j``, basic ``y_i`` whose row is owned by ``r_i``). With ``y_i``'s column having
its own row's ``1`` and entries only in non-coverage (cut) rows,

    B = [[I, 0, B_yK], [C_r, -I, B_rK], [C_k, 0, B_kK]]

and ``B`` is nonsingular iff the Schur complement ``S = B_kK - C_k B_yK`` (``|Kr| x |K|``;
about the number of fractional ``x_j`` plus tight cuts: 10-60 on the benchmark) is. ``S`` is
built and LU-factorised densely (partial pivoting) at every iteration, so there are no
eta files, no drift and no refactorisation schedule; FTRAN and BTRAN are the two block
substitutions around one dense solve (derivation in :func:`_ftran` / :func:`_btran`).

The iteration is the textbook bounded dual simplex (Koberstein 2005, *The dual simplex
method, techniques for a fast and stable implementation*, ch. 3; Bixby 2002): primal values and
duals are recomputed from the factor at every iteration (no update errors can accumulate);
boxed nonbasic columns with a wrong-signed reduced cost are flipped to their other bound;
the leaving row is the most infeasible basic variable (scaled by the dual steepest-edge
reference weight ``||rho||^2`` once computed for that row); the entering column by the
bound-flipping ratio test with a Harris-type tolerance and the largest pivot among near ties.

Every failure (singular kernel, iteration limit, a non-boxed column dual infeasible beyond the
tolerance) returns a code and the caller solves that LP with HiGHS instead.

**Bound safety.** The value reported to the branch and bound is not the primal objective but
the dual bound of the final duals ``pi``: for any ``pi``, ``c @ z = d @ z + pi @ r`` with
``d = c - A^T pi``, so ``c @ z >= sum_j min(d_j lo_j, d_j hi_j) + sum_r min(pi_r rlo_r, pi_r
rhi_r)`` over any finite box containing the feasible ``(z, r)`` (row bounds intersected with
the activity range implied by the column bounds). That is a valid bound whatever the
tolerances, and the solve is accepted only when it is within ``1e-9`` (relative) of the primal
objective of the (primal feasible within ``1e-9``) final vertex.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from corridorguard.placement._mclp_kernels import _jit

__all__ = ["dual_simplex"]

OPTIMAL, INFEASIBLE, ITER_LIMIT, SINGULAR, DUAL_INFEASIBLE = 0, 1, -1, -2, -3


@_jit
def _lu(s: Any) -> tuple[Any, Any, float, float]:
    """In-place LU with partial pivoting of the square ``s``; ``(s, perm, min, max pivot)``."""
    n = s.shape[0]
    perm = np.arange(n)
    pmin, pmax = np.inf, 0.0
    for k in range(n):
        best, arg = -1.0, k
        for i in range(k, n):
            v = abs(s[i, k])
            if v > best:
                best, arg = v, i
        if arg != k:
            for c in range(n):
                s[k, c], s[arg, c] = s[arg, c], s[k, c]
            perm[k], perm[arg] = perm[arg], perm[k]
        piv = s[k, k]
        pmin, pmax = min(pmin, abs(piv)), max(pmax, abs(piv))
        if piv == 0.0:
            return s, perm, 0.0, pmax
        for i in range(k + 1, n):
            f = s[i, k] / piv
            if f != 0.0:
                s[i, k] = f
                for c in range(k + 1, n):
                    s[i, c] -= f * s[k, c]
            else:
                s[i, k] = 0.0
    return s, perm, pmin, pmax


@_jit
def _lu_solve(lu: Any, perm: Any, b: Any) -> Any:
    n = b.size
    x = np.empty(n)
    for i in range(n):
        x[i] = b[perm[i]]
    for i in range(n):
        acc = x[i]
        for c in range(i):
            acc -= lu[i, c] * x[c]
        x[i] = acc
    for i in range(n - 1, -1, -1):
        acc = x[i]
        for c in range(i + 1, n):
            acc -= lu[i, c] * x[c]
        x[i] = acc / lu[i, i]
    return x


@_jit
def _lu_solve_t(lu: Any, perm: Any, b: Any) -> Any:
    """Solve ``S^T x = b`` with ``P S = L U``: ``U^T L^T P x = b``."""
    n = b.size
    y = b.copy()
    for i in range(n):
        acc = y[i]
        for c in range(i):
            acc -= lu[c, i] * y[c]
        y[i] = acc / lu[i, i]
    for i in range(n - 1, -1, -1):
        acc = y[i]
        for c in range(i + 1, n):
            acc -= lu[c, i] * y[c]
        y[i] = acc
    x = np.empty(n)
    for i in range(n):
        x[perm[i]] = y[i]
    return x


@_jit
def _partition(ycol: Any, status: Any, n: int) -> tuple[Any, Any, Any, Any, Any, bool]:
    """Row classes (0 ``Ty``, 1 ``Tr``, 2 ``Kr``), row owners, kernel columns and rows, the
    position of each kernel row; ``ok`` is False when the basis has the wrong size."""
    nr = ycol.size
    rclass = np.full(nr, 2, np.int8)
    owner = np.full(nr, -1, np.int64)
    owned = np.zeros(n, np.bool_)
    for r in range(nr):
        if status[n + r] == 1:
            rclass[r] = 1
            owner[r] = n + r
        else:
            j = ycol[r]
            if j >= 0 and status[j] == 1:
                rclass[r] = 0
                owner[r] = j
                owned[j] = True
    nk = 0
    for j in range(n):
        if status[j] == 1 and not owned[j]:
            nk += 1
    kcols = np.empty(nk, np.int64)
    nk = 0
    for j in range(n):
        if status[j] == 1 and not owned[j]:
            kcols[nk] = j
            nk += 1
    krows = np.nonzero(rclass == 2)[0]
    kpos = np.full(nr, -1, np.int64)
    for k in range(krows.size):
        kpos[krows[k]] = k
    return rclass, owner, kcols, krows, kpos, krows.size == nk


@_jit
def _kernel(cptr: Any, cind: Any, cval: Any, part: Any) -> Any:
    """The Schur complement ``S = B_kK - C_k B_yK`` (module docstring)."""
    rclass, owner, kcols, krows, kpos, _ = part
    nk = kcols.size
    s = np.zeros((nk, nk))
    for k in range(nk):
        j = kcols[k]
        for t in range(cptr[j], cptr[j + 1]):
            i = cind[t]
            v = cval[t]
            if rclass[i] == 2:
                s[kpos[i], k] += v
            elif rclass[i] == 0:
                yj = owner[i]
                for t2 in range(cptr[yj], cptr[yj + 1]):
                    c = cind[t2]
                    if rclass[c] == 2:
                        s[kpos[c], k] -= cval[t2] * v
    return s


@_jit
def _ftran(cptr: Any, cind: Any, cval: Any, part: Any, lu: Any, perm: Any, a: Any) -> Any:
    """``B^-1 a`` by basis position (the row a basic variable owns; kernel column ``k`` sits
    at ``krows[k]``). With ``d = (d_Y, d_R, d_K)``: ``S d_K = a_k - C_k a_y``, ``d_Y = a_y -
    B_yK d_K``, ``d_R = C_r d_Y + B_rK d_K - a_r``."""
    rclass, owner, kcols, krows, kpos, _ = part
    nr = a.size
    nk = kcols.size
    rhs = np.empty(nk)
    for k in range(nk):
        rhs[k] = a[krows[k]]
    out = np.zeros(nr)
    for i in range(nr):
        if rclass[i] == 0:
            out[i] = a[i]
            if a[i] != 0.0:
                yj = owner[i]
                for t2 in range(cptr[yj], cptr[yj + 1]):
                    c = cind[t2]
                    if rclass[c] == 2:
                        rhs[kpos[c]] -= cval[t2] * a[i]
        elif rclass[i] == 1:
            out[i] = -a[i]
    dk = _lu_solve(lu, perm, rhs) if nk > 0 else rhs
    for k in range(nk):
        j = kcols[k]
        if dk[k] != 0.0:
            for t in range(cptr[j], cptr[j + 1]):
                i = cind[t]
                if rclass[i] == 0:
                    out[i] -= cval[t] * dk[k]
                elif rclass[i] == 1:
                    out[i] += cval[t] * dk[k]
    for i in range(nr):
        if rclass[i] == 0 and out[i] != 0.0:
            yj = owner[i]
            for t2 in range(cptr[yj], cptr[yj + 1]):
                c = cind[t2]
                if rclass[c] == 1:
                    out[c] += cval[t2] * out[i]
    for k in range(nk):
        out[krows[k]] = dk[k]
    return out


@_jit
def _btran(cptr: Any, cind: Any, cval: Any, part: Any, lu: Any, perm: Any, c: Any) -> Any:
    """``pi`` with ``B^T pi = c`` (``c`` by basis position): ``pi_r = -c_r`` on ``Tr``;
    ``g = c_Y - C_r^T pi_r``; ``S^T pi_k = c_K - B_yK^T g - B_rK^T pi_r``; ``pi_y = g -
    C_k^T pi_k``."""
    rclass, owner, kcols, krows, kpos, _ = part
    nr = c.size
    nk = kcols.size
    pi = np.zeros(nr)
    for r in range(nr):
        if rclass[r] == 1:
            pi[r] = -c[r]
    g = np.zeros(nr)
    for i in range(nr):
        if rclass[i] == 0:
            acc = c[i]
            yj = owner[i]
            for t2 in range(cptr[yj], cptr[yj + 1]):
                cc = cind[t2]
                if rclass[cc] == 1:
                    acc -= cval[t2] * pi[cc]
            g[i] = acc
    rhs = np.empty(nk)
    for k in range(nk):
        acc = c[krows[k]]
        j = kcols[k]
        for t in range(cptr[j], cptr[j + 1]):
            i = cind[t]
            if rclass[i] == 0:
                acc -= cval[t] * g[i]
            elif rclass[i] == 1:
                acc -= cval[t] * pi[i]
        rhs[k] = acc
    pk = _lu_solve_t(lu, perm, rhs) if nk > 0 else rhs
    for k in range(nk):
        pi[krows[k]] = pk[k]
    for i in range(nr):
        if rclass[i] == 0:
            acc = g[i]
            yj = owner[i]
            for t2 in range(cptr[yj], cptr[yj + 1]):
                cc = cind[t2]
                if rclass[cc] == 2:
                    acc -= cval[t2] * pi[cc]
            pi[i] = acc
    return pi


@_jit
def _basic_var(part: Any, pos: int) -> int:
    rclass, owner, kcols, krows, kpos, _ = part
    if rclass[pos] == 2:
        return kcols[kpos[pos]]
    return owner[pos]


@_jit
def _duals(cptr: Any, cind: Any, cval: Any, cost: Any, part: Any, lu: Any, perm: Any) -> Any:
    """``(pi, d)``: row duals and the reduced costs of every variable (row ``r``: ``pi_r``)."""
    n = cost.size
    nr = part[0].size
    cb = np.zeros(nr)
    for pos in range(nr):
        v = _basic_var(part, pos)
        if v < n:
            cb[pos] = cost[v]
    pi = _btran(cptr, cind, cval, part, lu, perm, cb)
    d = np.empty(n + nr)
    for j in range(n):
        acc = cost[j]
        for t in range(cptr[j], cptr[j + 1]):
            acc -= pi[cind[t]] * cval[t]
        d[j] = acc
    for r in range(nr):
        d[n + r] = pi[r]
    return pi, d


@_jit
def _flip(d: Any, lo: Any, hi: Any, status: Any, tol_d: float) -> bool:
    """Move boxed nonbasic variables with a wrong-signed reduced cost to the other bound;
    False if a non-boxed one is dual infeasible beyond ``tol_d``."""
    for v in range(d.size):
        st = status[v]
        if st == 1 or lo[v] == hi[v]:
            continue
        if st == 0 and d[v] < -tol_d:
            if not np.isfinite(hi[v]):
                return False
            status[v] = 2
        elif st == 2 and d[v] > tol_d:
            if not np.isfinite(lo[v]):
                return False
            status[v] = 0
    return True


@_jit
def _primal(
    cptr: Any, cind: Any, cval: Any, lo: Any, hi: Any, status: Any, part: Any, lu: Any, perm: Any
) -> tuple[Any, bool]:
    """All variable values: nonbasic at their bound, basic from ``B x_B = -N x_N``."""
    nr = part[0].size
    n = lo.size - nr
    x = np.zeros(n + nr)
    a = np.zeros(nr)
    for v in range(n + nr):
        st = status[v]
        if st == 1:
            continue
        val = lo[v] if st == 0 else hi[v]
        if not np.isfinite(val):
            return x, False
        x[v] = val
        if v < n:
            for t in range(cptr[v], cptr[v + 1]):
                a[cind[t]] -= cval[t] * val
        else:
            a[v - n] += val
    xb = _ftran(cptr, cind, cval, part, lu, perm, a)
    for pos in range(nr):
        x[_basic_var(part, pos)] = xb[pos]
    return x, True


@_jit
def _leaving(x: Any, lo: Any, hi: Any, part: Any, weight: Any, tol_p: float) -> tuple[int, float]:
    """The basis position of the most infeasible basic variable (infeasibility squared over
    its reference weight) and its signed infeasibility (``< 0``: below its lower bound)."""
    best, arg, delta = 0.0, -1, 0.0
    for pos in range(part[0].size):
        v = _basic_var(part, pos)
        if x[v] < lo[v] - tol_p * (1.0 + abs(lo[v])):
            inf = x[v] - lo[v]
        elif x[v] > hi[v] + tol_p * (1.0 + abs(hi[v])):
            inf = x[v] - hi[v]
        else:
            continue
        score = inf * inf / weight[v]
        if score > best:
            best, arg, delta = score, pos, inf
    return arg, delta


@_jit
def _ratio(alpha: Any, d: Any, lo: Any, hi: Any, status: Any, delta: float, tol_d: float) -> int:
    """Bound-flipping ratio test with a Harris tolerance; the entering variable or -1."""
    sgn = 1.0 if delta < 0 else -1.0  # leaving to its lower bound: d_j + t alpha_j, t >= 0
    nv = d.size
    cand = np.empty(nv, np.int64)
    ratio = np.empty(nv)
    nc = 0
    for v in range(nv):
        st = status[v]
        if st == 1 or lo[v] == hi[v]:
            continue
        a = sgn * alpha[v]
        if (st == 0 and a < -1e-9) or (st == 2 and a > 1e-9):
            dd = d[v] if st == 0 else -d[v]
            cand[nc] = v
            ratio[nc] = max(dd, 0.0) / abs(a)
            nc += 1
    if nc == 0:
        return -1
    order = np.argsort(ratio[:nc])
    slope = abs(delta)
    k = 0
    while k < nc - 1:
        v = cand[order[k]]
        if not (np.isfinite(lo[v]) and np.isfinite(hi[v])):
            break
        slope -= abs(alpha[v]) * (hi[v] - lo[v])
        if slope <= 0.0:
            break
        k += 1
    bound = np.inf
    for i in range(k, nc):
        v = cand[order[i]]
        dd = d[v] if status[v] == 0 else -d[v]
        bound = min(bound, (max(dd, 0.0) + tol_d) / abs(alpha[v]))
    best, arg = -1.0, -1
    for i in range(k, nc):
        if ratio[order[i]] > bound:
            break
        v = cand[order[i]]
        if abs(alpha[v]) > best:
            best, arg = abs(alpha[v]), v
    return arg


@_jit
def _pivot_row(cptr: Any, cind: Any, cval: Any, rho: Any, status: Any, n: int) -> Any:
    nr = rho.size
    alpha = np.zeros(n + nr)
    for j in range(n):
        if status[j] != 1:
            acc = 0.0
            for t in range(cptr[j], cptr[j + 1]):
                acc += rho[cind[t]] * cval[t]
            alpha[j] = acc
    for r in range(nr):
        if status[n + r] != 1:
            alpha[n + r] = -rho[r]
    return alpha


@_jit
def dual_simplex(
    cptr: Any,
    cind: Any,
    cval: Any,
    ycol: Any,
    cost: Any,
    lo: Any,
    hi: Any,
    status: Any,
    max_iter: int,
    tol_p: float,
    tol_d: float,
) -> tuple[int, int, Any, Any]:
    """Run the dual simplex from the (dual feasible up to bound flips) basis ``status``
    (0 at lower, 1 basic, 2 at upper; modified in place). Returns ``(code, iterations,
    values of every variable, reduced costs of every variable)``; code 0 optimal, 1
    primal infeasible (dual unbounded), negative: failure (see module constants)."""
    n = cost.size
    nr = ycol.size
    weight = np.ones(n + nr)
    x = np.zeros(n + nr)
    d = np.zeros(n + nr)
    for it in range(max_iter + 1):
        part = _partition(ycol, status, n)
        if not part[5]:
            return SINGULAR, it, x, d
        lu, perm, pmin, pmax = _lu(_kernel(cptr, cind, cval, part))
        if kcols_size(part) > 0 and pmin <= 1e-9 * max(pmax, 1.0):
            return SINGULAR, it, x, d
        _pi, d = _duals(cptr, cind, cval, cost, part, lu, perm)
        if not _flip(d, lo, hi, status, tol_d):
            return DUAL_INFEASIBLE, it, x, d
        x, ok = _primal(cptr, cind, cval, lo, hi, status, part, lu, perm)
        if not ok:
            return DUAL_INFEASIBLE, it, x, d
        pos, delta = _leaving(x, lo, hi, part, weight, tol_p)
        if pos < 0:
            return OPTIMAL, it, x, d
        if it == max_iter:
            break
        e = np.zeros(nr)
        e[pos] = 1.0
        rho = _btran(cptr, cind, cval, part, lu, perm, e)
        leave = _basic_var(part, pos)
        weight[leave] = max(float(rho @ rho), 1e-12)
        alpha = _pivot_row(cptr, cind, cval, rho, status, n)
        q = _ratio(alpha, d, lo, hi, status, delta, tol_d)
        if q < 0:
            return INFEASIBLE, it, x, d
        status[leave] = 0 if delta < 0 else 2
        status[q] = 1
    return ITER_LIMIT, max_iter, x, d


@_jit
def kcols_size(part: Any) -> int:
    return part[2].size
