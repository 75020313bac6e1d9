"""Gomory mixed-integer (GMI) cuts from the optimal simplex tableau of the MCLP root LP.

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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix, hstack, identity
from scipy.sparse.linalg import splu

from corridorguard.placement._mclp_kernels import _triangles

__all__ = ["Cut", "gmi_cuts"]

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



def triangle_cuts(
    a: csr_matrix, x: np.ndarray, y: np.ndarray, max_cuts: int, vmin: float = 0.1
) -> list[Cut]:
    """{0,1/2}-cuts from three coverage rows ``D = {i, k, l}`` violated by more than ``vmin``
    at the LP point ``(x, y)`` (module docstring, "{0,1/2}-cuts"): ``sum_{j} ceil(c_j / 2)
    x_j - sum_{d in D} y_d >= -1`` with ``c_j`` the rows of ``D`` that ``j`` covers. At most
    two cuts per row, the most violated first, at most ``max_cuts``."""
    m = a.shape[1]
    ax = np.asarray(a @ x).ravel()
    slack = np.maximum(ax - y, 0.0) + np.maximum(1.0 - y, 0.0)
    # a row covered by an x_j = 1 column is in no violated cut (module docstring)
    one = np.asarray(a @ (x >= 1.0 - 1e-9).astype(np.float64)).ravel() > 0
    cand = np.nonzero((slack < 1.0 - 2.0 * vmin) & ~one)[0]
    if cand.size < 3:
        return []
    ac = csr_matrix(a[cand])
    ac.sort_indices()
    pair = (csr_matrix(ac.multiply(x[None, :])) @ ac.T).tocoo()
    keep = (pair.row < pair.col) & (pair.data > vmin) & (pair.data < 1.0 - vmin)
    g = csr_matrix(
        (pair.data[keep], (pair.row[keep], pair.col[keep])), shape=(cand.size, cand.size)
    )
    g.sort_indices()
    tri, viol = _triangles(
        g.indptr.astype(np.int64),
        g.indices.astype(np.int64),
        g.data.astype(np.float64),
        ac.indptr.astype(np.int64),
        ac.indices.astype(np.int64),
        np.asarray(x, dtype=np.float64),
        ax[cand],
        slack[cand],
        float(vmin),
    )
    used = np.zeros(cand.size, dtype=np.int64)
    cuts: list[Cut] = []
    for t in np.argsort(-viol, kind="stable").tolist():
        rows = tri[t]
        if (used[rows] >= 2).any():
            continue
        used[rows] += 1
        cols, cnt = np.unique(
            np.concatenate([ac.indices[ac.indptr[r] : ac.indptr[r + 1]] for r in rows.tolist()]),
            return_counts=True,
        )
        coef = np.concatenate([(cnt + 1) // 2, -np.ones(3)]).astype(np.float64)
        index = np.concatenate([cols, m + np.sort(cand[rows])]).astype(np.int64)
        cuts.append(Cut(index, coef, -1.0, float(viol[t]) / float(np.linalg.norm(coef))))
        if len(cuts) >= max_cuts:
            break
    return cuts
