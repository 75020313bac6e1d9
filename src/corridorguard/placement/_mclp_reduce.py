"""Exact MCLP reductions applied before the MIP (each one keeps an optimal solution).

1. **Row aggregation** (:func:`aggregate_rows`): demand points with the same covering set are
   one demand point with the summed weight (they are covered together or not at all); demand
   no candidate covers, or of weight 0, contributes a constant 0 and is dropped.
2. **Dominated candidates** (:func:`undominated`): if ``N(j) ⊆ N(k)`` (``N`` = the demand a
   candidate covers) then ``j`` is never needed. Proof: write ``j ≺ k`` when ``N(j) ⊊ N(k)``
   or ``N(j) = N(k)`` and ``k < j``; ``≺`` is a strict partial order, so every dominated
   candidate lies below a *maximal* (undominated) one. Given any feasible ``S`` (``|S| = p``),
   replace each non-fixed dominated ``j ∈ S`` by a maximal ``k ≻ j`` if ``k ∉ S``, else by any
   kept candidate outside ``S`` (one exists when at least ``p`` candidates are kept). Coverage
   is monotone and ``N(j) ⊆ N(k)``, so the covered weight does not drop: restricting the MIP to
   the undominated candidates (plus the fixed ones, padded to ``p``) keeps an optimum.
3. **Lagrangian reduced-cost fixing** (:func:`lagrangian_fixing`): for multipliers
   ``lam >= 0``, ``L(lam) = sum_i max(0, w_i - lam_i) + (sum of the p largest c_j)``,
   ``c = A^T lam``, bounds every solution from above. Forcing a candidate ``j`` outside the
   top ``p`` *in* bounds every solution containing ``j`` by ``L - c_(p) + c_j`` (it displaces
   the p-th largest); forcing one of the top ``p`` *out* bounds every solution without it by
   ``L - c_j + c_(p+1)``. When that bound is below the value ``lower`` of a known solution
   (minus a rounding margin), no solution on that side is better than the known one, so the
   variable is fixed (Beasley 1993, "Lagrangean relaxation", in Reeves (ed.), Modern Heuristic
   Techniques for Combinatorial Problems). The known solution satisfies every fixing (else its
   own value would be below itself), so the optimum of the restricted MIP, compared with the
   known solution, is a global optimum.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

from corridorguard.placement._mclp_search import Cover

__all__ = ["aggregate_rows", "lagrangian_fixing", "undominated"]


def aggregate_rows(a: csr_matrix, w: np.ndarray) -> tuple[csr_matrix, np.ndarray]:
    """Merge demand rows with the same covering set (summing weights); drop rows that no
    candidate covers or that weigh nothing. Same optimum, fewer MIP rows and columns.

    Rows are grouped by a random 64-bit hash of their index sets, then every row is checked
    entry by entry against its group's first row; on a (vanishingly rare) hash collision the
    exact dictionary grouping is used instead.
    """
    a = csr_matrix(a)
    a.sort_indices()
    lens = np.diff(a.indptr)
    keep = np.nonzero((lens > 0) & (w > 0))[0]
    if keep.size == 0:
        return csr_matrix((0, a.shape[1])), np.empty(0)
    rng = np.random.default_rng(0x5EED)
    r = rng.integers(1, 2**62, a.shape[1], dtype=np.int64).astype(np.uint64)
    # row key = wrapping sum of random 64-bit column keys, plus the row length
    cs = np.concatenate([np.zeros(1, np.uint64), np.cumsum(r[a.indices], dtype=np.uint64)])
    key = (cs[a.indptr[1:]] - cs[a.indptr[:-1]])[keep] + lens[keep].astype(np.uint64)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    rep = keep[first][inverse]  # representative original row of each kept row
    idx_i = _row_entries(a, keep)
    idx_r = _row_entries(a, rep)
    if not np.array_equal(a.indices[idx_i], a.indices[idx_r]):
        return _aggregate_exact(a, w)
    wsum = np.bincount(inverse, weights=w[keep], minlength=first.size)
    order = np.argsort(keep[first])  # groups in the order of their first row
    return a[keep[first][order]], wsum[order]


def _row_entries(a: csr_matrix, rows: np.ndarray) -> np.ndarray:
    lens = a.indptr[rows + 1] - a.indptr[rows]
    total = int(lens.sum())
    offs = np.repeat(a.indptr[rows] - np.cumsum(lens) + lens, lens)
    return offs + np.arange(total, dtype=np.int64)


def _aggregate_exact(a: csr_matrix, w: np.ndarray) -> tuple[csr_matrix, np.ndarray]:
    groups: dict[bytes, int] = {}
    rows: list[int] = []
    wsum: list[float] = []
    ptr, ind = a.indptr, a.indices
    for i in np.nonzero((np.diff(ptr) > 0) & (w > 0))[0].tolist():
        k = ind[ptr[i] : ptr[i + 1]].tobytes()
        g = groups.get(k)
        if g is None:
            groups[k] = len(rows)
            rows.append(i)
            wsum.append(float(w[i]))
        else:
            wsum[g] += float(w[i])
    return a[np.asarray(rows, dtype=np.int64)], np.asarray(wsum, dtype=np.float64)


def undominated(cov: Cover, fixed: np.ndarray, p: int) -> np.ndarray:
    """Candidates to keep: the undominated ones and the fixed ones, padded to at least ``p``
    (see the module docstring for the proof). Returns sorted candidate indices."""
    m = cov.shape[1]
    size = np.diff(cov.ac.indptr)
    inter = (cov.at @ cov.a).tocoo()  # |N(j) ∩ N(k)|
    j, k = inter.row, inter.col
    sub = (inter.data == size[j]) & (j != k)  # N(j) ⊆ N(k)
    strict = sub & ((size[k] > size[j]) | (k < j))
    dominated = np.zeros(m, dtype=bool)
    dominated[j[strict]] = True
    dominated[size == 0] = True
    if (~dominated).sum() == 0:  # every candidate covers nothing
        dominated[0] = False
    dominated[fixed] = False
    keep = np.nonzero(~dominated)[0]
    if keep.size < p:  # pad with any dominated candidates (they cannot lower the optimum)
        extra = np.nonzero(dominated)[0][: p - keep.size]
        keep = np.sort(np.concatenate([keep, extra]))
    return keep


def lagrangian_fixing(
    cov: Cover, lam: np.ndarray, fixed: np.ndarray, p: int, lower: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """``(fix0, fix1, bound)``: boolean masks of candidates that can be fixed out / in given a
    known solution of value ``lower`` and multipliers ``lam`` (module docstring, point 3)."""
    m = cov.shape[1]
    free = p - fixed.size
    is_fixed = np.zeros(m, dtype=bool)
    is_fixed[fixed] = True
    c = np.asarray(cov.at @ np.clip(lam, 0.0, cov.w)).ravel()
    base = float(np.maximum(cov.w - np.clip(lam, 0.0, cov.w), 0.0).sum() + c[fixed].sum())
    cf = np.where(is_fixed, -np.inf, c)
    n_free = m - fixed.size
    fix0 = np.zeros(m, dtype=bool)
    fix1 = np.zeros(m, dtype=bool)
    if free <= 0 or free >= n_free:
        return fix0, fix1, base + float(cf[cf > -np.inf].sum()) if free > 0 else base
    order = np.argsort(-cf, kind="stable")
    top = order[:free]
    bound = base + float(c[top].sum())
    c_p, c_p1 = float(c[order[free - 1]]), float(c[order[free]])
    margin = 1e-9 * max(abs(lower), float(cov.w.sum()), 1.0)
    intop = np.zeros(m, dtype=bool)
    intop[top] = True
    fix0 = ~is_fixed & ~intop & (bound - c_p + c < lower - margin)
    fix1 = intop & (bound - c + c_p1 < lower - margin)
    return fix0, fix1, bound
