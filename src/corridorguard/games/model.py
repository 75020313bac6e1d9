"""The security-game model: targets, resources, attacker types, payoff intervals, burden.

Conventions (Kiekintveld et al. 2009): for target ``t`` with coverage probability ``c_t``

* the defender gets ``R^d_t`` (``defender_reward``) if the attacked target is covered and
  ``P^d_t`` (``defender_penalty``) if it is not, so ``U_d(t, c) = c_t R^d_t + (1 - c_t) P^d_t``;
* the attacker gets ``R^a_t`` (``attacker_reward``) if the target is uncovered and ``P^a_t``
  (``attacker_penalty``) if it is covered, so ``U_a(t, c) = c_t P^a_t + (1 - c_t) R^a_t``.

Rules checked on construction: ``R^d >= P^d`` and ``R^a > P^a`` (coverage helps the defender and
deters the attacker), every number finite, probabilities of attacker types sum to 1.

Games are immutable and hold numpy arrays, so solvers never copy per target. Build one from
:class:`Target` objects (:meth:`Game.from_targets`), from arrays (:meth:`Game.from_arrays`,
fast, for 10^6 targets) or from the JSON format (:func:`corridorguard.games.load_game`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from corridorguard.errors import ValidationError

__all__ = [
    "AttackerType",
    "Burden",
    "Game",
    "PayoffArrays",
    "ResourceType",
    "Target",
]

FloatArray = NDArray[np.float64]

#: Largest payoff magnitude accepted (keeps every solver's arithmetic well scaled).
MAX_PAYOFF = 1e9


@dataclass(frozen=True)
class Target:
    """One target with its four payoffs (and optional attacker-payoff intervals).

    ``attacker_reward_range`` / ``attacker_penalty_range`` are ``(low, high)`` boxes for the
    interval-uncertainty solver (:class:`corridorguard.games.IntervalSolver`); the point values
    must lie inside them.
    """

    id: str
    defender_reward: float
    defender_penalty: float
    attacker_reward: float
    attacker_penalty: float
    attacker_reward_range: tuple[float, float] | None = None
    attacker_penalty_range: tuple[float, float] | None = None


@dataclass(frozen=True)
class PayoffArrays:
    """The four payoff vectors of one attacker type, indexed like :attr:`Game.ids`."""

    rd: FloatArray
    pd: FloatArray
    ra: FloatArray
    pa: FloatArray

    def defender_utility(self, coverage: FloatArray) -> FloatArray:
        """``U_d(t, c)`` for every target."""
        return self.pd + (self.rd - self.pd) * coverage

    def attacker_utility(self, coverage: FloatArray) -> FloatArray:
        """``U_a(t, c)`` for every target."""
        return self.ra - (self.ra - self.pa) * coverage


@dataclass(frozen=True)
class AttackerType:
    """A Bayesian attacker type: its prior probability and its own payoff arrays.

    ``payoffs.rd``/``payoffs.pd`` default to the game's defender payoffs (the JSON format allows
    per-type overrides).
    """

    id: str
    probability: float
    payoffs: PayoffArrays


@dataclass(frozen=True)
class ResourceType:
    """A kind of resource of one agency: ``count`` identical units, eligible on some targets.

    ``eligible`` holds target positions (``None`` = every target). ``burden`` marks resources whose
    presence costs civilians (checkpoints): only they count towards the civilian burden.
    """

    id: str
    count: int
    eligible: tuple[int, ...] | None = None
    agency: str | None = None
    burden: bool = False


@dataclass(frozen=True)
class Burden:
    """Civilian burden of coverage: ``burden(c) = sum_t b_t * x_t``.

    ``x_t`` is the coverage of ``t`` by burden-carrying resources (all resources when the game
    has no resource types). ``per_target`` is e.g. expected delay x traffic in vehicle-hours/day.
    The solvers maximise ``U_d - weight * burden`` subject to ``burden <= cap`` (when given).
    """

    per_target: FloatArray
    weight: float = 0.0
    cap: float | None = None


@dataclass(frozen=True, eq=False)
class Game:
    """A Stackelberg security game (defender commits to coverage, attacker best-responds).

    Parameters
    ----------
    payoffs
        Payoffs of the (single) attacker; for Bayesian games the type payoffs are in
        ``attacker_types`` and ``payoffs`` holds the defender's default payoffs and the
        probability-weighted mean attacker payoffs (for display only).
    resources
        Number of homogeneous resources ``m`` (for typed games: the sum of the type counts).
    ids
        Target ids (generated ``t0, t1, ...`` when ``None``).
    resource_types, agency_capacity
        Typed resources and per-agency daily caps (units deployable at once).
    attacker_types
        Bayesian attacker types (empty: one attacker with ``payoffs``).
    ra_range, pa_range
        ``(n, 2)`` arrays of attacker payoff intervals, or ``None``.
    burden
        Civilian burden of coverage, or ``None``.
    """

    payoffs: PayoffArrays
    resources: int
    _ids: tuple[str, ...] | None = None
    resource_types: tuple[ResourceType, ...] = ()
    agency_capacity: Mapping[str, int] = field(default_factory=dict)
    attacker_types: tuple[AttackerType, ...] = ()
    ra_range: FloatArray | None = None
    pa_range: FloatArray | None = None
    burden: Burden | None = None

    # --- constructors -----------------------------------------------------------------------

    @classmethod
    def from_arrays(
        cls,
        defender_reward: ArrayLike,
        defender_penalty: ArrayLike,
        attacker_reward: ArrayLike,
        attacker_penalty: ArrayLike,
        *,
        resources: int,
        ids: Sequence[str] | None = None,
        validate: bool = True,
    ) -> Game:
        """A single-type game with homogeneous resources from four payoff vectors."""
        arrays = [
            np.ascontiguousarray(a, dtype=np.float64)
            for a in (defender_reward, defender_penalty, attacker_reward, attacker_penalty)
        ]
        payoffs = PayoffArrays(*arrays)
        game = cls(payoffs, int(resources), tuple(ids) if ids is not None else None)
        if validate:
            game.validate()
        return game

    @classmethod
    def from_targets(cls, targets: Sequence[Target], *, resources: int, **extra: Any) -> Game:
        """A game from :class:`Target` objects (keyword ``extra`` as in the class)."""
        arr = np.array(
            [
                (t.defender_reward, t.defender_penalty, t.attacker_reward, t.attacker_penalty)
                for t in targets
            ],
            dtype=np.float64,
        ).reshape(-1, 4)
        ra_range = pa_range = None
        if any(t.attacker_reward_range or t.attacker_penalty_range for t in targets):
            ra_range = np.array(
                [t.attacker_reward_range or (t.attacker_reward,) * 2 for t in targets], float
            )
            pa_range = np.array(
                [t.attacker_penalty_range or (t.attacker_penalty,) * 2 for t in targets], float
            )
        payoffs = PayoffArrays(*(np.ascontiguousarray(arr[:, k]) for k in range(4)))
        game = cls(
            payoffs,
            int(resources),
            tuple(t.id for t in targets),
            ra_range=ra_range,
            pa_range=pa_range,
            **extra,
        )
        game.validate()
        return game

    # --- views ------------------------------------------------------------------------------

    @property
    def n_targets(self) -> int:
        return int(self.payoffs.rd.shape[0])

    @cached_property
    def ids(self) -> tuple[str, ...]:
        """Target ids, in order."""
        if self._ids is not None:
            return self._ids
        return tuple(f"t{i}" for i in range(self.n_targets))

    @cached_property
    def index(self) -> dict[str, int]:
        """Target id -> position."""
        return {t: i for i, t in enumerate(self.ids)}

    @property
    def is_bayesian(self) -> bool:
        return len(self.attacker_types) > 0

    @property
    def is_typed(self) -> bool:
        return len(self.resource_types) > 0

    @property
    def has_intervals(self) -> bool:
        return self.ra_range is not None

    def types(self) -> list[tuple[float, PayoffArrays]]:
        """``(probability, payoffs)`` per attacker type (one entry for a non-Bayesian game)."""
        if not self.attacker_types:
            return [(1.0, self.payoffs)]
        return [(a.probability, a.payoffs) for a in self.attacker_types]

    def targets(self) -> list[Target]:
        """The targets as :class:`Target` objects."""
        p = self.payoffs
        out = []
        for i, tid in enumerate(self.ids):
            rr = tuple(self.ra_range[i]) if self.ra_range is not None else None
            pr = tuple(self.pa_range[i]) if self.pa_range is not None else None
            out.append(
                Target(
                    tid,
                    float(p.rd[i]),
                    float(p.pd[i]),
                    float(p.ra[i]),
                    float(p.pa[i]),
                    rr,
                    pr,
                )
            )
        return out

    def eligibility(self) -> NDArray[np.bool_]:
        """``(types, n)`` boolean matrix: may resource type ``r`` cover target ``t``."""
        n = self.n_targets
        out = np.zeros((len(self.resource_types), n), dtype=bool)
        for r, rt in enumerate(self.resource_types):
            if rt.eligible is None:
                out[r] = True
            else:
                out[r, list(rt.eligible)] = True
        return out

    def burden_mask(self) -> NDArray[np.bool_]:
        """Which resource types carry civilian burden (all of them when none is marked)."""
        mask = np.array([rt.burden for rt in self.resource_types], dtype=bool)
        return mask if mask.any() else np.ones(len(self.resource_types), dtype=bool)

    def replace(self, **changes: Any) -> Game:
        """A copy with some fields changed (validated)."""
        fields: dict[str, Any] = {
            "payoffs": self.payoffs,
            "resources": self.resources,
            "_ids": self._ids,
            "resource_types": self.resource_types,
            "agency_capacity": self.agency_capacity,
            "attacker_types": self.attacker_types,
            "ra_range": self.ra_range,
            "pa_range": self.pa_range,
            "burden": self.burden,
        }
        fields.update(changes)
        game = Game(**fields)
        game.validate()
        return game

    # --- validation -------------------------------------------------------------------------

    def validate(self) -> None:
        """Raise :class:`ValidationError` naming the first bad field (``targets[2].x``)."""
        n = self.n_targets
        if n == 0:
            raise ValidationError("a game needs at least one target", field="targets")
        if self._ids is not None:
            if len(self._ids) != n:
                raise ValidationError(f"{len(self._ids)} ids for {n} targets", field="targets")
            if len(set(self._ids)) != n:
                dup = _first_duplicate(self._ids)
                raise ValidationError(
                    f"duplicate target id {self._ids[dup]!r}", field=f"targets[{dup}].id"
                )
        if self.resources < 0:
            raise ValidationError("must be >= 0", field="resources")
        _check_payoffs(self.payoffs, n, "targets")
        for k, at in enumerate(self.attacker_types):
            _check_payoffs(at.payoffs, n, f"attacker_types[{k}].targets")
        if self.attacker_types:
            probs = np.array([a.probability for a in self.attacker_types])
            if np.any(~np.isfinite(probs)) or np.any(probs < 0):
                bad = int(np.argmax(~np.isfinite(probs) | (probs < 0)))
                raise ValidationError(
                    "must be a probability in [0, 1]",
                    field=f"attacker_types[{bad}].probability",
                )
            if abs(probs.sum() - 1.0) > 1e-9:
                raise ValidationError(
                    f"probabilities sum to {probs.sum():g}, not 1", field="attacker_types"
                )
        self._validate_types()
        self._validate_intervals()
        if self.burden is not None:
            b = self.burden
            if b.per_target.shape != (n,) or not np.all(np.isfinite(b.per_target)):
                raise ValidationError("one finite value per target", field="burden.targets")
            if np.any(b.per_target < 0):
                bad = int(np.argmax(b.per_target < 0))
                raise ValidationError("must be >= 0", field=f"burden.targets[{bad}]")
            if not np.isfinite(b.weight) or b.weight < 0:
                raise ValidationError("must be finite and >= 0", field="burden.weight")
            if b.cap is not None and (not np.isfinite(b.cap) or b.cap < 0):
                raise ValidationError("must be finite and >= 0", field="burden.cap")

    def _validate_types(self) -> None:
        n = self.n_targets
        seen: set[str] = set()
        for r, rt in enumerate(self.resource_types):
            if rt.id in seen:
                raise ValidationError(
                    f"duplicate resource type {rt.id!r}", field=f"resource_types[{r}].id"
                )
            seen.add(rt.id)
            if rt.count < 0:
                raise ValidationError("must be >= 0", field=f"resource_types[{r}].count")
            if rt.eligible is not None and any(not 0 <= t < n for t in rt.eligible):
                raise ValidationError(
                    "target index out of range", field=f"resource_types[{r}].eligible"
                )
        agencies = {rt.agency for rt in self.resource_types}
        for a, cap in self.agency_capacity.items():
            if a not in agencies:
                raise ValidationError(
                    f"no resource type belongs to agency {a!r}", field=f"agency_capacity.{a}"
                )
            if cap < 0:
                raise ValidationError("must be >= 0", field=f"agency_capacity.{a}")
        if self.resource_types and self.resources != sum(rt.count for rt in self.resource_types):
            raise ValidationError(
                "must equal the sum of the resource type counts", field="resources"
            )

    def _validate_intervals(self) -> None:
        if self.ra_range is None and self.pa_range is None:
            return
        n = self.n_targets
        for name, rng, point in (
            ("attacker_reward_range", self.ra_range, self.payoffs.ra),
            ("attacker_penalty_range", self.pa_range, self.payoffs.pa),
        ):
            if rng is None or rng.shape != (n, 2) or not np.all(np.isfinite(rng)):
                raise ValidationError("need (low, high) finite pairs", field=f"targets.{name}")
            bad = (rng[:, 0] > point + 1e-12) | (rng[:, 1] < point - 1e-12)
            if np.any(bad):
                i = int(np.argmax(bad))
                raise ValidationError(
                    f"[{rng[i, 0]:g}, {rng[i, 1]:g}] does not contain the point value {point[i]:g}",
                    field=f"targets[{i}].{name}",
                )
        assert self.ra_range is not None and self.pa_range is not None
        bad = self.ra_range[:, 0] <= self.pa_range[:, 1]
        if np.any(bad):
            i = int(np.argmax(bad))
            raise ValidationError(
                "the lowest attacker reward must exceed the highest attacker penalty",
                field=f"targets[{i}].attacker_reward_range",
            )


def _first_duplicate(ids: Sequence[str]) -> int:
    seen: set[str] = set()
    for i, t in enumerate(ids):
        if t in seen:
            return i
        seen.add(t)
    return -1


def _check_payoffs(p: PayoffArrays, n: int, where: str) -> None:
    for name, arr in (
        ("defender_reward", p.rd),
        ("defender_penalty", p.pd),
        ("attacker_reward", p.ra),
        ("attacker_penalty", p.pa),
    ):
        if arr.shape != (n,):
            raise ValidationError(f"expected {n} values, got shape {arr.shape}", field=where)
        if arr.min() >= -MAX_PAYOFF and arr.max() <= MAX_PAYOFF:  # fast path (NaN fails)
            continue
        finite = np.isfinite(arr)
        if not finite.all():
            i = int(np.argmin(finite))
            raise ValidationError("must be a finite number", field=f"{where}[{i}].{name}")
        big = np.abs(arr) > MAX_PAYOFF
        if big.any():
            i = int(np.argmax(big))
            raise ValidationError(
                f"magnitude above {MAX_PAYOFF:g}: rescale the payoffs",
                field=f"{where}[{i}].{name}",
            )
    bad = p.pd > p.rd
    if bad.any():
        i = int(np.argmax(bad))
        raise ValidationError(
            f"{p.pd[i]:g} exceeds defender_reward {p.rd[i]:g} (coverage must not hurt the "
            "defender)",
            field=f"{where}[{i}].defender_penalty",
        )
    bad = p.pa >= p.ra
    if bad.any():
        i = int(np.argmax(bad))
        raise ValidationError(
            f"{p.pa[i]:g} is not below attacker_reward {p.ra[i]:g} (coverage must deter)",
            field=f"{where}[{i}].attacker_penalty",
        )
