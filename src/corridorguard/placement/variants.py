"""Location-set covering (LSCP), p-median and p-center, exact on HiGHS.

* LSCP (Toregas, Swain, ReVelle & Bergman 1971): ``min sum_j x_j`` s.t. every coverable demand
  is covered, ``sum_{j in N_i} x_j >= 1``.
* p-median (Hakimi 1964; ReVelle & Swain 1970): ``min sum_ij w_i d_ij z_ij`` s.t.
  ``sum_j z_ij = 1``, ``z_ij <= x_j``, ``sum_j x_j = p`` (only finite ``d_ij`` become variables).
* p-center (Hakimi 1964): minimise the largest distance; solved exactly as a sequence of LSCPs
  over the sorted distinct distances (binary search; Minieka 1970).
* :func:`budgeted_max_cover`: MCLP with a cost per site, a count limit, an optional budget and an
  optional cost penalty (used for checkpoints and their civilian burden).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix, csc_matrix, csr_matrix, hstack, identity, vstack

from corridorguard.errors import SolverError, ValidationError
from corridorguard.placement._highs import MipResult, solve_mip

__all__ = ["LSCP", "PCenter", "PMedian", "budgeted_max_cover"]


class LSCP:
    """Fewest sites covering every coverable demand point.

    Attributes: ``selected_``, ``count_``, ``uncoverable_`` (demand no candidate covers; they
    are reported, not silently dropped), ``status_``.
    """

    def __init__(self, coverage: Any, *, time_limit: float | None = 60.0) -> None:
        self.coverage = csr_matrix(coverage, dtype=np.float64)
        self.coverage.data[:] = 1.0
        self.coverage.eliminate_zeros()
        self.time_limit = time_limit

    def solve(self) -> LSCP:
        a = self.coverage
        _n, m = a.shape
        ok = np.diff(a.indptr) > 0
        self.uncoverable_ = np.nonzero(~ok)[0]
        rows = a[np.nonzero(ok)[0]]
        res = solve_mip(
            cost=np.ones(m),
            lower=np.zeros(m),
            upper=np.ones(m),
            integer=np.ones(m, bool),
            a=csc_matrix(rows),
            row_lower=np.ones(rows.shape[0]),
            row_upper=np.full(rows.shape[0], np.inf),
            time_limit=self.time_limit,
        )
        self.selected_ = np.nonzero(res.x > 0.5)[0]
        self.count_ = int(self.selected_.size)
        self.status_ = res.status
        return self


def _finite_pairs(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = np.asarray(cost, dtype=np.float64)
    i, j = np.nonzero(np.isfinite(c))
    return i, j, c[i, j]


class PMedian:
    """Choose ``p`` sites minimising the weighted sum of each demand's distance to its nearest
    chosen site. ``cost`` is ``(n_demand, n_candidates)``; ``inf`` means "cannot serve".

    Attributes: ``selected_``, ``objective_``, ``assignment_`` (candidate per demand),
    ``bound_``, ``gap_``, ``status_``.
    """

    def __init__(
        self,
        cost: Any,
        weights: Sequence[float] | np.ndarray,
        p: int,
        *,
        time_limit: float | None = 60.0,
    ) -> None:
        self.cost = np.asarray(cost, dtype=np.float64)
        self.weights = np.asarray(weights, dtype=np.float64)
        n, m = self.cost.shape
        if self.weights.shape != (n,):
            raise ValidationError(f"weights must have length {n}", field="weights")
        if not 1 <= p <= m:
            raise ValidationError(f"p must be between 1 and {m}", field="p")
        if not np.isfinite(self.cost).any(axis=1).all():
            raise ValidationError("some demand has no candidate that can serve it", field="cost")
        self.p = int(p)
        self.time_limit = time_limit

    def solve(self) -> PMedian:
        n, m = self.cost.shape
        i, j, c = _finite_pairs(self.cost)
        k = i.size
        # columns: x (m), z (k). rows: n assignment, k linking z - x <= 0, 1 cardinality
        assign = coo_matrix((np.ones(k), (i, m + np.arange(k))), shape=(n, m + k))
        link = hstack(
            [-csr_matrix((np.ones(k), (np.arange(k), j)), shape=(k, m)), identity(k, format="csr")]
        )
        card = csr_matrix(np.concatenate([np.ones(m), np.zeros(k)])[None, :])
        a = csc_matrix(vstack([assign, link, card]))
        res = solve_mip(
            cost=np.concatenate([np.zeros(m), self.weights[i] * c]),
            lower=np.zeros(m + k),
            upper=np.ones(m + k),
            integer=np.concatenate([np.ones(m, bool), np.zeros(k, bool)]),
            a=a,
            row_lower=np.concatenate([np.ones(n), np.full(k, -np.inf), [self.p]]),
            row_upper=np.concatenate([np.ones(n), np.zeros(k), [self.p]]),
            time_limit=self.time_limit,
        )
        self._read(res)
        return self

    def _read(self, res: MipResult) -> None:
        m = self.cost.shape[1]
        self.selected_ = np.nonzero(res.x[:m] > 0.5)[0]
        sub = self.cost[:, self.selected_]
        self.assignment_ = self.selected_[np.argmin(sub, axis=1)]
        self.objective_ = float((self.weights * sub.min(axis=1)).sum())
        self.bound_ = float(res.bound)
        self.gap_ = float(res.gap)
        self.status_ = res.status


class PCenter:
    """Choose ``p`` sites minimising the largest demand-to-nearest-site distance.

    Exact: binary search over the sorted distinct finite distances ``D``, each step asking
    an LSCP whether ``p`` sites can cover every demand within ``D``.
    Attributes: ``selected_``, ``objective_`` (the minimax distance), ``status_``.
    """

    def __init__(self, cost: Any, p: int, *, time_limit: float | None = 60.0) -> None:
        self.cost = np.asarray(cost, dtype=np.float64)
        _n, m = self.cost.shape
        if not 1 <= p <= m:
            raise ValidationError(f"p must be between 1 and {m}", field="p")
        if not np.isfinite(self.cost).any(axis=1).all():
            raise ValidationError("some demand has no candidate that can serve it", field="cost")
        self.p = int(p)
        self.time_limit = time_limit

    def solve(self) -> PCenter:
        vals = np.unique(self.cost[np.isfinite(self.cost)])
        # the optimum is at least the largest "nearest candidate" distance
        lo = int(np.searchsorted(vals, self.cost.min(axis=1).max()))
        hi = vals.size - 1
        best: np.ndarray | None = None
        while lo <= hi:
            mid = (lo + hi) // 2
            lscp = LSCP(self.cost <= vals[mid], time_limit=self.time_limit).solve()
            if lscp.count_ <= self.p and lscp.uncoverable_.size == 0:
                best, hi = lscp.selected_, mid - 1
            else:
                lo = mid + 1
        if best is None:  # pragma: no cover - p >= 1 and all demand servable guarantee a cover
            raise SolverError("p-center: no feasible cover", status="infeasible")
        sel = list(best.tolist())
        for j in np.argsort(self.cost.min(axis=0)).tolist():  # pad to exactly p sites
            if len(sel) >= self.p:
                break
            if j not in sel:
                sel.append(j)
        self.selected_ = np.sort(np.asarray(sel, dtype=np.int64))
        self.objective_ = float(self.cost[:, self.selected_].min(axis=1).max())
        self.status_ = "optimal"
        return self


def budgeted_max_cover(
    coverage: Any,
    weights: np.ndarray,
    site_cost: np.ndarray,
    *,
    max_count: int,
    budget: float | None = None,
    penalty: float = 0.0,
    time_limit: float | None = 30.0,
) -> MipResult:
    """``max sum_i w_i y_i - penalty * sum_j c_j x_j`` s.t. ``y_i <= sum_{j in N_i} x_j``,
    ``sum_j x_j <= max_count``, ``sum_j c_j x_j <= budget`` (if given). Returns the MIP result
    with ``x`` = (site choices, then demand cover values)."""
    a = csr_matrix(coverage, dtype=np.float64)
    a.data[:] = 1.0
    n, m = a.shape
    c = np.asarray(site_cost, dtype=np.float64)
    top = hstack([-a, identity(n, format="csr")])
    rows = [top, csr_matrix(np.concatenate([np.ones(m), np.zeros(n)])[None, :])]
    lo: list[Any] = [np.full(n, -np.inf), [0.0]]
    hi: list[Any] = [np.zeros(n), [float(max_count)]]
    if budget is not None:
        rows.append(csr_matrix(np.concatenate([c, np.zeros(n)])[None, :]))
        lo.append([0.0])
        hi.append([float(budget)])
    return solve_mip(
        cost=np.concatenate([-penalty * c, np.asarray(weights, dtype=np.float64)]),
        lower=np.zeros(m + n),
        upper=np.ones(m + n),
        integer=np.concatenate([np.ones(m, bool), np.zeros(n, bool)]),
        a=csc_matrix(vstack(rows)),
        row_lower=np.concatenate(lo),
        row_upper=np.concatenate(hi),
        maximize=True,
        time_limit=time_limit,
    )
