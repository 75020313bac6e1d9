"""Solution objects and the strong-Stackelberg attacker response to a coverage vector."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from corridorguard.games.model import Game, PayoffArrays

__all__ = ["GameSolution", "TypeResponse", "best_response", "evaluate"]

#: Relative tolerance for "the attacker is indifferent" (ties go to the defender).
TIE_TOL = 1e-9


@dataclass(frozen=True)
class TypeResponse:
    """How one attacker type answers a coverage vector."""

    type_id: str
    probability: float
    attacked: int
    attacker_utility: float
    defender_utility: float


def best_response(
    payoffs: PayoffArrays, coverage: NDArray[np.float64], *, tol: float = TIE_TOL
) -> tuple[int, float, float]:
    """The attacker's best response with ties broken for the defender (SSE convention).

    Returns ``(target, attacker utility, defender utility)``. Targets within ``tol`` (relative) of
    the attacker's best utility count as tied.
    """
    ua = payoffs.attacker_utility(coverage)
    best = float(ua.max())
    tied = ua >= best - tol * max(1.0, abs(best))
    ud = payoffs.defender_utility(coverage)
    cand = np.where(tied, ud, -np.inf)
    t = int(np.argmax(cand))
    return t, float(ua[t]), float(ud[t])


def evaluate(
    game: Game, coverage: NDArray[np.float64], *, tol: float = TIE_TOL
) -> list[TypeResponse]:
    """Each attacker type's SSE response to ``coverage``."""
    out = []
    ids = [a.id for a in game.attacker_types] or ["attacker"]
    for tid, (prob, pay) in zip(ids, game.types(), strict=True):
        t, ua, ud = best_response(pay, coverage, tol=tol)
        out.append(TypeResponse(tid, prob, t, ua, ud))
    return out


@dataclass(frozen=True)
class GameSolution:
    """A solved game: coverage and the attacker's answer.

    ``to_dict()`` is exactly the JSON printed by ``corridorguard game solve --json``.
    """

    game: Game = field(repr=False)
    coverage: NDArray[np.float64]
    defender_utility: float
    attacker_utility: float
    attacked_target: str
    solver: str
    status: str = "optimal"
    responses: tuple[TypeResponse, ...] = ()
    type_coverage: NDArray[np.float64] | None = None
    """``(types, n)`` marginals per resource type (typed games)."""
    burden: float | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_coverage(
        cls,
        game: Game,
        coverage: NDArray[np.float64],
        solver: str,
        *,
        type_coverage: NDArray[np.float64] | None = None,
        attacked: list[int] | None = None,
        **extras: Any,
    ) -> GameSolution:
        """Wrap ``coverage``; ``attacked`` (one target per type) comes from an exact solver,
        otherwise each type's SSE response is evaluated here."""
        cov = np.clip(np.asarray(coverage, dtype=np.float64), 0.0, 1.0)
        if attacked is None:
            resp = evaluate(game, cov)
        else:
            names = [a.id for a in game.attacker_types] or ["attacker"]
            resp = [
                TypeResponse(
                    name,
                    prob,
                    t,
                    float(pay.ra[t] - (pay.ra[t] - pay.pa[t]) * cov[t]),
                    float(pay.pd[t] + (pay.rd[t] - pay.pd[t]) * cov[t]),
                )
                for name, (prob, pay), t in zip(names, game.types(), attacked, strict=True)
            ]
        ud = sum(r.probability * r.defender_utility for r in resp)
        ua = sum(r.probability * r.attacker_utility for r in resp)
        main = max(resp, key=lambda r: r.probability)
        return cls(
            game=game,
            coverage=cov,
            defender_utility=float(ud),
            attacker_utility=float(ua),
            attacked_target=game.ids[main.attacked],
            solver=solver,
            responses=tuple(resp),
            type_coverage=type_coverage,
            burden=burden_of(game, cov, type_coverage),
            extras=extras,
        )

    def to_dict(self) -> dict[str, Any]:
        """The interchange/CLI JSON (see ``docs/game-format.md``)."""
        ids = self.game.ids
        out: dict[str, Any] = {
            "coverage": {t: float(c) for t, c in zip(ids, self.coverage.tolist(), strict=True)},
            "defender_utility": self.defender_utility,
            "attacker_utility": self.attacker_utility,
            "attacked_target": self.attacked_target,
            "solver": self.solver,
            "status": self.status,
        }
        if self.game.is_bayesian:
            out["attacker_types"] = {
                r.type_id: {
                    "probability": r.probability,
                    "attacked_target": ids[r.attacked],
                    "attacker_utility": r.attacker_utility,
                    "defender_utility": r.defender_utility,
                }
                for r in self.responses
            }
        if self.type_coverage is not None:
            out["type_coverage"] = {
                rt.id: {ids[t]: float(x) for t, x in enumerate(row) if x > 1e-12}
                for rt, row in zip(self.game.resource_types, self.type_coverage, strict=True)
            }
        if self.burden is not None:
            out["burden"] = self.burden
        return out


def burden_of(
    game: Game, coverage: NDArray[np.float64], type_coverage: NDArray[np.float64] | None
) -> float | None:
    """Civilian burden of a coverage (``None`` when the game has no burden)."""
    if game.burden is None:
        return None
    b = game.burden.per_target
    if game.is_typed and type_coverage is not None:
        mask = game.burden_mask()
        return float(b @ type_coverage[mask].sum(axis=0))
    return float(b @ coverage)
