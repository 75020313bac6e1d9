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

from dataclasses import dataclass
from typing import Any, Protocol

import highspy
import numpy as np

from corridorguard.placement._highs import new_model

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


class LPError(Exception):
    """The LP solver returned something other than optimal / infeasible."""


@dataclass
class LPSolution:
    """An optimal LP solution: ``objective`` (maximised), the structural column values
    ``col_value`` and their reduced costs ``col_dual`` (HiGHS's sign convention)."""

    objective: float
    col_value: np.ndarray
    col_dual: np.ndarray


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

    def __init__(self, model: dict[str, Any]) -> None:
        self.h = new_model(integer=None, **model)
        self.h.setOptionValue("presolve", "off")
        self.n_col = int(model["a"].shape[1])
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
        self.last = LPSolution(
            float(h.getInfo().objective_function_value),
            np.asarray(sol.col_value, dtype=np.float64),
            np.asarray(sol.col_dual, dtype=np.float64),
        )
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


def make_engine(name: str, model: dict[str, Any]) -> LPEngine:
    """The engine called ``name`` (``"highs"`` or ``"own"``) holding ``model`` (the arrays of
    :func:`corridorguard.placement._highs.new_model`)."""
    if name == "highs":
        return HighsLP(model)
    raise ValueError(f"unknown LP engine {name!r}")
