"""Cuts for the MCLP root LP: Gomory mixed-integer (GMI) cuts from the optimal simplex tableau
and {0,1/2}-cuts from three coverage rows.

The LP relaxation of the MCLP (:mod:`corridorguard.placement._mclp_bb`) has half-integral
vertices (``x_j`` at 0.25, 0.5, 0.75 on the benchmark instances), which is why the LP bound
sits 0.03-0.25 % above the optimum and the search needs hundreds of nodes. A few rounds of
GMI cuts at the root close most of that gap (seed 5 of the benchmark: 2,908.4 -> 2,903.2
against the optimum 2,901.5 in six rounds) for a few milliseconds each.

Derivation (Gomory 1960; Marchand, Martin, Weismantel & Wolsey 2002, "Cutting planes in
integer and mixed integer programming", Discrete Applied Math. 123, section 3; Cornuéjols 2008,
"Valid inequalities for mixed integer linear programs", Math. Programming 112). Write the LP
as ``A z - r = 0`` with bounds ``l <= (z, r) <= u`` (``r`` the row activities); the first
``n_int`` structural columns (the ``x_j``) are integer and have integral bounds, every other
variable is continuous. For an optimal basis ``B``, the tableau row of a basic integer
variable ``x_b`` is ``x_b + sum_{k nonbasic} abar_k v_k = beta``. Substituting ``t_k = v_k -
l_k`` (``v_k`` at its lower bound) or ``t_k = u_k - v_k`` (at its upper bound), so ``t >= 0``
and ``t_k`` is integer for integer ``v_k``, gives ``x_b + sum a_k t_k = b`` with
``f0 = b - floor(b)`` in ``(0, 1)`` at a fractional vertex. Every mixed-integer point
satisfies

    sum_{k integer} min(f_k / f0, (1 - f_k) / (1 - f0)) t_k
      + sum_{k continuous, a_k > 0} a_k / f0 t_k
      + sum_{k continuous, a_k < 0} -a_k / (1 - f0) t_k  >=  1

with ``f_k = a_k - floor(a_k)``, while the current vertex (all ``t = 0``) violates it. Back
in ``z`` (``r = A z``) this is a linear inequality on the structural columns; it is valid for
every integer solution within the bounds used. The caller derives cuts only from bounds that
every solution better than the incumbent satisfies (the global bounds plus root reduced-cost
fixings), so no solution better than the incumbent is ever cut off.

Floating point: the tableau comes from a sparse LU of ``B`` (SciPy ``splu``), not from the
LP solver; rows with ``f0`` within ``1e-3`` of an integer are skipped, coefficients below
``1e-9`` (relative) are dropped by relaxing the right-hand side with the column's bounds (a
valid weakening), cuts whose coefficient range exceeds ``1e6`` or with more than ``MAX_NNZ``
terms are discarded (dense GMI cuts were weak on the benchmark instances and slowed every node
LP), and every right-hand side is lowered by ``1e-7`` relative (so a rounding error cannot
make a cut cut off a feasible point by more than that, far below the search's pruning
margin). The tests check every cut against every feasible selection of small instances.

**{0,1/2}-cuts from three coverage rows** (:func:`triangle_cuts`; Caprara & Fischetti 1996,
"{0, 1/2}-Chvátal-Gomory cuts", Math. Programming 74). On instances whose LP spreads ``x``
(seeds 1, 6 and 8 of the benchmark keep no GMI cut: all of them are dense) the gap comes from
demand rows covered "half" by columns they share with other rows. For any feasible ``x``
(integral) the best ``y`` is integral (``y_i = min(1, A_i x)``), and the ``y``-box of an
integral ``x`` has integral vertices, so an inequality valid for all integral ``(x, y)`` with
``y <= min(1, A x)`` holds at every feasible point. For rows ``D = {i, k, l}`` add the three
coverage rows ``y_d - A_d x <= 0`` and the three bounds ``y_d <= 1`` and halve::

    sum_{d in D} y_d - sum_j (c_j / 2) x_j <= 3 / 2,   c_j = |{d in D : j covers d}|

With ``x >= 0``, rounding the coefficients of ``x`` down (``-c_j / 2 -> -ceil(c_j / 2)``) keeps
it valid, and at integral points the left-hand side is an integer, so the right-hand side
rounds down to 1: ``sum_{j} ceil(c_j / 2) x_j - sum_{d in D} y_d >= -1`` (a Chvátal-Gomory
cut with multipliers 1/2). Directly: with no column of ``N(D)`` chosen every ``y_d = 0``;
with two or more, the left-hand side is ``>= 2 - 3``; with exactly one column ``j``, either
``j`` covers all three (coefficient 2) or at most two ``y_d`` are 1. The cut holds at every
feasible point, so it never cuts off a solution, at the root or anywhere in the tree, and its
coefficients and right-hand side are small integers (no rounding safety needed).

Its violation at an LP point is ``(1 - sum_{d in D} s_d - odd) / 2`` with the row slacks
``s_d = (A_d x - y_d) + (1 - y_d)`` and ``odd = sum_{j : c_j odd} x_j``. Writing
``M_ik = sum_{j in N_i ∩ N_k} x_j`` (the mass rows ``i`` and ``k`` share), ``c3`` the mass
of the columns covering all three rows, ``odd = sum_D A_d x - 2 (M_ik + M_kl + M_il) + 4 c3``.
The separation (:func:`corridorguard.placement._mclp_kernels._triangles`) enumerates triangles
of the graph of candidate rows joined by their pair masses, skipping what cannot be violated
by more than ``vmin`` (each skip is a proof, so only the least violated cuts are missed):

* a row with ``s_d >= 1 - 2 vmin`` (the violation is at most ``(1 - s_d) / 2``);
* a row covered by a column with ``x_j = 1``: if ``j`` covers one or three rows of ``D`` then
  ``odd >= 1``; if it covers ``i`` and ``k`` but not ``l``, the mass of ``l`` shared with ``i``
  or ``k`` is slack in those rows (``A_i x >= 1 +`` it), and the rest of ``l``'s mass is odd or
  missing (``1 - y_l``), so ``sum s + odd >= 1``;
* a pair with ``M_ik`` outside ``(vmin, 1 - vmin)``: with ``e_d = A_d x - 1`` (``|e_d| <= s_d``),
  ``c1`` the mass covering one row only, ``M_ik = (1 + e_i + e_k - e_l - c1_i - c1_k + c1_l +
  c3) / 2``, so ``|M_ik - 1/2| <= (sum |e_d| + c1 + c3) / 2 <= 1/2 - violation``;
* a triple whose violation bound with ``c3 >= max(0, M_ik + M_il - A_i x, ...)``
  (inclusion-exclusion in each row) is already at most ``vmin``.

At most two cuts per row are kept per round (the most violated first), so one dense cluster
does not take the whole round. On the benchmark (30 km) they take the search from 834 to ~210
nodes over 18 instances (seed 6: 195 -> 39).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix, hstack, identity
from scipy.sparse.linalg import splu

from corridorguard.placement._mclp_kernels import _triangles

__all__ = ["Cut", "gmi_cuts", "triangle_cuts", "violated_triangles"]

_F_MIN = 1e-3  # fractionality below which a tableau row is not used
_DYNAMISM = 1e6  # max |coef| / min |coef| of a kept cut
_DROP = 1e-9  # coefficients below this (relative to the largest) are relaxed away
_RELAX = 1e-7  # relative safety lowering of the right-hand side
MAX_NNZ = 100  # denser cuts slow every node LP more than they tighten the bound


@dataclass(frozen=True)
class Cut:
    """``coef @ z[index] >= rhs`` over the structural columns; ``efficacy`` = violation at
    the LP point divided by the coefficient norm."""

    index: np.ndarray
    coef: np.ndarray
    rhs: float
    efficacy: float


def gmi_cuts(
    a: csc_matrix,
    bounds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    basic: np.ndarray,
    at_upper: np.ndarray,
    z: np.ndarray,
    n_int: int,
    max_cuts: int,
) -> list[Cut]:
    """GMI cuts from the basis of an optimal LP vertex ``z`` (structural values).

    ``a``: the ``(rows, cols)`` constraint matrix; ``bounds = (col_lo, col_hi, row_lo,
    row_hi)``; ``basic``: indices of the basic variables in ``[0, cols + rows)`` (columns
    first, then row activities), one per row; ``at_upper``: for every variable, whether a
    nonbasic one sits at its upper bound. Returns at most ``max_cuts`` violated cuts, the most
    efficacious first.
    """
    rows, cols = a.shape
    lo = np.concatenate([bounds[0], bounds[2]])
    hi = np.concatenate([bounds[1], bounds[3]])
    full = hstack([a, -identity(rows, format="csc")], format="csc")
    value = np.concatenate([z, a @ z])
    frac = value[basic] - np.floor(value[basic])
    pick = np.nonzero((basic < n_int) & (frac > _F_MIN) & (frac < 1 - _F_MIN))[0]
    if pick.size == 0:
        return []
    nonbasic = np.ones(cols + rows, dtype=bool)
    nonbasic[basic] = False
    nb = np.nonzero(nonbasic)[0]
    bnd = np.where(at_upper[nb], hi[nb], lo[nb])
    ok = np.isfinite(bnd)
    nb, bnd = nb[ok], bnd[ok]  # a nonbasic variable sits at a finite bound (free ones: none)
    sgn = np.where(at_upper[nb], -1.0, 1.0)
    is_int = nb < n_int
    if basic.size != rows:
        return []
    try:
        lu = splu(full[:, basic].tocsc())
    except RuntimeError:  # numerically singular: no cuts from this basis
        return []
    rhs_unit = np.zeros((rows, pick.size))
    rhs_unit[pick, np.arange(pick.size)] = 1.0
    u = lu.solve(rhs_unit, trans="T")  # rows of B^-1, one per picked basic variable
    tab = np.asarray(full[:, nb].T @ u)  # tableau entries of the nonbasic variables
    coef, rhs = _gmi(tab * sgn[:, None], frac[pick], (is_int, nb, sgn, bnd), a)
    keep, eff = _safe(coef, rhs, bounds[0], bounds[1], z)
    order = [c for c in np.argsort(-eff, kind="stable") if keep[c]][:max_cuts]
    cuts = []
    for c in order:
        idx = np.nonzero(coef[:, c])[0]
        cuts.append(Cut(idx, coef[idx, c], float(rhs[c]), float(eff[c])))
    return cuts


def _gmi(
    ap: np.ndarray,
    f0: np.ndarray,
    nonbasic: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    a: csc_matrix,
) -> tuple[np.ndarray, np.ndarray]:
    """The GMI cuts of the tableau rows (columns of ``ap``: entries in the ``t`` variables,
    fractionalities ``f0``) as ``coef.T @ z >= rhs`` over the structural columns."""
    is_int, nb, sgn, bnd = nonbasic
    rows, cols = a.shape
    ap = np.where(np.abs(ap) < 1e-12, 0.0, ap)
    fk = ap - np.floor(ap)
    gam = np.where(
        is_int[:, None],
        np.minimum(fk / f0, (1.0 - fk) / (1.0 - f0)),
        np.where(ap > 0, ap / f0, -ap / (1.0 - f0)),
    )
    # sum gam t >= 1 with t = sgn (v - bnd): sum gam sgn v >= 1 + sum gam sgn bnd
    g = gam * sgn[:, None]
    rhs = 1.0 + bnd @ g
    struct = nb < cols
    coef = np.zeros((cols, ap.shape[1]))
    coef[nb[struct]] = g[struct]
    row_part = np.zeros((rows, ap.shape[1]))
    row_part[nb[~struct] - cols] = g[~struct]
    coef += np.asarray(a.T @ row_part)  # r = A z
    return coef, rhs


def _safe(
    coef: np.ndarray, rhs: np.ndarray, lo: np.ndarray, hi: np.ndarray, z: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Make the cuts (columns of ``coef``; modified in place, with ``rhs``) numerically safe
    (module docstring) and return ``(usable, efficacy)``."""
    absc = np.abs(coef)
    big = absc.max(axis=0)
    small = (absc < _DROP * big) & (coef != 0)
    # drop tiny terms: c z <= max(c lo, c hi), so the rest must cover rhs - max(c lo, c hi)
    worst = np.maximum(coef * lo[:, None], coef * hi[:, None])
    rhs -= np.where(small, worst, 0.0).sum(axis=0)
    coef[small] = 0.0
    nz = coef != 0
    nnz = nz.sum(axis=0)
    absc = np.abs(coef)
    smallest = np.where(nz, absc, np.inf).min(axis=0)
    usable = (
        (big > 0)
        & (nnz > 0)
        & (nnz <= MAX_NNZ)
        & (absc.max(axis=0) <= _DYNAMISM * smallest)
        & np.isfinite(rhs)
    )
    rhs -= _RELAX * np.maximum(np.abs(rhs), 1.0)
    norm = np.maximum(np.linalg.norm(coef, axis=0), 1e-300)
    eff = (rhs - z @ coef) / norm
    return usable & (eff > 1e-6), eff


def violated_triangles(
    a: csr_matrix, x: np.ndarray, y: np.ndarray, vmin: float
) -> tuple[np.ndarray, np.ndarray]:
    """Every triple of rows ``i < k < l`` of ``a`` whose {0,1/2}-cut is violated by more than
    ``vmin`` at ``(x, y)`` (``0 <= y <= min(1, a @ x)``), as ``(rows (t, 3), violations)``
    (module docstring: the filters below only skip triples that cannot be)."""
    ax = np.asarray(a @ x).ravel()
    slack = np.maximum(ax - y, 0.0) + np.maximum(1.0 - y, 0.0)
    one = np.asarray(a @ (x >= 1.0 - 1e-9).astype(np.float64)).ravel() > 0
    cand = np.nonzero((slack < 1.0 - 2.0 * vmin) & ~one)[0]
    if cand.size < 3:
        return np.empty((0, 3), dtype=np.int64), np.empty(0)
    pos = np.nonzero(x > 1e-9)[0]  # only these columns carry mass
    af = csr_matrix(csr_matrix(a[cand])[:, pos])
    af.sort_indices()
    pair = (csr_matrix(af.multiply(x[pos][None, :])) @ af.T).tocoo()
    keep = (pair.row < pair.col) & (pair.data > vmin) & (pair.data < 1.0 - vmin)
    g = csr_matrix(
        (pair.data[keep], (pair.row[keep], pair.col[keep])), shape=(cand.size, cand.size)
    )
    g.sort_indices()
    tri, viol = _triangles(
        g.indptr.astype(np.int64),
        g.indices.astype(np.int64),
        g.data.astype(np.float64),
        af.indptr.astype(np.int64),
        af.indices.astype(np.int64),
        np.ascontiguousarray(x[pos], dtype=np.float64),
        ax[cand],
        slack[cand],
        float(vmin),
    )
    return cand[tri], viol


def triangle_cuts(
    a: csr_matrix, x: np.ndarray, y: np.ndarray, max_cuts: int, vmin: float = 0.1
) -> list[Cut]:
    """{0,1/2}-cuts from three coverage rows ``D = {i, k, l}`` of ``a`` (demand x candidates)
    violated by more than ``vmin`` at the LP point ``(x, y)`` (module docstring):
    ``sum_j ceil(c_j / 2) x_j - sum_{d in D} y_d >= -1`` with ``c_j`` the rows of ``D`` that
    ``j`` covers, over the columns ``(x, y)`` (``y_d`` is column ``m + d``). At most two cuts
    per row, the most violated first, at most ``max_cuts``."""
    m = a.shape[1]
    tri, viol = violated_triangles(a, x, y, vmin)
    used = np.zeros(a.shape[0], dtype=np.int64)
    cuts: list[Cut] = []
    # most violated first; ties (many triples at 0.5) by row index, immune to rounding noise
    for t in np.lexsort((tri[:, 2], tri[:, 1], tri[:, 0], -np.round(viol, 9))).tolist():
        rows = tri[t]
        if (used[rows] >= 2).any():
            continue
        used[rows] += 1
        cols, cnt = np.unique(
            np.concatenate([a.indices[a.indptr[r] : a.indptr[r + 1]] for r in rows.tolist()]),
            return_counts=True,
        )
        coef = np.concatenate([(cnt + 1) // 2, -np.ones(3)]).astype(np.float64)
        index = np.concatenate([cols, m + rows]).astype(np.int64)
        cuts.append(Cut(index, coef, -1.0, float(viol[t]) / float(np.linalg.norm(coef))))
        if len(cuts) >= max_cuts:
            break
    return cuts
