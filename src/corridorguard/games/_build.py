"""Assemble sparse LP/MILP models for the marginal-coverage formulations (shared by solvers)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from corridorguard.games._highs import INF, LinearProgram
from corridorguard.games.model import Game

__all__ = ["CoverageBlock", "ModelBuilder", "add_coverage"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass
class ModelBuilder:
    """Collects columns and COO rows, then emits a :class:`LinearProgram`."""

    cost: list[FloatArray] = field(default_factory=list)
    lo: list[FloatArray] = field(default_factory=list)
    hi: list[FloatArray] = field(default_factory=list)
    integer: list[IntArray] = field(default_factory=list)
    r: list[IntArray] = field(default_factory=list)
    c: list[IntArray] = field(default_factory=list)
    v: list[FloatArray] = field(default_factory=list)
    rlo: list[FloatArray] = field(default_factory=list)
    rhi: list[FloatArray] = field(default_factory=list)
    ncol: int = 0
    nrow: int = 0
    offset: float = 0.0

    def cols(
        self, k: int, lo: float | FloatArray, hi: float | FloatArray, *, integer: bool = False
    ) -> IntArray:
        idx = np.arange(self.ncol, self.ncol + k, dtype=np.int64)
        self.cost.append(np.zeros(k))
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (k,)).copy())
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=float), (k,)).copy())
        if integer:
            self.integer.append(idx)
        self.ncol += k
        return idx

    def rows(
        self,
        k: int,
        r: IntArray,
        c: IntArray,
        v: FloatArray,
        lo: float | FloatArray,
        hi: float | FloatArray,
    ) -> IntArray:
        """Add ``k`` rows; ``r`` holds local row numbers ``0..k-1``."""
        idx = np.arange(self.nrow, self.nrow + k, dtype=np.int64)
        self.r.append(np.asarray(r, dtype=np.int64) + self.nrow)
        self.c.append(np.asarray(c, dtype=np.int64))
        self.v.append(np.asarray(v, dtype=float))
        self.rlo.append(np.broadcast_to(np.asarray(lo, dtype=float), (k,)).copy())
        self.rhi.append(np.broadcast_to(np.asarray(hi, dtype=float), (k,)).copy())
        self.nrow += k
        return idx

    def build(self, objective: dict[int, float] | None = None) -> LinearProgram:
        cost = np.concatenate(self.cost) if self.cost else np.zeros(0)
        if objective:
            for j, w in objective.items():
                cost[j] += w
        return LinearProgram(
            cost=cost,
            col_lo=np.concatenate(self.lo),
            col_hi=np.concatenate(self.hi),
            rows=np.concatenate(self.r) if self.r else np.zeros(0, np.int64),
            cols=np.concatenate(self.c) if self.c else np.zeros(0, np.int64),
            vals=np.concatenate(self.v) if self.v else np.zeros(0),
            row_lo=np.concatenate(self.rlo) if self.rlo else np.zeros(0),
            row_hi=np.concatenate(self.rhi) if self.rhi else np.zeros(0),
            integer=np.concatenate(self.integer) if self.integer else None,
            offset=self.offset,
        )

    def add_cost(self, cols: IntArray, w: FloatArray) -> None:
        cost = np.concatenate(self.cost)
        np.add.at(cost, cols, w)
        self.cost = [cost]


@dataclass
class CoverageBlock:
    """Where the coverage variables sit: ``c`` (n columns) and, for typed games, ``x`` columns
    for eligible (type, target) pairs (``pairs`` = ``(type, target)`` rows)."""

    c: IntArray
    x: IntArray | None = None
    pairs: IntArray | None = None

    def type_coverage(self, game: Game, sol: FloatArray) -> FloatArray | None:
        if self.x is None or self.pairs is None:
            return None
        out = np.zeros((len(game.resource_types), game.n_targets))
        out[self.pairs[:, 0], self.pairs[:, 1]] = np.clip(sol[self.x], 0.0, 1.0)
        return out


def add_coverage(
    mb: ModelBuilder, game: Game, *, burden_cap: float | None = None, burden_weight: float = 0.0
) -> CoverageBlock:
    """Coverage variables and the constraints that make them implementable.

    Homogeneous: ``0 <= c_t <= 1``, ``sum_t c_t <= m``. Typed (Korzhyk, Conitzer & Parr 2010):
    ``c_t = sum_r x_rt`` over eligible pairs, ``sum_t x_rt <= count_r``, per-agency
    ``sum_{r in a, t} x_rt <= cap_a``. Burden ``sum_t b_t x_t`` (burden-carrying types) is capped
    by a row and/or weighted in the objective (``- weight * burden``).
    """
    n = game.n_targets
    c = mb.cols(n, 0.0, 1.0)
    b = game.burden.per_target if game.burden is not None else None
    if not game.is_typed:
        mb.rows(1, np.zeros(n, np.int64), c, np.ones(n), -INF, float(game.resources))
        if b is not None:
            if burden_cap is not None:
                mb.rows(1, np.zeros(n, np.int64), c, b, -INF, burden_cap)
            if burden_weight:
                mb.add_cost(c, -burden_weight * b)
        return CoverageBlock(c)
    elig = game.eligibility()
    pairs = np.argwhere(elig).astype(np.int64)
    k = pairs.shape[0]
    x = mb.cols(k, 0.0, 1.0)
    # c_t - sum_r x_rt = 0
    mb.rows(
        n,
        np.concatenate([np.arange(n), pairs[:, 1]]),
        np.concatenate([c, x]),
        np.concatenate([np.ones(n), -np.ones(k)]),
        0.0,
        0.0,
    )
    counts = np.array([rt.count for rt in game.resource_types], dtype=float)
    mb.rows(len(counts), pairs[:, 0], x, np.ones(k), -INF, counts)
    agencies = sorted(game.agency_capacity)
    if agencies:
        type_agency = np.array(
            [
                agencies.index(rt.agency)
                if rt.agency is not None and rt.agency in game.agency_capacity
                else -1
                for rt in game.resource_types
            ]
        )
        ag = type_agency[pairs[:, 0]]
        keep = ag >= 0
        caps = np.array([game.agency_capacity[a] for a in agencies], dtype=float)
        mb.rows(len(agencies), ag[keep], x[keep], np.ones(int(keep.sum())), -INF, caps)
    if b is not None:
        carries = game.burden_mask()[pairs[:, 0]]
        bx = b[pairs[:, 1]] * carries
        if burden_cap is not None:
            mb.rows(1, np.zeros(k, np.int64), x, bx, -INF, burden_cap)
        if burden_weight:
            mb.add_cost(x, -burden_weight * bx)
    return CoverageBlock(c, x, pairs)
