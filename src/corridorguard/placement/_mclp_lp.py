"""LP engines for the node LPs of the MCLP branch and bound (:mod:`._mclp_bb`).

The search talks to its LP through :class:`LPEngine` only: solve, change column bounds,
save / restore a basis (warm start), add and delete rows. Two implementations:

* :class:`HighsLP`: one HiGHS instance (``highspy``), exactly what the search always used;
* :class:`OwnLP` (:mod:`._mclp_simplex`): our bounded dual simplex with a small dense
  "kernel" factor of the basis, warm-started from the previous basis; every solve it cannot
  finish cleanly (iteration limit, a tiny pivot, a residual check failing) is handed to a
  HiGHS instance kept in sync, so the search stays exact.

Conventions (HiGHS's): columns are the structural variables; a row ``r`` has the activity
``a_r @ z`` bounded by ``[row_lower, row_upper]``; basis statuses are the integers of
``highspy.HighsBasisStatus`` (0 at lower, 1 basic, 2 at upper).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Protocol

import highspy
import numpy as np
from scipy.sparse import csr_matrix, vstack

from corridorguard.placement._highs import new_model
from corridorguard.placement._mclp_simplex import (
    INFEASIBLE,
    OPTIMAL,
    dual_simplex,
    initial_state,
)

__all__ = [
    "AT_LOWER",
    "AT_UPPER",
    "BASIC",
    "HighsLP",
    "LPEngine",
    "LPError",
    "LPSolution",
    "make_engine",
]

AT_LOWER, BASIC, AT_UPPER = 0, 1, 2
DEFAULT_ENGINE = "highs"  # the own engine is exact but slower on the benchmark (docs)


class LPError(Exception):
    """The LP solver returned something other than optimal / infeasible."""


class LPSolution:
    """An optimal LP solution: ``objective`` (maximised); ``col_value`` / ``col_dual``: the
    values and reduced costs (HiGHS's sign convention) of every column, ``x`` / ``rc`` of the
    first ``n_x`` (the search needs only those; HiGHS hands its vectors over as Python lists,
    so each is converted on first use only)."""

    def __init__(self, objective: float, value: Any, dual: Any, n_x: int) -> None:
        self.objective = objective
        self._value, self._dual, self.n_x = value, dual, n_x

    @cached_property
    def col_value(self) -> np.ndarray:
        return np.asarray(self._get("col_value"), dtype=np.float64)

    @cached_property
    def col_dual(self) -> np.ndarray:
        return np.asarray(self._get("col_dual"), dtype=np.float64)

    @cached_property
    def x(self) -> np.ndarray:
        return np.asarray(self._get("col_value")[: self.n_x], dtype=np.float64)

    @cached_property
    def rc(self) -> np.ndarray:
        return np.asarray(self._get("col_dual")[: self.n_x], dtype=np.float64)

    def _get(self, name: str) -> Any:
        src = self._value if name == "col_value" else self._dual
        if isinstance(src, np.ndarray):
            return src
        return getattr(src, name)  # a HiGHS solution: the attribute is a fresh list


class LPEngine(Protocol):
    """What the branch and bound needs from an LP solver (see the module docstring)."""

    last: LPSolution | None
    """The solution of the last successful :meth:`solve` (every column)."""

    def solve(self, *, primal: bool = False) -> LPSolution | None:
        """Solve from the current basis (``primal``: by primal simplex, for the root);
        ``None`` when infeasible; raises :class:`LPError` on any other outcome."""
        ...

    def set_col_bounds(self, cols: np.ndarray, lo: float, hi: float) -> None: ...

    def get_basis(self) -> Any:
        """An opaque copy of the current basis for :meth:`set_basis`."""
        ...

    def set_basis(self, basis: Any) -> None:
        """Restore a basis from :meth:`get_basis` (rows added since: slack basic)."""
        ...

    def set_highs_basis(self, basis: Any) -> None:
        """Install a ``highspy.HighsBasis`` covering every column and row."""
        ...

    def basis_status(self) -> tuple[np.ndarray, np.ndarray]:
        """``(col_status, row_status)`` as integer arrays."""
        ...

    def add_rows(
        self,
        lower: np.ndarray,
        upper: np.ndarray,
        indptr: np.ndarray,
        index: np.ndarray,
        value: np.ndarray,
    ) -> None:
        """Append rows given in CSR form over the structural columns."""
        ...

    def delete_rows(self, rows: np.ndarray) -> None: ...

    def num_rows(self) -> int: ...


class HighsLP:
    """:class:`LPEngine` on one HiGHS instance (presolve off; dual simplex by default)."""

    def __init__(self, model: dict[str, Any], n_x: int | None = None) -> None:
        self.h = new_model(integer=None, **model)
        self.h.setOptionValue("presolve", "off")
        self.n_col = int(model["a"].shape[1])
        self.n_x = self.n_col if n_x is None else n_x
        self.solves = 0
        self.last: LPSolution | None = None

    def solve(self, *, primal: bool = False) -> LPSolution | None:
        h = self.h
        if primal:
            h.setOptionValue("simplex_strategy", 4)
        h.run()
        if primal:
            h.setOptionValue("simplex_strategy", 1)
        self.solves += 1
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            raise LPError(h.modelStatusToString(status))
        sol = h.getSolution()
        self.last = LPSolution(float(h.getObjectiveValue()), sol, sol, self.n_x)
        return self.last

    def set_col_bounds(self, cols: np.ndarray, lo: float, hi: float) -> None:
        for j in np.asarray(cols).tolist():
            self.h.changeColBounds(j, lo, hi)

    def get_basis(self) -> Any:
        return self.h.getBasis()

    def set_basis(self, basis: Any) -> None:
        extra = self.h.getNumRow() - len(basis.row_status)
        if extra > 0:
            basis.row_status = [*basis.row_status, *[highspy.HighsBasisStatus.kBasic] * extra]
        self.h.setBasis(basis)

    def set_highs_basis(self, basis: Any) -> None:
        self.h.setBasis(basis)

    def basis_status(self) -> tuple[np.ndarray, np.ndarray]:
        basis = self.h.getBasis()
        col = np.array([int(s) for s in basis.col_status], dtype=np.int8)
        row = np.array([int(s) for s in basis.row_status], dtype=np.int8)
        return col, row

    def add_rows(
        self,
        lower: np.ndarray,
        upper: np.ndarray,
        indptr: np.ndarray,
        index: np.ndarray,
        value: np.ndarray,
    ) -> None:
        inf = highspy.kHighsInf
        self.h.addRows(
            lower.size,
            np.where(np.isfinite(lower), lower, -inf).astype(np.float64),
            np.where(np.isfinite(upper), upper, inf).astype(np.float64),
            int(index.size),
            np.asarray(indptr[:-1], dtype=np.int32),
            np.asarray(index, dtype=np.int32),
            np.asarray(value, dtype=np.float64),
        )

    def delete_rows(self, rows: np.ndarray) -> None:
        idx = np.asarray(rows, dtype=np.int32)
        self.h.deleteRows(idx.size, idx)

    def num_rows(self) -> int:
        return int(self.h.getNumRow())


def make_engine(name: str | None, model: dict[str, Any], n_x: int) -> LPEngine:
    """The engine called ``name`` (``"highs"`` or ``"own"``; ``None``: ``DEFAULT_ENGINE``)
    holding ``model`` (the arrays of :func:`corridorguard.placement._highs.new_model`, whose
    first ``n_x`` columns are the ``x_j``)."""
    name = DEFAULT_ENGINE if name is None else name
    if name == "highs":
        return HighsLP(model, n_x)
    if name == "own":
        return OwnLP(model, n_x)
    raise ValueError(f"unknown LP engine {name!r}")


class OwnLP:
    """:class:`LPEngine` on our dual simplex (:mod:`._mclp_simplex`) with HiGHS as fallback.

    The structural columns ``[0, n_x)`` are the ``x_j``; a row with bounds ``(-inf, 0]`` and
    exactly one coefficient ``+1`` on a later column (its ``y_i``, appearing in no other such
    row) is a coverage row, whose ``y_i`` may own it in the kernel factor. ``primal=True``
    solves (the root) and every solve the own simplex does not finish cleanly go to a HiGHS
    instance holding the same model; its basis then becomes ours."""

    max_iter = 400
    refactor_every = 40
    tol_p = 1e-9
    tol_d = 1e-9

    def __init__(self, model: dict[str, Any], n_x: int) -> None:
        self.highs = HighsLP(model, n_x)
        self.n_x = n_x
        self.sign = -1.0 if model.get("maximize") else 1.0
        self.cost = self.sign * np.asarray(model["cost"], dtype=np.float64)
        self.col_lo = np.asarray(model["lower"], dtype=np.float64).copy()
        self.col_hi = np.asarray(model["upper"], dtype=np.float64).copy()
        self.rows = csr_matrix(model["a"])
        self.row_lo = np.asarray(model["row_lower"], dtype=np.float64).copy()
        self.row_hi = np.asarray(model["row_upper"], dtype=np.float64).copy()
        self.status: np.ndarray | None = None  # ours: columns then rows
        self.highs_stale = False  # HiGHS's basis / bounds behind ours
        self.state: Any = None  # the simplex's factor of the basis ``status`` (or None)
        self.weight: np.ndarray | None = None
        self.last: LPSolution | None = None
        self.own_solves = self.fallbacks = self.iterations = 0
        self._structure()

    # --- structure -----------------------------------------------------------------------

    def _structure(self) -> None:
        """Column-wise arrays of the rows, coverage-row owners, implied row activity box."""
        a = self.rows.tocsc()
        a.sort_indices()
        self.cptr = a.indptr.astype(np.int64)
        self.cind = a.indices.astype(np.int64)
        self.cval = a.data.astype(np.float64)
        r = self.rows.tocsr()
        r.sort_indices()
        self.rptr = r.indptr.astype(np.int64)
        self.rind = r.indices.astype(np.int64)
        self.rval = r.data.astype(np.float64)
        n_row, _n = self.rows.shape
        ycol = np.full(n_row, -1, dtype=np.int64)
        cand = np.nonzero(~np.isfinite(self.row_lo) & (self.row_hi == 0.0))[0]
        r = self.rows
        for i in cand.tolist():
            cols, vals = (
                r.indices[r.indptr[i] : r.indptr[i + 1]],
                r.data[r.indptr[i] : r.indptr[i + 1]],
            )
            late = cols >= self.n_x
            if late.sum() == 1 and vals[late][0] == 1.0:
                ycol[i] = cols[late][0]
        # a y column may own only one row and must not appear in another coverage row
        is_cov = ycol >= 0
        owners = ycol[is_cov]
        uniq, cnt = np.unique(owners, return_counts=True)
        bad = set(uniq[cnt > 1].tolist())
        for j in set(owners.tolist()) - bad:
            rows_j = self.cind[self.cptr[j] : self.cptr[j + 1]]
            if is_cov[rows_j].sum() != 1:
                bad.add(j)
        if bad:
            ycol[np.isin(ycol, list(bad))] = -1
        self.ycol = ycol
        # activity range of each row over the global column box [0, 1] (columns x and y)
        pos, neg = r.maximum(0), r.minimum(0)
        glo, ghi = np.minimum(self.col_lo, 0.0), np.maximum(self.col_hi, 1.0)
        act_lo = np.asarray(pos @ glo + neg @ ghi).ravel()
        act_hi = np.asarray(pos @ ghi + neg @ glo).ravel()
        self.rlo = np.maximum(self.row_lo, act_lo)
        self.rhi = np.minimum(self.row_hi, act_hi)

    # --- LPEngine --------------------------------------------------------------------------

    def solve(self, *, primal: bool = False) -> LPSolution | None:
        if primal or self.status is None:
            return self._highs_solve(primal=primal)
        lo = np.concatenate([self.col_lo, self.row_lo])
        hi = np.concatenate([self.col_hi, self.row_hi])
        status = self.status.copy()
        tol_d = self.tol_d * max(float(np.abs(self.cost).max()), 1.0)
        if self.state is None:
            self.state = initial_state(self.row_lo.size, self.cost.size)
        if self.weight is None:
            self.weight = np.ones(lo.size)
        elif self.weight.size < lo.size:  # rows appended since: their slacks start at 1
            self.weight = np.concatenate([self.weight, np.ones(lo.size - self.weight.size)])
        code, iters, val, d, state = dual_simplex(
            self.cptr,
            self.cind,
            self.cval,
            self.rptr,
            self.rind,
            self.rval,
            self.ycol,
            self.cost,
            lo,
            hi,
            status,
            self.state,
            self.weight,
            self.max_iter,
            self.tol_p,
            tol_d,
            self.refactor_every,
        )
        self.iterations += iters
        if code == INFEASIBLE:
            self.own_solves += 1
            self.status, self.state = status, state
            self.highs_stale = True
            return None
        if code == OPTIMAL:
            sol = self._accept(val, d, status)
            if sol is not None:
                self.own_solves += 1
                self.status, self.state = status, state
                self.highs_stale = True
                self.last = sol
                return sol
        self.fallbacks += 1
        self.state = None
        return self._highs_solve(primal=False)

    def _accept(self, val: np.ndarray, d: np.ndarray, status: np.ndarray) -> LPSolution | None:
        """The solution with its safe dual bound as the objective (:mod:`._mclp_simplex`), or
        ``None`` when the vertex is not primal feasible or that bound is not within 1e-9 of
        its objective."""
        n = self.cost.size
        pi = d[n:]
        dj = self.cost - self.rows.T @ pi  # exactly consistent with pi: a valid bound
        z = val[:n]
        act = self.rows @ z
        tol = 1e-9
        if (
            (z < self.col_lo - tol).any()
            or (z > self.col_hi + tol).any()
            or (act < self.row_lo - tol * (1.0 + np.abs(self.row_lo))).any()
            or (act > self.row_hi + tol * (1.0 + np.abs(self.row_hi))).any()
        ):
            return None
        low = float(np.minimum(dj * self.col_lo, dj * self.col_hi).sum())
        rows = np.minimum(pi * self.rlo, pi * self.rhi)
        low += float(np.where(pi == 0.0, 0.0, rows).sum())
        primal = float(self.cost @ z)
        if not np.isfinite(low) or abs(primal - low) > 1e-9 * max(abs(primal), 1.0):
            return None
        return LPSolution(self.sign * low, z.copy(), self.sign * dj, self.n_x)

    def _highs_solve(self, *, primal: bool) -> LPSolution | None:
        if self.highs_stale and self.status is not None:
            self._push_to_highs()
        sol = self.highs.solve(primal=primal)
        col, row = self.highs.basis_status()
        self.status = np.concatenate([col, row]).astype(np.int8)
        self.status[self.status > AT_UPPER] = AT_LOWER
        self.highs_stale = False
        self.state = None
        self.last = sol
        return sol

    def _push_to_highs(self) -> None:
        assert self.status is not None
        h = self.highs.h
        n = self.cost.size
        idx = np.arange(n, dtype=np.int32)
        h.changeColsBounds(n, idx, self.col_lo, self.col_hi)
        st = highspy.HighsBasisStatus
        names = {AT_LOWER: st.kLower, BASIC: st.kBasic, AT_UPPER: st.kUpper}
        basis = highspy.HighsBasis()
        basis.col_status = [names[int(s)] for s in self.status[:n].tolist()]
        basis.row_status = [names[int(s)] for s in self.status[n:].tolist()]
        basis.valid = True
        h.setBasis(basis)

    def set_col_bounds(self, cols: np.ndarray, lo: float, hi: float) -> None:
        cols = np.asarray(cols)
        self.col_lo[cols], self.col_hi[cols] = lo, hi
        self.highs_stale = True

    def get_basis(self) -> Any:
        assert self.status is not None
        weight = None if self.weight is None else self.weight.copy()
        return self.status.copy(), self.state, weight

    def set_basis(self, basis: Any) -> None:
        status, state, weight = basis
        extra = self.cost.size + self.row_lo.size - status.size
        if extra < 0:
            raise LPError("a saved basis with more rows than the LP")
        self.status = np.concatenate([status, np.full(extra, BASIC, dtype=np.int8)])
        self.state = state if extra == 0 else None
        if weight is not None and self.weight is not None:  # the basis's steepest-edge weights
            self.weight = np.concatenate([weight, self.weight[weight.size :]])
        self.highs_stale = True

    def set_highs_basis(self, basis: Any) -> None:
        self.highs.set_highs_basis(basis)
        self.state = None
        self.status = None  # HiGHS's until its next solve

    def basis_status(self) -> tuple[np.ndarray, np.ndarray]:
        assert self.status is not None
        n = self.cost.size
        return self.status[:n].copy(), self.status[n:].copy()

    def add_rows(
        self,
        lower: np.ndarray,
        upper: np.ndarray,
        indptr: np.ndarray,
        index: np.ndarray,
        value: np.ndarray,
    ) -> None:
        if self.highs_stale and self.status is not None:
            self._push_to_highs()
            self.highs_stale = False
        self.highs.add_rows(lower, upper, indptr, index, value)
        new = csr_matrix((value, index, indptr), shape=(lower.size, self.cost.size))
        self.rows = vstack([self.rows, new], format="csr")
        self.row_lo = np.concatenate([self.row_lo, lower])
        self.row_hi = np.concatenate([self.row_hi, upper])
        if self.status is not None:
            self.status = np.concatenate([self.status, np.full(lower.size, BASIC, np.int8)])
        self.state = None
        self._structure()

    def delete_rows(self, rows: np.ndarray) -> None:
        if self.highs_stale and self.status is not None:
            self._push_to_highs()
            self.highs_stale = False
        self.highs.delete_rows(rows)
        keep = np.ones(self.row_lo.size, dtype=bool)
        keep[rows] = False
        self.rows = self.rows[keep]
        self.row_lo, self.row_hi = self.row_lo[keep], self.row_hi[keep]
        if self.status is not None:
            n = self.cost.size
            self.status = np.concatenate([self.status[:n], self.status[n:][keep]])
        self.state = None
        self.weight = None
        self._structure()

    def num_rows(self) -> int:
        return int(self.row_lo.size)
