"""Daily pure plans from a mixed strategy: comb (systematic) sampling and BvN lotteries.

Every function takes a seed and the returned :class:`PlanSample` records it: the same seed gives
the same plans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from corridorguard.errors import ValidationError
from corridorguard.games.hetero import Decomposition, bvn_decompose
from corridorguard.games.model import Game
from corridorguard.games.result import GameSolution

__all__ = ["PlanSample", "comb_sample", "sample_plans"]


def comb_sample(
    coverage: ArrayLike,
    *,
    days: int = 1,
    seed: int | np.random.Generator | None = None,
    shuffle: bool = True,
) -> NDArray[np.bool_]:
    """Comb (systematic) sampling: ``(days, n)`` boolean plans with ``P(t covered) = c_t``.

    Lay the targets on a line as consecutive intervals of length ``c_t`` (in a random order per
    day when ``shuffle``, so that neighbouring targets are not always anti-correlated), draw one
    offset ``u ~ U[0, 1)`` and cover every target whose interval contains a point ``u + k``.
    Because ``c_t <= 1`` each target is hit at most once, with probability exactly ``c_t``, and
    every plan uses ``floor(sum c)`` or ``ceil(sum c)`` resources (never more than ``m`` when
    ``sum c <= m``).

    References
    ----------
    Tsai et al., AAAI 2010 (sampling checkpoint allocations from marginals); W. G. Madow,
    "On the theory of systematic sampling", Ann. Math. Stat. 1949.
    """
    c = np.asarray(coverage, dtype=np.float64)
    if c.ndim != 1 or np.any(~np.isfinite(c)) or np.any(c < -1e-12) or np.any(c > 1 + 1e-12):
        raise ValidationError("coverage must be a vector of probabilities", field="coverage")
    c = np.clip(c, 0.0, 1.0)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = c.shape[0]
    out = np.zeros((days, n), dtype=bool)
    chunk = max(1, 4_000_000 // max(n, 1))
    for start in range(0, days, chunk):
        k = min(chunk, days - start)
        u = rng.random((k, 1))
        if shuffle:
            order = np.argsort(rng.random((k, n)), axis=1) if n > 1 else np.zeros((k, 1), int)
        else:
            order = np.broadcast_to(np.arange(n), (k, n))
        cum = np.zeros((k, n + 1))
        np.cumsum(c[order], axis=1, out=cum[:, 1:])
        hits = np.floor(cum - u)
        np.put_along_axis(out[start : start + k], order, hits[:, 1:] > hits[:, :-1], axis=1)
    return out


@dataclass(frozen=True)
class PlanSample:
    """Sampled daily plans and how they were drawn (seed recorded)."""

    game: Game = field(repr=False)
    seed: int
    method: str
    days: list[dict[str, Any]]

    def covered(self) -> NDArray[np.bool_]:
        """``(days, n)`` covered flags."""
        idx = self.game.index
        out = np.zeros((len(self.days), self.game.n_targets), dtype=bool)
        for d, plan in enumerate(self.days):
            out[d, [idx[t] for t in plan["covered"]]] = True
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "method": self.method, "days": self.days}


def sample_plans(
    game: Game,
    solution: GameSolution,
    *,
    days: int,
    seed: int,
    decomposition: Decomposition | None = None,
) -> PlanSample:
    """Daily plans realising ``solution``: comb sampling for homogeneous resources, a lottery
    over the BvN decomposition for typed resources (each plan names the type covering each
    target)."""
    if days < 1:
        raise ValidationError("must be >= 1", field="days")
    rng = np.random.default_rng(seed)
    ids = game.ids
    plans: list[dict[str, Any]] = []
    if game.is_typed:
        if solution.type_coverage is None:
            raise ValidationError("typed game without type coverage", field="resource_types")
        dec = decomposition or bvn_decompose(game, solution.type_coverage)
        picks = dec.sample(days, rng)
        for d, k in enumerate(picks):
            a = dec.assignments[int(k)]
            assign = {
                rt.id: [ids[t] for t in ts]
                for rt, ts in zip(game.resource_types, a.covers, strict=True)
            }
            covered = sorted({t for ts in a.covers for t in ts})
            plans.append({"day": d, "covered": [ids[t] for t in covered], "assignments": assign})
        return PlanSample(game, seed, "bvn", plans)
    flags = comb_sample(solution.coverage, days=days, seed=rng)
    for d in range(days):
        plans.append({"day": d, "covered": [ids[t] for t in np.flatnonzero(flags[d])]})
    return PlanSample(game, seed, "comb", plans)
