"""Random benchmark games (notional, for tests and benchmarks only).

The literature's standard random instances (Kiekintveld et al., AAMAS 2009; Jain et al.,
AAMAS 2010; Paruchuri et al., AAMAS 2008): integer rewards drawn uniformly from ``1..10`` and
penalties from ``-10..-1`` for both players, independently per target (and per attacker type).
None of these numbers describe a real place.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from corridorguard.errors import ValidationError
from corridorguard.games.model import AttackerType, Game, PayoffArrays

__all__ = ["random_game"]


def random_game(
    n_targets: int,
    resources: int,
    *,
    seed: int,
    types: int = 1,
    probabilities: Literal["uniform", "dirichlet"] = "uniform",
) -> Game:
    """A random game with integer payoffs in ``[1, 10]`` (rewards) and ``[-10, -1]`` (penalties).

    Draw order, so that a seed always gives the same game: defender rewards, defender
    penalties, (type probabilities when ``probabilities="dirichlet"``), then each attacker
    type's rewards and penalties. With ``types=1`` the game has one attacker; with more, a
    Bayesian game whose ``payoffs`` hold the probability-weighted mean attacker.
    """
    if n_targets < 1 or resources < 0 or types < 1:
        raise ValidationError(
            f"random_game needs n_targets >= 1, resources >= 0, types >= 1 "
            f"(got {n_targets}, {resources}, {types})"
        )
    rng = np.random.default_rng(seed)
    rd = rng.integers(1, 11, n_targets).astype(float)
    pd = -rng.integers(1, 11, n_targets).astype(float)
    if probabilities == "dirichlet":
        probs = rng.dirichlet(np.ones(types))
        probs[-1] = 1.0 - probs[:-1].sum()
    else:
        probs = np.full(types, 1.0 / types)
    attackers = [
        (
            rng.integers(1, 11, n_targets).astype(float),
            -rng.integers(1, 11, n_targets).astype(float),
        )
        for _ in range(types)
    ]
    if types == 1:
        return Game.from_arrays(rd, pd, *attackers[0], resources=resources)
    ats = tuple(
        AttackerType(f"a{k}", float(probs[k]), PayoffArrays(rd, pd, ra, pa))
        for k, (ra, pa) in enumerate(attackers)
    )
    mean = PayoffArrays(
        rd,
        pd,
        np.asarray(sum(p * a[0] for p, a in zip(probs, attackers, strict=True))),
        np.asarray(sum(p * a[1] for p, a in zip(probs, attackers, strict=True))),
    )
    game = Game(mean, resources, attacker_types=ats)
    game.validate()
    return game
