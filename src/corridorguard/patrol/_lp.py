"""The Stackelberg LP shared by the flow, path-enumeration and column-generation solvers.

Strategy variables ``y >= 0`` (arc flows or path weights) satisfy structural rows
``b_lo <= B y <= b_hi`` (flow conservation or convexity, plus hand-off rows). Coverage of target
``j`` is ``s_j = (C y)_j`` capped at one. With ``Δ_j = Ra_j - Pa_j`` the attacker's utility is
``U_j = max(Pa_j, Ra_j - Δ_j s_j)`` and the defender's is ``Pd_j + (Rd_j - Pd_j) min(1, s_j)``.

*Maximin* (one LP; the SSE when the game is zero-sum)::

    min z   s.t.   Δ_j (C y)_j + z >= Ra_j  (all coverable j),   z >= z_lb,   B y in [b_lo, b_hi]

where ``z_lb`` is the largest ``Pa_j`` and the largest reward of a target nobody can cover.

*Strong Stackelberg equilibrium* by multiple LPs (Conitzer & Sandholm, EC 2006), one per
candidate attacked target ``a``: the maximin model with row ``a`` made an equality (so ``a`` is a
best response and ``s_a <= 1``) and objective ``max (Rd_a - Pd_a) (C y)_a``. Candidates are pruned
by the bound ``Pd_a + (Rd_a - Pd_a) min(1, (Ra_a - z*) / Δ_a)`` (any strategy leaves the attacker
at least the maximin value ``z*``) and solved best bound first, warm-started, until no remaining
bound beats the incumbent: exact without enumerating every target.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csc_matrix, csr_matrix, hstack, vstack

from corridorguard.errors import SolverError

__all__ = [
    "SSELP",
    "Evaluation",
    "Pricer",
    "SSEResult",
    "adopt_if_no_worse",
    "evaluate_coverage",
    "floor_binds",
    "reachable_payoffs",
    "solve_stackelberg",
]

TOL = 1e-7
IPM_COLUMNS = 40_000
"""Cold maximin solves with more columns than this use the interior-point method."""
FArray = NDArray[np.float64]
Pricer = Callable[["SSELP", "int | None"], bool]
"""Column generation hook: add improving columns for the current duals, return True if any."""


@dataclass(frozen=True)
class Evaluation:
    """The outcome of a coverage vector against a best-responding attacker (SSE tie-break)."""

    coverage: FArray
    """Per target, capped at one."""
    attacker_utility: float
    defender_utility: float
    attacked_target: int


def evaluate_coverage(
    s: FArray, ra: FArray, pa: FArray, rd: FArray, pd: FArray, *, tol: float = 1e-6
) -> Evaluation:
    """Attacker best response to coverage ``s``; ties go to the defender's favourite target."""
    c = np.clip(s, 0.0, 1.0)
    ua = ra - (ra - pa) * c
    ud = pd + (rd - pd) * c
    z = float(ua.max()) if ua.size else 0.0
    best = np.flatnonzero(ua >= z - tol)
    a = int(best[np.argmax(ud[best])]) if best.size else 0
    return Evaluation(c, z, float(ud[a]) if ud.size else 0.0, a)


class SSELP:
    """A HiGHS model of the maximin / SSE LP over strategy columns (see the module docstring)."""

    def __init__(
        self,
        C: csr_matrix,
        B: csr_matrix,
        b_lo: FArray,
        b_hi: FArray,
        payoffs: tuple[FArray, FArray, FArray, FArray],
        *,
        coverable: NDArray[np.bool_] | None = None,
        time_limit: float = 600.0,
    ) -> None:
        self.ra, self.pa, self.rd, self.pd = (np.asarray(p, dtype=np.float64) for p in payoffs)
        self.delta = self.ra - self.pa
        if np.any(self.delta < -1e-12) or np.any(self.rd < self.pd - 1e-12):
            raise SolverError("payoffs must reward the attacker less when covered", status="input")
        self.C = csr_matrix(C)
        n_t = self.ra.size
        cov = np.asarray(self.C.getnnz(axis=1) > 0) if coverable is None else coverable
        self.coverable = cov
        z_lb = float(self.pa.max()) if n_t else 0.0
        if np.any(~cov):
            z_lb = max(z_lb, float(self.ra[~cov].max()))
        self.z_lb = z_lb
        self.active = np.flatnonzero(cov & (self.ra > z_lb + 1e-12))
        self.row_of = np.full(n_t, -1, dtype=np.int64)
        self.m_b = B.shape[0]
        self.row_of[self.active] = self.m_b + np.arange(self.active.size)
        self.n_y = C.shape[1]
        T = (csr_matrix(self.C[self.active]).multiply(self.delta[self.active][:, None])).tocsr()
        A = vstack([csr_matrix(B), csr_matrix(T)], format="csr")
        z_col = np.concatenate([np.zeros(self.m_b), np.ones(self.active.size)])
        # columns: z (attacker utility), t (artificial slack of a candidate row), then y
        A = csc_matrix(
            hstack([csr_matrix(z_col[:, None]), csr_matrix((A.shape[0], 1)), A], format="csc")
        )
        self.row_lo = np.concatenate([b_lo, self.ra[self.active]])
        self.row_hi = np.concatenate([b_hi, np.full(self.active.size, np.inf)])
        n_col = self.n_y + 2
        self.z, self.t = 0, 1
        cost = np.zeros(n_col)
        cost[self.z] = 1.0
        col_lo = np.zeros(n_col)
        col_lo[self.z] = z_lb
        col_hi = np.full(n_col, np.inf)
        col_hi[self.t] = 0.0
        self.big_m = 1e4 * (1.0 + float(np.abs(self.rd - self.pd).max(initial=0.0)))
        h = highspy._core._Highs()  # the Python wrapper prints a banner on stdout
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(time_limit))
        lp = highspy.HighsLp()
        lp.num_col_ = n_col
        lp.num_row_ = A.shape[0]
        lp.col_cost_ = cost
        lp.col_lower_ = col_lo
        lp.col_upper_ = col_hi
        lp.row_lower_ = self.row_lo
        lp.row_upper_ = self.row_hi
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = n_col
        lp.a_matrix_.num_row_ = A.shape[0]
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data.astype(np.float64)
        h.passModel(lp)
        self.h = h
        self._extra: list[csc_matrix] = []
        self.n_lps = 0

    # --- columns ---------------------------------------------------------------------------

    def add_columns(self, B_cols: csc_matrix, C_cols: csc_matrix) -> None:
        """Append strategy columns (structural part ``B_cols``, coverage part ``C_cols``)."""
        B_cols, C_cols = csc_matrix(B_cols), csc_matrix(C_cols)
        for k in range(B_cols.shape[1]):
            bi = B_cols.indices[B_cols.indptr[k] : B_cols.indptr[k + 1]]
            bv = B_cols.data[B_cols.indptr[k] : B_cols.indptr[k + 1]]
            ci = C_cols.indices[C_cols.indptr[k] : C_cols.indptr[k + 1]]
            cv = C_cols.data[C_cols.indptr[k] : C_cols.indptr[k + 1]]
            rows = self.row_of[ci]
            keep = rows >= 0
            idx = np.concatenate([bi, rows[keep]]).astype(np.int32)
            val = np.concatenate([bv, cv[keep] * self.delta[ci[keep]]])
            self.h.addCol(0.0, 0.0, np.inf, idx.size, idx, val)
        self._extra.append(C_cols)
        self.C = csr_matrix(hstack([self.C, C_cols]))
        self.n_y += B_cols.shape[1]

    # --- solves ----------------------------------------------------------------------------

    def _run(self) -> bool:
        self.h.run()
        self.n_lps += 1
        status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            return True
        if status == highspy.HighsModelStatus.kInfeasible:
            return False
        raise SolverError(
            f"HiGHS stopped with status {self.h.modelStatusToString(status)}", status=str(status)
        )

    def _set_objective(self, a: int | None) -> None:
        n_col = self.h.getNumCol()
        cost = np.zeros(n_col)
        if a is None:
            cost[self.z] = 1.0
        else:
            row = self.C.getrow(a)
            cost[row.indices + 2] = -(self.rd[a] - self.pd[a]) * row.data
        self.h.changeColsCost(n_col, np.arange(n_col, dtype=np.int32), cost)

    def values(self) -> FArray:
        """Current strategy values ``y`` (in column order, without z)."""
        x = np.asarray(self.h.getSolution().col_value)
        return x[2:]

    def z_value(self) -> float:
        return float(self.h.getSolution().col_value[self.z])

    def duals(self) -> FArray:
        """Row duals (HiGHS sign convention: reduced cost = cost - A^T dual)."""
        return np.asarray(self.h.getSolution().row_dual)

    def solve_maximin(self, price: Pricer | None = None) -> float:
        """Minimise the attacker's best utility (pricing columns in when ``price`` is given)."""
        self._set_objective(None)
        # dual simplex can stall for minutes on the large, highly degenerate cold start of a long
        # shift at fine slots (CPEC, 20-min slots, 24-h shifts); the interior-point method with
        # crossover does not, and leaves a basis for the warm-started candidate LPs
        big = self.h.getNumCol() > IPM_COLUMNS
        if big:
            self.h.setOptionValue("solver", "ipm")
        try:
            return self._maximin_loop(price)
        finally:
            if big:
                self.h.setOptionValue("solver", "choose")

    def _maximin_loop(self, price: Pricer | None) -> float:
        while True:
            if not self._run():
                raise SolverError(
                    "no feasible patrol strategy (check bases, shifts and hand-offs)",
                    status="infeasible",
                )
            if price is None or not price(self, None):
                return self.z_value()

    def solve_candidate(self, a: int, price: Pricer | None = None) -> float | None:
        """Best defender utility when ``a`` is attacked (``None``: never a best response).

        With column generation the restricted master may be infeasible only for lack of routes, so
        row ``a`` gets an artificial slack ``t`` with a big-M cost (phase one by penalty); ``a``
        is proven infeasible only when pricing ends with ``t > 0``.
        """
        r = int(self.row_of[a])
        self._set_objective(a)
        self.h.changeRowBounds(r, float(self.ra[a]), float(self.ra[a]))
        if price is not None:
            self.h.changeCoeff(r, self.t, -1.0)
            self.h.changeColBounds(self.t, 0.0, np.inf)
            self.h.changeColCost(self.t, self.big_m)
        try:
            while True:
                if not self._run():
                    return None
                if price is None or not price(self, a):
                    break
            if price is not None and self.h.getSolution().col_value[self.t] > 1e-7:
                return None
        finally:
            self.h.changeRowBounds(r, float(self.ra[a]), np.inf)
            if price is not None:
                self.h.changeCoeff(r, self.t, 0.0)
                self.h.changeColBounds(self.t, 0.0, 0.0)
                self.h.changeColCost(self.t, 0.0)
        s_a = float((self.C.getrow(a) @ self.values())[0])
        return float(self.pd[a] + (self.rd[a] - self.pd[a]) * min(1.0, s_a))

    def spread(self, a: int | None, z_best: float, *, tol: float = 1e-7) -> FArray | None:
        """An interior point of the optimal face (more randomised routes), or ``None``.

        With the attacker's utility held at its optimum (``z <= z_best + tol``; for an SSE
        candidate also row ``a`` as an equality, which makes ``z`` monotone in the objective), a
        zero objective solved by HiGHS's interior-point method without crossover converges to the
        analytic centre of the optimal face instead of a vertex: every optimal route keeps
        positive weight, which raises the schedule entropy at no loss of utility (within ``tol``).
        """
        n_col = self.h.getNumCol()
        self.h.changeColsCost(n_col, np.arange(n_col, dtype=np.int32), np.zeros(n_col))
        self.h.changeColBounds(self.z, self.z_lb, z_best + tol * (1 + abs(z_best)))
        r = int(self.row_of[a]) if a is not None else -1
        if r >= 0:
            self.h.changeRowBounds(r, float(self.ra[a]), float(self.ra[a]))
        self.h.setOptionValue("solver", "ipm")
        self.h.setOptionValue("run_crossover", "off")
        try:
            self.h.run()
            self.n_lps += 1
            ok = self.h.getModelStatus() == highspy.HighsModelStatus.kOptimal
            return self.values() if ok else None
        finally:
            self.h.setOptionValue("solver", "choose")
            self.h.setOptionValue("run_crossover", "on")
            self.h.changeColBounds(self.z, self.z_lb, np.inf)
            if r >= 0:
                self.h.changeRowBounds(r, float(self.ra[a]), np.inf)
            self.h.clearSolver()

    def evaluate(self, y: FArray | None = None) -> Evaluation:
        y = self.values() if y is None else y
        return evaluate_coverage(self.C @ y, self.ra, self.pa, self.rd, self.pd)

    def candidates(self, z_star: float) -> list[tuple[float, int]]:
        """(bound, target) for every target that could be attacked in an SSE, best bound first."""
        a = self.active
        d = np.where(self.delta[a] > 0, self.delta[a], 1.0)
        frac = np.clip((self.ra[a] - max(z_star, self.z_lb)) / d, 0.0, 1.0)
        bound = self.pd[a] + (self.rd[a] - self.pd[a]) * frac
        ok = self.ra[a] >= z_star - TOL
        order = np.argsort(-bound[ok], kind="stable")
        return [(float(bound[ok][i]), int(a[ok][i])) for i in order]


@dataclass(frozen=True)
class SSEResult:
    """What :func:`solve_stackelberg` found."""

    y: FArray
    evaluation: Evaluation
    maximin_value: float
    method: str
    exact: bool
    """False when the candidate budget ran out before the best remaining bound was beaten."""
    upper_bound: float
    """No strategy gives the defender more (equals the utility when exact)."""
    n_lps: int


def solve_stackelberg(
    lp: SSELP,
    *,
    method: str = "sse",
    max_candidates: int | None = None,
    price: Pricer | None = None,
    spread: bool = False,
    candidate_seconds: float | None = None,
) -> SSEResult:
    """Maximin, then (``method="sse"``) the pruned multiple-LPs search for the SSE.

    The candidate search stops (``exact=False``, with the best remaining bound as
    ``upper_bound``) after ``max_candidates`` LPs or ``candidate_seconds`` seconds.
    With ``spread`` the winning LP is re-solved for an interior optimal point
    (:meth:`SSELP.spread`); with column generation, over the routes generated so far.
    """
    if method not in ("sse", "maximin"):
        raise SolverError(f"unknown method {method!r} (use 'sse' or 'maximin')", status="input")
    z = lp.solve_maximin(price)
    best_y = lp.values()
    best = lp.evaluate(best_y)
    if method == "maximin":
        if spread:
            best_y, best = _spread(lp, (None, z), best_y, best, keep="attacker")
        return SSEResult(best_y, best, z, method, True, best.defender_utility, lp.n_lps)
    exact, upper, tried = True, best.defender_utility, 0
    started = time.perf_counter()
    best_mode: tuple[int | None, float] = (None, z)
    for bound, a in lp.candidates(z):
        if bound <= best.defender_utility + 1e-9:
            break
        out_of_time = (
            candidate_seconds is not None and time.perf_counter() - started > candidate_seconds
        )
        if (max_candidates is not None and tried >= max_candidates) or out_of_time:
            exact, upper = False, bound
            break
        tried += 1
        u = lp.solve_candidate(a, price)
        if u is None:
            continue
        y = lp.values()
        ev = lp.evaluate(y)
        if ev.defender_utility > best.defender_utility + 1e-12:
            best, best_y = ev, y
            best_mode = (a, lp.z_value())
    upper = max(upper, best.defender_utility)
    if spread:
        best_y, best = _spread(lp, best_mode, best_y, best, keep="defender")
    return SSEResult(best_y, best, z, method, exact, upper, lp.n_lps)


def _spread(
    lp: SSELP, mode: tuple[int | None, float], y: FArray, ev: Evaluation, *, keep: str
) -> tuple[FArray, Evaluation]:
    """Swap in the interior solution if it keeps the objective of the mode (within 1e-6)."""
    y2 = lp.spread(*mode)
    if y2 is None:
        return y, ev
    y2 = np.maximum(y2, 0.0)
    ev2 = lp.evaluate(y2)
    if keep == "attacker":
        ok = ev2.attacker_utility <= ev.attacker_utility + 1e-6 * (1 + abs(ev.attacker_utility))
    else:
        ok = ev2.defender_utility >= ev.defender_utility - 1e-6 * (1 + abs(ev.defender_utility))
    return (y2, ev2) if ok else (y, ev)


def floor_binds(lp: SSELP, res: SSEResult) -> bool:
    """True when a target no strategy can cover fixes the attacker's value (a degenerate game:
    the attacker goes there whatever the patrols do, so the LP leaves every other target to
    chance)."""
    floor = lp.z_lb
    tol = 1e-7 * (1 + abs(floor))
    return floor > float(lp.pa.max(initial=-np.inf)) + tol and res.maximin_value <= floor + tol


def reachable_payoffs(lp: SSELP) -> tuple[FArray, FArray, FArray, FArray]:
    """Payoffs with the uncoverable targets made irrelevant (never worth attacking)."""
    cov = lp.coverable
    low = float(min(lp.pa.min(initial=0.0), lp.pd.min(initial=0.0)))
    return (
        np.where(cov, lp.ra, low),
        np.where(cov, lp.pa, low),
        np.where(cov, lp.rd, low),
        np.where(cov, lp.pd, low),
    )


def adopt_if_no_worse(lp: SSELP, res: SSEResult, lp2: SSELP, res2: SSEResult) -> SSEResult | None:
    """``res2`` (solved on ``lp2`` with the reachable payoffs), evaluated on the full game, if it
    is as good for the defender as ``res`` (within 1e-9): then it is an optimum too, one that
    also protects every target patrols can reach ("protect the rest")."""
    ev = evaluate_coverage(lp2.C @ res2.y, lp.ra, lp.pa, lp.rd, lp.pd)
    if ev.defender_utility < res.evaluation.defender_utility - 1e-9:
        return None
    return SSEResult(
        res2.y,
        ev,
        res.maximin_value,
        res.method,
        res.exact,
        max(res.upper_bound, ev.defender_utility),
        res.n_lps + res2.n_lps,
    )
