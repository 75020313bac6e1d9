"""Heterogeneous (typed) resources: SSE over type x target marginals, and their
Birkhoff–von Neumann decomposition into implementable pure assignments."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from corridorguard.errors import SolverError, ValidationError
from corridorguard.games._build import ModelBuilder
from corridorguard.games._highs import solve_lp
from corridorguard.games.milp import Eraser, MultipleLP
from corridorguard.games.model import Game

__all__ = ["Decomposition", "HeterogeneousSolver", "PureAssignment", "bvn_decompose"]

FloatArray = NDArray[np.float64]
_SNAP = 1e-9


@dataclass(frozen=True)
class PureAssignment:
    """One implementable daily plan: ``covers[r]`` = targets covered by resource type ``r``."""

    covers: tuple[tuple[int, ...], ...]

    def coverage(self, n: int) -> NDArray[np.bool_]:
        out = np.zeros(n, dtype=bool)
        for ts in self.covers:
            out[list(ts)] = True
        return out


@dataclass(frozen=True)
class Decomposition:
    """A convex combination of pure assignments whose mean is the type x target marginal."""

    weights: FloatArray
    assignments: tuple[PureAssignment, ...]

    def sample(self, days: int, seed: int | np.random.Generator | None = None) -> NDArray[np.int64]:
        """Indices of the assignments drawn for ``days`` days (seeded)."""
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        return rng.choice(len(self.weights), size=days, p=self.weights)

    def covered(self, n: int) -> NDArray[np.bool_]:
        """``(assignments, n)`` covered flags."""
        return np.array([a.coverage(n) for a in self.assignments]).reshape(-1, n)

    def mean(self, n_types: int, n: int) -> FloatArray:
        out = np.zeros((n_types, n))
        for w, a in zip(self.weights, self.assignments, strict=True):
            for r, ts in enumerate(a.covers):
                out[r, list(ts)] += w
        return out


def _network(game: Game) -> tuple[list[tuple[int, int]], NDArray[np.int64], int, int]:
    """Edges (tail, head) of source -> agency -> type -> target -> sink, and the pairs."""
    n, nr = game.n_targets, len(game.resource_types)
    agencies = sorted({rt.agency or f"__{rt.id}" for rt in game.resource_types})
    na = len(agencies)
    src, sink = 0, 1
    ag0, ty0, ta0 = 2, 2 + na, 2 + na + nr
    edges: list[tuple[int, int]] = [(src, ag0 + a) for a in range(na)]
    for r, rt in enumerate(game.resource_types):
        edges.append((ag0 + agencies.index(rt.agency or f"__{rt.id}"), ty0 + r))
    pairs = np.argwhere(game.eligibility()).astype(np.int64)
    edges += [(ty0 + int(r), ta0 + int(t)) for r, t in pairs]
    edges += [(ta0 + t, sink) for t in range(n)]
    return edges, pairs, ta0 + n, na


def _edge_flows(game: Game, x: FloatArray, pairs: NDArray[np.int64], na: int) -> FloatArray:
    agencies = sorted({rt.agency or f"__{rt.id}" for rt in game.resource_types})
    per_type = x.sum(axis=1)
    per_agency = np.zeros(na)
    for r, rt in enumerate(game.resource_types):
        per_agency[agencies.index(rt.agency or f"__{rt.id}")] += per_type[r]
    return np.concatenate([per_agency, per_type, x[pairs[:, 0], pairs[:, 1]], x.sum(axis=0)])


def _integral_flow(
    edges: list[tuple[int, int]], n_nodes: int, lo: FloatArray, hi: FloatArray
) -> FloatArray:
    """An integral flow (with conservation at inner nodes) inside [lo, hi]; network matrices are
    totally unimodular, so the simplex vertex is integral."""
    mb = ModelBuilder()
    e = mb.cols(len(edges), lo, hi)
    tails = np.array([a for a, _ in edges])
    heads = np.array([b for _, b in edges])
    inner = np.arange(2, n_nodes)
    row_of = np.full(n_nodes, -1)
    row_of[inner] = np.arange(inner.size)
    rows = np.concatenate([row_of[heads], row_of[tails]])
    cols = np.concatenate([e, e])
    vals = np.concatenate([np.ones(len(edges)), -np.ones(len(edges))])
    keep = rows >= 0
    mb.rows(inner.size, rows[keep], cols[keep], vals[keep], 0.0, 0.0)
    res = solve_lp(mb.build(), solver_name="BvN decomposition", options={"solver": "simplex"})
    g = np.round(res.x)
    if np.abs(g - res.x).max() > 1e-6:
        raise SolverError("BvN decomposition: non-integral vertex", status="numerical")
    return g


def bvn_decompose(
    game: Game, type_coverage: FloatArray, *, max_terms: int = 10_000
) -> Decomposition:
    """Decompose type x target marginals into pure assignments (Birkhoff–von Neumann).

    The marginals are a flow in the network source -> agency (cap) -> type (count) -> target
    (eligible, <= 1) -> sink (<= 1), whose capacities are integral. Repeatedly take an integral
    flow ``g`` with ``floor(q) <= g <= ceil(q)`` for the current normalised point ``q`` (a
    vertex of a totally unimodular system), subtract the largest multiple of ``g`` that keeps
    ``q`` in that box, and renormalise; each step makes at least one edge integral.
    """
    if not game.is_typed:
        raise ValidationError("BvN decomposition needs resource types", field="resource_types")
    edges, pairs, n_nodes, na = _network(game)
    q = _edge_flows(game, np.asarray(type_coverage, dtype=float), pairs, na)
    q[np.abs(q - np.round(q)) < _SNAP] = np.round(q[np.abs(q - np.round(q)) < _SNAP])
    n_pairs = pairs.shape[0]
    off = na + len(game.resource_types)
    weights: list[float] = []
    assigns: list[PureAssignment] = []
    mass = 1.0
    for _ in range(max_terms):
        lo, hi = np.floor(q), np.ceil(q)
        g = _integral_flow(edges, n_nodes, lo, hi)
        frac = q - lo
        up = (g > lo) & (frac > 0)
        down = (g == lo) & (frac > 0)
        steps = np.concatenate([frac[up], 1.0 - frac[down]])
        lam = 1.0 if steps.size == 0 else float(min(1.0, steps.min()))
        sel = g[off : off + n_pairs] > 0.5
        covers: list[list[int]] = [[] for _ in game.resource_types]
        for r, t in pairs[sel]:
            covers[int(r)].append(int(t))
        weights.append(mass * lam)
        assigns.append(PureAssignment(tuple(tuple(c) for c in covers)))
        if lam >= 1.0 - _SNAP:
            break
        q = (q - lam * g) / (1.0 - lam)
        near = np.abs(q - np.round(q)) < _SNAP
        q[near] = np.round(q[near])
        mass *= 1.0 - lam
    else:
        raise SolverError("BvN decomposition did not finish", status="iteration_limit")
    w = np.array(weights)
    return Decomposition(w / w.sum(), tuple(assigns))


class HeterogeneousSolver:
    r"""SSE with heterogeneous resources (Korzhyk, Conitzer & Parr 2010), then BvN.

    Formulation
    -----------
    Marginals :math:`x_{rt} \ge 0` on eligible (type, target) pairs with
    :math:`c_t = \sum_r x_{rt} \le 1`, :math:`\sum_t x_{rt} \le m_r` and per-agency caps
    :math:`\sum_{r \in a}\sum_t x_{rt} \le K_a`; for singleton schedules every such marginal is
    implementable. The SSE is found by multiple LPs over attacked targets (one attacker type) or
    the ERASER MILP (Bayesian types) on this polytope, then decomposed into a lottery over pure
    assignments by :func:`bvn_decompose`.

    References
    ----------
    D. Korzhyk, V. Conitzer, R. Parr. "Complexity of computing optimal Stackelberg strategies in
    security resource allocation games." AAAI 2010. E. Budish, Y.-K. Che, F. Kojima, P. Milgrom.
    "Designing random allocation mechanisms: theory and applications." AER 2013 (bihierarchy).

    Attributes
    ----------
    coverage_, type_coverage_ : ndarray
    decomposition_ : Decomposition
    defender_utility_, attacker_utility_ : float
    status_ : str
    solution_ : GameSolution
    """

    name = "hetero"

    def __init__(self, game: Game, *, decompose: bool = True) -> None:
        self.game = game
        self.decompose = decompose

    def solve(self) -> HeterogeneousSolver:
        g = self.game
        if not g.is_typed:
            raise SolverError("hetero needs resource_types", status="unsupported")
        inner = Eraser(g) if g.is_bayesian else MultipleLP(g)
        inner.solve()
        sol = inner.solution_
        self.coverage_ = inner.coverage_
        self.type_coverage_ = inner.type_coverage_
        self.defender_utility_ = inner.defender_utility_
        self.attacker_utility_ = inner.attacker_utility_
        self.attacked_ = inner.attacked_
        self.status_ = "optimal"
        self.solution_ = replace(sol, solver=self.name)
        if self.decompose and self.type_coverage_ is not None:
            self.decomposition_ = bvn_decompose(g, self.type_coverage_)
        return self
