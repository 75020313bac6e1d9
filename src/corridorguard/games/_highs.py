"""Thin LP/MILP driver over highspy: sparse matrices passed straight to ``Highs.passModel``."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

import highspy
import numpy as np
from numpy.typing import NDArray

from corridorguard.errors import SolverError

__all__ = ["LPResult", "LinearProgram", "solve_lp"]

_BANNER_SILENCED = False
_MIP_OPTIONS: dict[str, bool | float | int] = {
    "mip_allow_restart": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_feasibility_tolerance": 1e-7,
    "presolve_mode": 1,  # initial sweep only: full MIP presolve (probing) cost ~0.5 s here
    # the warm start makes these heuristics redundant; node cuts cost more than they prune
    "mip_heuristic_run_feasibility_jump": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_allow_cut_separation_at_nodes": False,
}
INF = highspy.kHighsInf


def _new_highs() -> highspy.Highs:
    """A silent ``Highs``; the first one per process prints a banner on fd 1, which we hide
    so that ``--json`` output stays clean."""
    global _BANNER_SILENCED
    if not _BANNER_SILENCED:
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _BANNER_SILENCED = True
    else:
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("primal_feasibility_tolerance", 1e-9)
    h.setOptionValue("dual_feasibility_tolerance", 1e-9)
    return h


@dataclass
class LinearProgram:
    """``max/min cost @ x`` s.t. ``row_lo <= A x <= row_hi``, ``col_lo <= x <= col_hi``.

    ``A`` is given in COO form (``rows``, ``cols``, ``vals``); integer columns in ``integer``.
    """

    cost: NDArray[np.float64]
    col_lo: NDArray[np.float64]
    col_hi: NDArray[np.float64]
    rows: NDArray[np.int64]
    cols: NDArray[np.int64]
    vals: NDArray[np.float64]
    row_lo: NDArray[np.float64]
    row_hi: NDArray[np.float64]
    maximize: bool = True
    integer: NDArray[np.int64] | None = None
    offset: float = 0.0


@dataclass
class LPResult:
    status: str
    x: NDArray[np.float64]
    objective: float
    info: dict[str, float] = field(default_factory=dict)


def _to_highs(lp: LinearProgram) -> highspy.HighsLp:
    """A column-wise ``HighsLp`` built straight from the COO arrays."""
    ncol = lp.cost.shape[0]
    nrow = lp.row_lo.shape[0]
    model = highspy.HighsLp()
    model.num_col_ = ncol
    model.num_row_ = nrow
    model.col_cost_ = np.ascontiguousarray(lp.cost, dtype=np.float64)
    model.col_lower_ = np.ascontiguousarray(lp.col_lo, dtype=np.float64)
    model.col_upper_ = np.ascontiguousarray(lp.col_hi, dtype=np.float64)
    model.row_lower_ = np.ascontiguousarray(lp.row_lo, dtype=np.float64)
    model.row_upper_ = np.ascontiguousarray(lp.row_hi, dtype=np.float64)
    model.offset_ = lp.offset
    model.sense_ = highspy.ObjSense.kMaximize if lp.maximize else highspy.ObjSense.kMinimize
    order = np.lexsort((lp.rows, lp.cols))
    cols = lp.cols[order]
    start_ = np.zeros(ncol + 1, dtype=np.int32)
    np.cumsum(np.bincount(cols, minlength=ncol), out=start_[1:])
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.num_col_ = ncol
    model.a_matrix_.num_row_ = nrow
    model.a_matrix_.start_ = start_
    model.a_matrix_.index_ = np.ascontiguousarray(lp.rows[order], dtype=np.int32)
    model.a_matrix_.value_ = np.ascontiguousarray(lp.vals[order], dtype=np.float64)
    if lp.integer is not None and len(lp.integer):
        integrality = np.zeros(ncol, dtype=np.uint8)
        integrality[lp.integer] = 1
        model.integrality_ = [highspy.HighsVarType(int(v)) for v in integrality]
    return model


def solve_lp(
    lp: LinearProgram,
    *,
    time_limit: float | None = None,
    mip_gap: float = 1e-9,
    start: NDArray[np.float64] | None = None,
    raise_on_fail: bool = True,
    solver_name: str = "HiGHS",
    options: dict[str, bool | float | int | str] | None = None,
) -> LPResult:
    """Solve with HiGHS; raise :class:`SolverError` unless optimal (when ``raise_on_fail``)."""
    model = _to_highs(lp)
    ncol = lp.cost.shape[0]
    h = _new_highs()
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if lp.integer is not None and len(lp.integer):
        h.setOptionValue("mip_rel_gap", mip_gap)
        h.setOptionValue("mip_abs_gap", mip_gap)
        # measured on Bayesian SSGs (200 targets x 5 types): restarts and the RINS/RENS
        # sub-MIPs cost more than they save
        for key, value in _MIP_OPTIONS.items():
            h.setOptionValue(key, value)
    for key, extra in (options or {}).items():
        h.setOptionValue(key, extra)
    h.passModel(model)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(map(float, start))
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.getModelStatus()
    name = h.modelStatusToString(status)
    if status != highspy.HighsModelStatus.kOptimal:
        if raise_on_fail:
            raise SolverError(f"{solver_name}: no optimal solution ({name})", status=name)
        return LPResult(name, np.full(ncol, np.nan), float("nan"))
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    return LPResult("optimal", x, float(h.getInfo().objective_function_value))
