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

and ``B`` is nonsingular iff the Schur complement ``S = B_kK - C_k B_yK`` (``|Kr| x |K|``)
is. FTRAN and BTRAN are two block substitutions around one solve with ``S`` (derivation in
:func:`_ftran` / :func:`_btran`). ``S`` is sparse (~5 nonzeros per row); it is factorised by
Gaussian elimination with partial pivoting that touches only the nonzeros of the pivot rows
and keeps ``L`` and ``U`` in sparse row and column form (on the benchmark ``S`` has ~190 rows
and ``L + U`` 2,300-4,600 nonzeros). Between refactorisations (every ``refactor_every`` pivots, and
at any structural change) the basis changes are kept as eta columns (product form; the
eta file of a saved basis is never overwritten, so the ``x_j = 0`` child restarts from its
parent's factor without refactorising).

The kernel is **not** small on the benchmark instances: the node LPs are highly primal
degenerate, and their optimal bases keep ~150 ``x_j`` basic at 0 or 1 (tight coverage rows
with ``y_i`` nonbasic at 1), so ``S`` is ~190 x 190 rather than the ~30 fractional ``x_j``.

The iteration is the textbook bounded dual simplex (Koberstein 2005, *The dual simplex
method, techniques for a fast and stable implementation*, ch. 3 and 6; Bixby 2002): boxed
nonbasic columns with a wrong-signed reduced cost are flipped to their other bound; the leaving
row is the most infeasible basic variable over its dual steepest-edge weight (Forrest &
Goldfarb 1992 update; weights kept per variable, saved and restored with the basis, starting
at 1: restoring them with the basis brought the iterations per node LP from ~1.7x to ~1.1x
HiGHS's on seeds 3 and 6, exact initial weights (one BTRAN per row) did not help further);
the entering column by the bound-flipping ratio test (up to ``MAX_FLIPS`` breakpoints
passed) with a Harris tolerance and the largest pivot among near ties. Primal values and
reduced costs are updated per pivot and recomputed from scratch at every refactorisation.

Every failure (singular kernel, a pivot disagreeing between row and column computation,
iteration limit, a non-boxed column dual infeasible beyond the tolerance) returns a code and
the caller solves that LP with HiGHS instead.

**Bound safety.** The value reported to the branch and bound is not the primal objective but
the dual bound of the final duals ``pi``: for any ``pi``, ``c @ z = d @ z + pi @ r`` with
``d = c - A^T pi``, so ``c @ z >= sum_j min(d_j lo_j, d_j hi_j) + sum_r min(pi_r rlo_r, pi_r
rhi_r)`` over any finite box containing the feasible ``(z, r)`` (row bounds intersected with
the activity range implied by the column bounds). The caller (:class:`._mclp_lp.OwnLP`)
recomputes ``d`` from the final ``pi``, so that is a valid bound whatever the tolerances; the
solve is accepted only when the final vertex is primal feasible (within ``1e-9``) and the
bound is within ``1e-9`` (relative) of its objective.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from corridorguard.placement._mclp_kernels import _jit

__all__ = ["dual_simplex", "initial_state"]

OPTIMAL, INFEASIBLE, ITER_LIMIT, SINGULAR, DUAL_INFEASIBLE = 0, 1, -1, -2, -3
MAX_FLIPS = 64
HARRIS = 1.0  # Harris tolerance of the ratio test, in units of the dual tolerance


@_jit
def _lu(s: Any) -> tuple[Any, float, float]:
    """Sparse factors of the square ``s`` (destroyed) by Gaussian elimination with partial
    pivoting, ``P s = L U``; only the nonzeros of each pivot row are updated (the kernels of
    the benchmark keep ~2 nonzeros per row and column in ``L + U``). Returns ``(factor, min
    pivot, max pivot)``, the factor as (perm, L by columns, U by columns, L by rows, U by rows,
    diag(U)) in CSC / CSR arrays (the unit diagonal of ``L`` not stored)."""
    n = s.shape[0]
    perm = np.arange(n)
    pmin, pmax = np.inf, 0.0
    nzc = np.empty(n, np.int64)
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
            break
        nnz = 0
        for c in range(k + 1, n):
            if s[k, c] != 0.0:
                nzc[nnz] = c
                nnz += 1
        for i in range(k + 1, n):
            if s[i, k] != 0.0:
                f = s[i, k] / piv
                s[i, k] = f
                for t in range(nnz):
                    c = nzc[t]
                    s[i, c] -= f * s[k, c]
    # L strictly below the diagonal, U on and above
    nl = 0
    nu = 0
    for i in range(n):
        for c in range(n):
            if s[i, c] != 0.0:
                if c < i:
                    nl += 1
                elif c > i:
                    nu += 1
    diag = np.empty(n)
    l_rp, l_ri, l_rv = np.zeros(n + 1, np.int64), np.empty(nl, np.int64), np.empty(nl)
    u_rp, u_ri, u_rv = np.zeros(n + 1, np.int64), np.empty(nu, np.int64), np.empty(nu)
    l_cp, l_ci, l_cv = np.zeros(n + 1, np.int64), np.empty(nl, np.int64), np.empty(nl)
    u_cp, u_ci, u_cv = np.zeros(n + 1, np.int64), np.empty(nu, np.int64), np.empty(nu)
    tl = 0
    tu = 0
    for i in range(n):
        diag[i] = s[i, i]
        for c in range(n):
            v = s[i, c]
            if v != 0.0:
                if c < i:
                    l_ri[tl] = c
                    l_rv[tl] = v
                    tl += 1
                    l_cp[c + 1] += 1
                elif c > i:
                    u_ri[tu] = c
                    u_rv[tu] = v
                    tu += 1
                    u_cp[c + 1] += 1
        l_rp[i + 1] = tl
        u_rp[i + 1] = tu
    for c in range(n):
        l_cp[c + 1] += l_cp[c]
        u_cp[c + 1] += u_cp[c]
    fl = l_cp[:-1].copy()
    fu = u_cp[:-1].copy()
    for i in range(n):
        for t in range(l_rp[i], l_rp[i + 1]):
            c = l_ri[t]
            l_ci[fl[c]] = i
            l_cv[fl[c]] = l_rv[t]
            fl[c] += 1
        for t in range(u_rp[i], u_rp[i + 1]):
            c = u_ri[t]
            u_ci[fu[c]] = i
            u_cv[fu[c]] = u_rv[t]
            fu[c] += 1
    fac = (perm, l_cp, l_ci, l_cv, u_cp, u_ci, u_cv, l_rp, l_ri, l_rv, u_rp, u_ri, u_rv, diag)
    return fac, pmin, pmax


@_jit
def _lu_solve(f: Any, b: Any) -> Any:
    """``S x = b`` by column-oriented (scatter) triangular solves, skipping zeros."""
    perm, l_cp, l_ci, l_cv, u_cp, u_ci, u_cv = f[0], f[1], f[2], f[3], f[4], f[5], f[6]
    diag = f[13]
    n = b.size
    x = np.empty(n)
    for i in range(n):
        x[i] = b[perm[i]]
    for c in range(n):
        xc = x[c]
        if xc != 0.0:
            for t in range(l_cp[c], l_cp[c + 1]):
                x[l_ci[t]] -= l_cv[t] * xc
    for c in range(n - 1, -1, -1):
        xc = x[c] / diag[c]
        x[c] = xc
        if xc != 0.0:
            for t in range(u_cp[c], u_cp[c + 1]):
                x[u_ci[t]] -= u_cv[t] * xc
    return x


@_jit
def _lu_solve_t(f: Any, b: Any) -> Any:
    """``S^T x = b`` with ``P S = L U``: ``U^T L^T P x = b`` (rows of ``U``, ``L`` as columns
    of their transposes)."""
    perm, l_rp, l_ri, l_rv, u_rp, u_ri, u_rv = f[0], f[7], f[8], f[9], f[10], f[11], f[12]
    diag = f[13]
    n = b.size
    y = b.copy()
    for c in range(n):
        yc = y[c] / diag[c]
        y[c] = yc
        if yc != 0.0:
            for t in range(u_rp[c], u_rp[c + 1]):
                y[u_ri[t]] -= u_rv[t] * yc
    for c in range(n - 1, -1, -1):
        yc = y[c]
        if yc != 0.0:
            for t in range(l_rp[c], l_rp[c + 1]):
                y[l_ri[t]] -= l_rv[t] * yc
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
    rclass, owner, kcols, _krows, kpos, _ = part
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
def _ftran(cptr: Any, cind: Any, cval: Any, part: Any, lu: Any, a: Any) -> Any:
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
    dk = _lu_solve(lu, rhs) if nk > 0 else rhs
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
def _btran(cptr: Any, cind: Any, cval: Any, part: Any, lu: Any, c: Any) -> Any:
    """``pi`` with ``B^T pi = c`` (``c`` by basis position): ``pi_r = -c_r`` on ``Tr``;
    ``g = c_Y - C_r^T pi_r``; ``S^T pi_k = c_K - B_yK^T g - B_rK^T pi_r``; ``pi_y = g -
    C_k^T pi_k``."""
    rclass, owner, kcols, krows, _kpos, _ = part
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
    pk = _lu_solve_t(lu, rhs) if nk > 0 else rhs
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
    rclass, owner, kcols, _krows, kpos, _ = part
    if rclass[pos] == 2:
        return kcols[kpos[pos]]
    return owner[pos]


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
def _pivot_row_rows(rptr: Any, rind: Any, rval: Any, rho: Any, status: Any, n: int) -> Any:
    """The pivot row ``rho^T [A, -I]`` on the nonbasic variables, row-wise over the nonzeros
    of ``rho``; also the list of nonbasic variables it touches."""
    nr = rho.size
    alpha = np.zeros(n + nr)
    mark = np.zeros(n + nr, np.bool_)
    touched = np.empty(n + nr, np.int64)
    nt = 0
    for r in range(nr):
        pr = rho[r]
        if pr == 0.0:
            continue
        v = n + r
        if status[v] != 1:
            alpha[v] = -pr
            touched[nt] = v
            nt += 1
        for t in range(rptr[r], rptr[r + 1]):
            j = rind[t]
            if status[j] != 1:
                if not mark[j]:
                    mark[j] = True
                    touched[nt] = j
                    nt += 1
                alpha[j] += pr * rval[t]
    return alpha, touched[:nt]


@_jit
def _refactor(cptr: Any, cind: Any, cval: Any, ycol: Any, status: Any, n: int) -> Any:
    """Partition, kernel LU and the basic variable of every position; ``ok`` flag last."""
    part = _partition(ycol, status, n)
    nr = ycol.size
    head = np.empty(nr, np.int64)
    if not part[5]:
        lu, _, _ = _lu(np.zeros((0, 0)))
        return part, lu, head, False
    lu, pmin, pmax = _lu(_kernel(cptr, cind, cval, part))
    ok = part[2].size == 0 or pmin > 1e-9 * max(pmax, 1.0)
    for pos in range(nr):
        head[pos] = _basic_var(part, pos)
    return part, lu, head, ok


@_jit
def _ftran_eta(cptr: Any, cind: Any, cval: Any, fac: Any, eta: Any, n_eta: int, a: Any) -> Any:
    """``B^-1 a``: the kernel factor, then the eta matrices of the pivots since."""
    part, lu = fac
    e_pos, e_piv, e_ptr, e_idx, e_val = eta
    y = _ftran(cptr, cind, cval, part, lu, a)
    for k in range(n_eta):
        p = e_pos[k]
        yp = y[p] / e_piv[k]
        y[p] = yp
        if yp != 0.0:
            for t in range(e_ptr[k], e_ptr[k + 1]):
                y[e_idx[t]] -= e_val[t] * yp
    return y


@_jit
def _btran_eta(cptr: Any, cind: Any, cval: Any, fac: Any, eta: Any, n_eta: int, c: Any) -> Any:
    part, lu = fac
    e_pos, e_piv, e_ptr, e_idx, e_val = eta
    c = c.copy()
    for k in range(n_eta - 1, -1, -1):
        p = e_pos[k]
        acc = c[p]
        for t in range(e_ptr[k], e_ptr[k + 1]):
            acc -= e_val[t] * c[e_idx[t]]
        c[p] = acc / e_piv[k]
    return _btran(cptr, cind, cval, part, lu, c)


@_jit
def _all_duals(
    cptr: Any, cind: Any, cval: Any, cost: Any, head: Any, fac: Any, eta: Any, n_eta: int
) -> Any:
    n = cost.size
    nr = head.size
    cb = np.zeros(nr)
    for pos in range(nr):
        if head[pos] < n:
            cb[pos] = cost[head[pos]]
    pi = _btran_eta(cptr, cind, cval, fac, eta, n_eta, cb)
    d = np.zeros(n + nr)
    for j in range(n):
        acc = cost[j]
        for t in range(cptr[j], cptr[j + 1]):
            acc -= pi[cind[t]] * cval[t]
        d[j] = acc
    for r in range(nr):
        d[n + r] = pi[r]
    for pos in range(nr):
        d[head[pos]] = 0.0
    return d


@_jit
def _all_primal(
    cptr: Any,
    cind: Any,
    cval: Any,
    lo: Any,
    hi: Any,
    status: Any,
    head: Any,
    fac: Any,
    eta: Any,
    n_eta: int,
) -> tuple[Any, bool]:
    nr = head.size
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
    xb = _ftran_eta(cptr, cind, cval, fac, eta, n_eta, a)
    for pos in range(nr):
        x[head[pos]] = xb[pos]
    return x, True


@_jit
def _column(cptr: Any, cind: Any, cval: Any, v: int, n: int, nr: int) -> Any:
    a = np.zeros(nr)
    if v < n:
        for t in range(cptr[v], cptr[v + 1]):
            a[cind[t]] = cval[t]
    else:
        a[v - n] = -1.0
    return a


@_jit
def _ratio_flips(
    alpha: Any, touched: Any, d: Any, lo: Any, hi: Any, status: Any, delta: float, tol_d: float
) -> tuple[int, Any]:
    """Bound-flipping ratio test with a Harris tolerance over the nonbasic variables with a
    nonzero in the pivot row (``touched``): the entering variable (-1: none, the LP is
    infeasible) and the boxed variables passed on the way (to flip)."""
    sgn = 1.0 if delta < 0 else -1.0
    nv = touched.size
    cand = np.empty(nv, np.int64)
    ratio = np.empty(nv)
    nc = 0
    for v in touched:
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
        return -1, cand[:0]
    # pass the smallest breakpoints while the slope stays positive (no full sort: few pass)
    passed = np.zeros(nc, np.bool_)
    flips = np.empty(min(nc, MAX_FLIPS), np.int64)
    nf = 0
    slope = abs(delta)
    while nf < flips.size and nf < nc - 1:
        arg, low = -1, np.inf
        for i in range(nc):
            if not passed[i] and ratio[i] < low:
                arg, low = i, ratio[i]
        v = cand[arg]
        if not (np.isfinite(lo[v]) and np.isfinite(hi[v])):
            break
        slope -= abs(alpha[v]) * (hi[v] - lo[v])
        if slope <= 0.0:
            break
        passed[arg] = True
        flips[nf] = v
        nf += 1
    bound = np.inf
    for i in range(nc):
        if not passed[i]:
            v = cand[i]
            dd = d[v] if status[v] == 0 else -d[v]
            bound = min(bound, (max(dd, 0.0) + tol_d) / abs(alpha[v]))
    best, arg = -1.0, -1
    for i in range(nc):
        if not passed[i] and ratio[i] <= bound:
            v = cand[i]
            if abs(alpha[v]) > best:
                best, arg = abs(alpha[v]), v
    return arg, flips[:nf]


@_jit
def _new_eta(nr: int, cap: int) -> Any:
    return (
        np.zeros(cap, np.int64),
        np.zeros(cap),
        np.zeros(cap + 1, np.int64),
        np.zeros(cap * nr, np.int64),
        np.zeros(cap * nr),
    )


@_jit
def dual_simplex(
    cptr: Any,
    cind: Any,
    cval: Any,
    rptr: Any,
    rind: Any,
    rval: Any,
    ycol: Any,
    cost: Any,
    lo: Any,
    hi: Any,
    status: Any,
    state: Any,
    weight: Any,
    max_iter: int,
    tol_p: float,
    tol_d: float,
    refactor_every: int,
) -> Any:
    """Run the dual simplex from the (dual feasible up to bound flips) basis ``status``
    (0 at lower, 1 basic, 2 at upper; modified in place). ``state``: ``(fac, eta, n_eta, head,
    d, fresh)`` from the previous run on the same basis (``fresh``) or anything (not fresh).
    Returns ``(code, iterations, values of every variable, reduced costs, state)``; code 0
    optimal, 1 primal infeasible (dual unbounded), negative: failure (module constants)."""
    n = cost.size
    nr = ycol.size
    fac, eta, n_eta, head, d, fresh = state
    x = np.zeros(n + nr)
    if not fresh:
        part, lu, head, ok = _refactor(cptr, cind, cval, ycol, status, n)
        if not ok:
            return SINGULAR, 0, x, d, (fac, eta, 0, head, d, False)
        fac = (part, lu)
        eta = _new_eta(nr, refactor_every)
        n_eta = 0
        d = _all_duals(cptr, cind, cval, cost, head, fac, eta, n_eta)
    else:
        d = d.copy()
        head = head.copy()
    if not _flip(d, lo, hi, status, tol_d):
        return DUAL_INFEASIBLE, 0, x, d, (fac, eta, n_eta, head, d, False)
    x, ok = _all_primal(cptr, cind, cval, lo, hi, status, head, fac, eta, n_eta)
    if not ok:
        return DUAL_INFEASIBLE, 0, x, d, (fac, eta, n_eta, head, d, False)
    for it in range(max_iter + 1):
        # leaving: the most infeasible basic variable (squared, over its reference weight)
        best, pos, delta = 0.0, -1, 0.0
        for p in range(nr):
            v = head[p]
            if x[v] < lo[v] - tol_p * (1.0 + abs(lo[v])):
                inf = x[v] - lo[v]
            elif x[v] > hi[v] + tol_p * (1.0 + abs(hi[v])):
                inf = x[v] - hi[v]
            else:
                continue
            score = inf * inf / weight[v]
            if score > best:
                best, pos, delta = score, p, inf
        if pos < 0:
            return OPTIMAL, it, x, d, (fac, eta, n_eta, head, d, True)
        if it == max_iter:
            break
        e = np.zeros(nr)
        e[pos] = 1.0
        rho = _btran_eta(cptr, cind, cval, fac, eta, n_eta, e)
        leave = head[pos]
        beta = max(float(rho @ rho), 1e-12)
        alpha, touched = _pivot_row_rows(rptr, rind, rval, rho, status, n)
        q, flips = _ratio_flips(alpha, touched, d, lo, hi, status, delta, HARRIS * tol_d)
        if q < 0:
            return INFEASIBLE, it, x, d, (fac, eta, n_eta, head, d, True)
        col = _ftran_eta(cptr, cind, cval, fac, eta, n_eta, _column(cptr, cind, cval, q, n, nr))
        arq = alpha[q]
        if abs(col[pos] - arq) > 1e-7 * max(1.0, abs(arq)) or abs(arq) < 1e-9:
            return SINGULAR, it, x, d, (fac, eta, n_eta, head, d, False)
        # dual steepest-edge weights (Forrest & Goldfarb 1992), kept per basic variable
        tau = _ftran_eta(cptr, cind, cval, fac, eta, n_eta, rho)
        for p in range(nr):
            if p != pos and col[p] != 0.0:
                r = col[p] / arq
                v = head[p]
                weight[v] = max(weight[v] - 2.0 * r * tau[p] + r * r * beta, r * r, 1e-8)
        weight[q] = max(beta / (arq * arq), 1e-8)
        # duals
        theta = d[q] / arq
        for v in touched:
            d[v] -= theta * alpha[v]
        d[q] = 0.0
        d[leave] = -theta
        # bound flips of the passed boxed variables
        if flips.size > 0:
            da = np.zeros(nr)
            for v in flips:
                if status[v] == 0:
                    step = hi[v] - lo[v]
                    status[v] = 2
                    x[v] = hi[v]
                else:
                    step = lo[v] - hi[v]
                    status[v] = 0
                    x[v] = lo[v]
                if v < n:
                    for t in range(cptr[v], cptr[v + 1]):
                        da[cind[t]] += cval[t] * step
                else:
                    da[v - n] -= step
            dxb = _ftran_eta(cptr, cind, cval, fac, eta, n_eta, da)
            for p in range(nr):
                x[head[p]] -= dxb[p]
        # primal step
        target = lo[leave] if delta < 0 else hi[leave]
        theta_p = (x[leave] - target) / col[pos]
        for p in range(nr):
            if col[p] != 0.0:
                x[head[p]] -= theta_p * col[p]
        x[leave] = target
        x[q] += theta_p
        status[leave] = 0 if delta < 0 else 2
        status[q] = 1
        head[pos] = q
        # eta of this pivot (a fresh buffer past the parent's, never overwriting it)
        e_pos, e_piv, e_ptr, e_idx, e_val = eta
        if n_eta >= e_pos.size:
            part, lu, head, ok = _refactor(cptr, cind, cval, ycol, status, n)
            if not ok:
                return SINGULAR, it, x, d, (fac, eta, 0, head, d, False)
            fac = (part, lu)
            eta = _new_eta(nr, refactor_every)
            n_eta = 0
            d = _all_duals(cptr, cind, cval, cost, head, fac, eta, n_eta)
            x, ok = _all_primal(cptr, cind, cval, lo, hi, status, head, fac, eta, n_eta)
            continue
        start = e_ptr[n_eta]
        t = start
        for p in range(nr):
            if p != pos and col[p] != 0.0:
                e_idx[t] = p
                e_val[t] = col[p]
                t += 1
        e_pos[n_eta] = pos
        e_piv[n_eta] = col[pos]
        e_ptr[n_eta + 1] = t
        n_eta += 1
    return ITER_LIMIT, max_iter, x, d, (fac, eta, n_eta, head, d, False)


def initial_state(nr: int, n: int) -> Any:
    """A ``state`` for :func:`dual_simplex` that makes it factorise from scratch."""
    part = (
        np.zeros(nr, np.int8),
        np.zeros(nr, np.int64),
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros(nr, np.int64),
        False,
    )
    fac = (part, _lu(np.zeros((0, 0)))[0])
    eta = (
        np.zeros(1, np.int64),
        np.zeros(1),
        np.zeros(2, np.int64),
        np.zeros(1, np.int64),
        np.zeros(1),
    )
    return fac, eta, 0, np.zeros(nr, np.int64), np.zeros(n + nr), False
