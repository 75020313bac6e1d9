"""Two (or more) partner forces: the joint plan, the uncoordinated plan, and the burden frontier."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from corridorguard.errors import ValidationError
from corridorguard.games.api import make_solver
from corridorguard.games.hetero import HeterogeneousSolver
from corridorguard.games.model import AttackerType, Burden, Game, PayoffArrays
from corridorguard.games.result import GameSolution

__all__ = [
    "CoordinationResult",
    "FrontierPoint",
    "burden_frontier",
    "coordination_value",
    "restrict",
]

FloatArray = NDArray[np.float64]


def restrict(game: Game, targets: NDArray[np.int64], types: list[int]) -> Game:
    """The sub-game on some targets with some resource types (eligibility re-indexed)."""
    pos = {int(t): i for i, t in enumerate(targets)}

    def sub(p: PayoffArrays) -> PayoffArrays:
        return PayoffArrays(p.rd[targets], p.pd[targets], p.ra[targets], p.pa[targets])

    rts = []
    for r in types:
        rt = game.resource_types[r]
        elig = range(game.n_targets) if rt.eligible is None else rt.eligible
        rts.append(replace(rt, eligible=tuple(pos[t] for t in elig if t in pos)))
    agencies = {rt.agency for rt in rts}
    return Game(
        sub(game.payoffs),
        sum(rt.count for rt in rts),
        tuple(game.ids[int(t)] for t in targets),
        resource_types=tuple(rts),
        agency_capacity={a: c for a, c in game.agency_capacity.items() if a in agencies},
        attacker_types=tuple(
            AttackerType(a.id, a.probability, sub(a.payoffs)) for a in game.attacker_types
        ),
        burden=(
            None
            if game.burden is None
            else Burden(game.burden.per_target[targets], game.burden.weight, game.burden.cap)
        ),
    )


@dataclass(frozen=True)
class CoordinationResult:
    """Joint vs uncoordinated planning of the partner forces."""

    joint: GameSolution
    uncoordinated: GameSolution
    per_agency: dict[str, GameSolution]
    value_of_coordination: float
    """Joint defender utility minus uncoordinated defender utility (>= 0 up to tolerance)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "joint": self.joint.to_dict(),
            "uncoordinated": self.uncoordinated.to_dict(),
            "per_agency": {a: s.to_dict() for a, s in self.per_agency.items()},
            "value_of_coordination": self.value_of_coordination,
        }


def coordination_value(game: Game) -> CoordinationResult:
    """Solve the partner forces' game jointly and separately; report the difference.

    *Joint*: one defender, every force's resource types eligible only in its jurisdiction
    (:class:`HeterogeneousSolver`). *Uncoordinated*: each agency solves the game restricted to
    the targets its types may cover, with its own resources, as if alone; the agencies' plans
    are independent, so a target is covered with probability ``1 - prod_a (1 - c_a,t)``; the
    attacker then best-responds (SSE tie-breaking) to that combined coverage. The value of
    coordination is ``U_joint - U_uncoordinated`` (cf. Smith, Vorobeychik & Letchford 2014 on
    multi-defender under-investment).
    """
    if not game.is_typed or not any(rt.agency for rt in game.resource_types):
        raise ValidationError("needs resource types with agencies", field="resource_types")
    joint = HeterogeneousSolver(game, decompose=False).solve().solution_
    agencies = sorted({rt.agency or rt.id for rt in game.resource_types})
    elig = game.eligibility()
    miss = np.ones(game.n_targets)
    per: dict[str, GameSolution] = {}
    for a in agencies:
        types = [r for r, rt in enumerate(game.resource_types) if (rt.agency or rt.id) == a]
        targets = np.flatnonzero(elig[types].any(axis=0))
        if targets.size == 0:
            continue
        sol = HeterogeneousSolver(restrict(game, targets, types), decompose=False).solve()
        per[a] = sol.solution_
        miss[targets] *= 1.0 - sol.coverage_
    combined = GameSolution.from_coverage(game, 1.0 - miss, "uncoordinated")
    return CoordinationResult(
        joint, combined, per, joint.defender_utility - combined.defender_utility
    )


@dataclass(frozen=True)
class FrontierPoint:
    """One point of the loss/burden trade-off."""

    cap: float
    burden: float
    defender_utility: float

    @property
    def expected_loss(self) -> float:
        """Defender expected loss (``-U_d``)."""
        return -self.defender_utility


def burden_frontier(
    game: Game, *, points: int = 12, solver: str = "auto"
) -> tuple[list[FrontierPoint], list[GameSolution]]:
    """Pareto frontier of defender expected loss against civilian burden.

    Solves the game without a burden limit, takes its burden ``B_max``, then re-solves with
    caps ``linspace(0, B_max, points)`` (weight 0). Returns the points (non-increasing loss as
    the cap grows) and the solutions.
    """
    if game.burden is None:
        raise ValidationError("the game has no burden", field="burden")
    if points < 2:
        raise ValidationError("must be >= 2", field="points")
    b = game.burden.per_target
    free = make_solver(game.replace(burden=Burden(b, 0.0, None)), solver).solve().solution_
    b_max = float(free.burden or 0.0)
    out: list[FrontierPoint] = []
    sols: list[GameSolution] = []
    for cap in np.linspace(0.0, b_max, points):
        capped = game.replace(burden=Burden(b, 0.0, float(cap)))
        sol = make_solver(capped, solver).solve().solution_
        out.append(FrontierPoint(float(cap), float(sol.burden or 0.0), sol.defender_utility))
        sols.append(sol)
    return out, sols
