"""A thin, silent bridge to HiGHS (``highspy``): pass a model as CSC arrays, solve, read back.

The model is handed over in one ``passModel`` call straight from SciPy sparse matrices (no
modelling layer), which is where the speed over PuLP-based tools comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
from scipy.sparse import csc_matrix

from corridorguard.errors import SolverError

__all__ = ["MipResult", "new_model", "solve_mip"]


@dataclass(frozen=True)
class MipResult:
    status: str
    """``optimal`` or ``time_limit`` (with an incumbent)."""
    x: np.ndarray
    objective: float
    bound: float
    """Best proven bound on the objective (dual bound); equals ``objective`` when optimal."""
    gap: float
    """Relative gap ``|bound - objective| / max(|objective|, 1e-9)``."""


def _new_highs() -> Any:
    # The public ``highspy.Highs`` wrapper prints a banner on stdout when constructed; the core
    # class does not, and has the same methods we use.
    core = getattr(getattr(highspy, "_core", None), "_Highs", None)
    h = core() if core is not None else highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def solve_mip(
    *,
    cost: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    integer: np.ndarray,
    a: csc_matrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    maximize: bool = False,
    time_limit: float | None = None,
    mip_rel_gap: float = 1e-6,
    start: np.ndarray | None = None,
    seed: int = 0,
    options: dict[str, bool | int | float | str] | None = None,
) -> MipResult:
    """Solve ``opt cost @ x`` s.t. ``row_lower <= a @ x <= row_upper``, bounds, integrality.

    Raises :class:`SolverError` when infeasible, unbounded, or stopped without an incumbent.
    """
    is_mip = bool(np.any(integer))
    h = new_model(
        cost=cost,
        lower=lower,
        upper=upper,
        integer=integer,
        a=a,
        row_lower=row_lower,
        row_upper=row_upper,
        maximize=maximize,
    )
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.setOptionValue("random_seed", int(seed))
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    if start is not None and is_mip:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=np.float64).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    ok = highspy.HighsModelStatus
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    if status == ok.kOptimal:
        obj = float(info.objective_function_value)
        bound = float(info.mip_dual_bound) if is_mip else obj
        if not np.isfinite(bound):
            bound = obj
        return MipResult("optimal", x, obj, bound, _gap(obj, bound))
    has_incumbent = x.size == a.shape[1] and int(info.primal_solution_status) == 2
    if status in (ok.kTimeLimit, ok.kInterrupt, ok.kSolutionLimit, ok.kIterationLimit) and (
        has_incumbent
    ):
        obj = float(info.objective_function_value)
        bound = float(info.mip_dual_bound)
        return MipResult("time_limit", x, obj, bound, _gap(obj, bound))
    name = h.modelStatusToString(status)
    raise SolverError(f"HiGHS stopped without a usable solution: {name}", status=name)


def new_model(
    *,
    cost: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    integer: np.ndarray | None,
    a: csc_matrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    maximize: bool = False,
) -> Any:
    """A silent HiGHS instance holding the model (not yet solved): for repeated solves, e.g.
    LP relaxations re-solved warm after bound changes (``changeColBounds`` then ``run``)."""
    inf = highspy.kHighsInf
    a = csc_matrix(a)
    a.sort_indices()
    n_col, n_row = a.shape[1], a.shape[0]
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = n_row
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.where(np.isfinite(lower), lower, -inf).astype(np.float64)
    lp.col_upper_ = np.where(np.isfinite(upper), upper, inf).astype(np.float64)
    lp.row_lower_ = np.where(np.isfinite(row_lower), row_lower, -inf).astype(np.float64)
    lp.row_upper_ = np.where(np.isfinite(row_upper), row_upper, inf).astype(np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_col
    lp.a_matrix_.num_row_ = n_row
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    if integer is not None and np.any(integer):
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if f else highspy.HighsVarType.kContinuous
            for f in np.asarray(integer, dtype=bool).tolist()
        ]
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    h = _new_highs()
    h.passModel(lp)
    return h


def _gap(obj: float, bound: float) -> float:
    return abs(bound - obj) / max(abs(obj), 1e-9)
