"""Plain, typed inputs of the simulator: targets, deployments, QRF bases, plans, attackers.

Every other engine (games, patrol, placement, routing, risk) can be adapted to these types without
the simulator importing it:

* a **target** is anything an attacker can strike on a given day: a site, a road segment or a
  convoy movement, with the people exposed (head count) and the expected fraction harmed if the
  attack succeeds;
* a **deployment** is one unit type of one force (patrol, checkpoint, guard, escort, drone, camera)
  with its presence at each target, either as coverage *marginals* (``shape (n_targets,)``) or as
  a *schedule* of daily pure plans (``shape (n_days, n_targets)``, e.g. comb-sampled days from the
  game solver or patrol schedules);
* a **QRF base** gives travel minutes to each target, availability and dispatch delay;
* a :class:`DefencePlan` bundles them with the cross-force hand-off delays;
* an **attacker** is strategic (quantal response to what it observes) or opportunistic (target
  probabilities from a risk forecast), with an attack-duration distribution.

All arrays are float64 numpy arrays; minutes are the time unit inside the simulator.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from corridorguard.errors import ValidationError

__all__ = [
    "AttackDuration",
    "DefencePlan",
    "Deployment",
    "OpportunisticAttacker",
    "QRFBase",
    "StrategicAttacker",
    "Target",
    "TargetSet",
    "UnitType",
    "sensor",
]

FloatArray = NDArray[np.float64]
TargetKind = Literal["site", "segment", "convoy"]


def _prob(value: float, field_name: str) -> float:
    if not (0.0 <= value <= 1.0) or math.isnan(value):
        raise ValidationError(f"must be a probability in [0, 1], got {value!r}", field=field_name)
    return float(value)


HOURS = 24


def _window(value: tuple[float, float] | None, field_name: str) -> None:
    if value is None:
        return
    if len(value) != 2 or not all(0.0 <= float(v) <= 24.0 for v in value) or value[0] == value[1]:
        raise ValidationError(
            "must be (start_hour, end_hour) within 0-24 and not empty (wraps past midnight "
            "when end < start)",
            field=field_name,
        )


def hour_mask(window: tuple[float, float] | None) -> NDArray[np.bool_]:
    """Which of the 24 hourly slots (by their midpoint) fall in ``window`` (None: all)."""
    mid = np.arange(HOURS) + 0.5
    if window is None:
        return np.ones(HOURS, dtype=bool)
    start, end = float(window[0]), float(window[1])
    if start < end:
        return (mid >= start) & (mid < end)
    return (mid >= start) | (mid < end)


def _nonneg(value: float, field_name: str) -> float:
    if not value >= 0.0:
        raise ValidationError(f"must be >= 0, got {value!r}", field=field_name)
    return float(value)


@dataclass(frozen=True)
class Target:
    """One thing to protect on a simulated day.

    Parameters
    ----------
    id
        Unique id (a site id, an edge id, a movement id).
    kind
        ``site``, ``segment`` or ``convoy``.
    workers
        People exposed during an attack (site or convoy head count; 0 for an empty road).
    lethality
        Expected fraction of the exposed people harmed when the attack succeeds, so the harm of a
        successful attack is ``workers * lethality`` expected casualties.
    reward
        The attacker's payoff when the attack succeeds (defaults to ``workers * lethality``).
    penalty
        The attacker's payoff when the attack is interdicted (``<= reward``).
    force
        The force responsible for the target (for per-force KPIs).
    traffic_vph
        Vehicles per hour passing (road segments), for the civilian burden of checkpoints.
    exposed_hours
        ``(start, end)`` local hours during which the target can be attacked (a convoy's movement
        window; wraps past midnight when ``end < start``); ``None`` = all day.
    """

    id: str
    kind: TargetKind = "site"
    workers: float = 0.0
    lethality: float = 0.1
    reward: float | None = None
    penalty: float = 0.0
    force: str = ""
    traffic_vph: float = 0.0
    exposed_hours: tuple[float, float] | None = None

    @property
    def attacker_reward(self) -> float:
        return self.workers * self.lethality if self.reward is None else self.reward


@dataclass(frozen=True, eq=False)
class TargetSet:
    """An ordered set of targets; the arrays below are indexed like :attr:`targets`."""

    targets: tuple[Target, ...]
    notional: bool = True
    """True when head counts, lethality or payoffs are notional (labelled in every output)."""

    ids: tuple[str, ...] = field(init=False)
    workers: FloatArray = field(init=False, repr=False)
    lethality: FloatArray = field(init=False, repr=False)
    reward: FloatArray = field(init=False, repr=False)
    penalty: FloatArray = field(init=False, repr=False)
    traffic_vph: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        targets = tuple(self.targets)
        if not targets:
            raise ValidationError("a plan needs at least one target", field="targets")
        seen: set[str] = set()
        for i, t in enumerate(targets):
            if not t.id or t.id in seen:
                raise ValidationError(f"missing or duplicate id {t.id!r}", field=f"targets[{i}].id")
            seen.add(t.id)
            _nonneg(t.workers, f"targets[{i}].workers")
            _prob(t.lethality, f"targets[{i}].lethality")
            _nonneg(t.traffic_vph, f"targets[{i}].traffic_vph")
            _window(t.exposed_hours, f"targets[{i}].exposed_hours")
            if not hour_mask(t.exposed_hours).any():
                raise ValidationError("covers no whole hour", field=f"targets[{i}].exposed_hours")
            if t.penalty > t.attacker_reward:
                raise ValidationError("penalty exceeds reward", field=f"targets[{i}].penalty")
        set_ = object.__setattr__
        set_(self, "targets", targets)
        set_(self, "ids", tuple(t.id for t in targets))
        set_(self, "workers", np.array([t.workers for t in targets], dtype=float))
        set_(self, "lethality", np.array([t.lethality for t in targets], dtype=float))
        set_(self, "reward", np.array([t.attacker_reward for t in targets], dtype=float))
        set_(self, "penalty", np.array([t.penalty for t in targets], dtype=float))
        set_(self, "traffic_vph", np.array([t.traffic_vph for t in targets], dtype=float))

    def __len__(self) -> int:
        return len(self.targets)

    def index(self, target_id: str) -> int:
        try:
            return self.ids.index(target_id)
        except ValueError:
            raise ValidationError(f"unknown target {target_id!r}", field="target") from None

    @property
    def harm(self) -> FloatArray:
        """Expected casualties of a successful attack on each target."""
        return self.workers * self.lethality


@dataclass(frozen=True)
class UnitType:
    """A kind of resource of one force, with its effect where it is present.

    ``detection_prob`` is the chance to detect an attack in progress where present, after
    ``detection_delay_min``; ``interdiction_prob`` the chance to stop a detected attack on the spot.
    Checkpoint-like units cost civilians ``delay_min_per_vehicle`` for every vehicle passing during
    ``staffed_hours`` and stop ``stop_fraction`` of them. ``observable`` says whether an attacker
    doing reconnaissance sees the unit (cameras and drones are often not counted). ``shift``
    limits presence to hours of the day: an attacker who picks its hour can avoid it.
    """

    name: str
    force: str = ""
    kind: str = "patrol"
    detection_prob: float = 0.5
    interdiction_prob: float = 0.5
    detection_delay_min: float = 0.0
    observable: bool = True
    staffed_hours: float = 8.0
    delay_min_per_vehicle: float = 0.0
    stop_fraction: float = 0.0
    shift: tuple[float, float] | None = None
    """``(start, end)`` local hours when the unit is on duty (wraps past midnight when
    ``end < start``); ``None`` = present all day wherever its coverage puts it."""

    def __post_init__(self) -> None:
        where = f"units[{self.name}]"
        _window(self.shift, f"{where}.shift")
        _prob(self.detection_prob, f"{where}.detection_prob")
        _prob(self.interdiction_prob, f"{where}.interdiction_prob")
        _prob(self.stop_fraction, f"{where}.stop_fraction")
        _nonneg(self.detection_delay_min, f"{where}.detection_delay_min")
        _nonneg(self.delay_min_per_vehicle, f"{where}.delay_min_per_vehicle")
        if not 0.0 <= self.staffed_hours <= 24.0:
            raise ValidationError("must be within [0, 24]", field=f"{where}.staffed_hours")


@dataclass(frozen=True, eq=False)
class Deployment:
    """Where one unit type is, day by day.

    ``coverage`` is either marginals (``(n_targets,)``: probability of presence on any day) or a
    schedule (``(n_days, n_targets)``: presence, 0/1 or a probability, on each day of a cycle). A
    simulated day reads one schedule row drawn uniformly; every schedule deployment of a plan with
    the same number of rows reads the *same* row, so jointly sampled daily plans keep their
    correlation.
    """

    unit: UnitType
    coverage: FloatArray

    def __post_init__(self) -> None:
        cov = np.asarray(self.coverage, dtype=float)
        if cov.ndim not in (1, 2) or cov.size == 0:
            raise ValidationError(
                "coverage must be (n_targets,) or (n_days, n_targets)",
                field=f"deployments[{self.unit.name}].coverage",
            )
        if np.isnan(cov).any() or (cov < 0).any() or (cov > 1 + 1e-12).any():
            raise ValidationError(
                "coverage values must be probabilities in [0, 1]",
                field=f"deployments[{self.unit.name}].coverage",
            )
        cov = np.clip(cov, 0.0, 1.0)
        cov.setflags(write=False)
        object.__setattr__(self, "coverage", cov)

    @property
    def marginals(self) -> FloatArray:
        """Probability of presence at each target on a random day."""
        cov = self.coverage
        return cov if cov.ndim == 1 else cov.mean(axis=0)

    @property
    def n_targets(self) -> int:
        return int(self.coverage.shape[-1])


def sensor(
    name: str,
    detection_prob: Sequence[float] | FloatArray,
    *,
    force: str = "",
    kind: str = "camera",
    detection_delay_min: float = 0.0,
    observable: bool = False,
) -> Deployment:
    """A static sensor layer: per-target detection probability, no interdiction of its own."""
    unit = UnitType(
        name=name,
        force=force,
        kind=kind,
        detection_prob=1.0,
        interdiction_prob=0.0,
        detection_delay_min=detection_delay_min,
        observable=observable,
        staffed_hours=0.0,
    )
    return Deployment(unit, np.asarray(detection_prob, dtype=float))


@dataclass(frozen=True, eq=False)
class QRFBase:
    """A quick-reaction force base: travel minutes to each target (``inf`` = unreachable)."""

    name: str
    travel_min: FloatArray
    force: str = ""
    availability: float = 1.0
    """Probability that the QRF is ready on a given day (not already committed, not resting)."""
    interdiction_prob: float = 0.9
    """Probability that the QRF stops the attack when it arrives before it completes."""
    dispatch_delay_min: float = 5.0
    """From the report reaching the QRF's own force to wheels rolling."""

    def __post_init__(self) -> None:
        travel = np.asarray(self.travel_min, dtype=float)
        if travel.ndim != 1 or np.isnan(travel).any() or (travel < 0).any():
            raise ValidationError(
                "travel_min must be a 1-D array of minutes >= 0 (inf = unreachable)",
                field=f"qrf[{self.name}].travel_min",
            )
        travel.setflags(write=False)
        object.__setattr__(self, "travel_min", travel)
        _prob(self.availability, f"qrf[{self.name}].availability")
        _prob(self.interdiction_prob, f"qrf[{self.name}].interdiction_prob")
        _nonneg(self.dispatch_delay_min, f"qrf[{self.name}].dispatch_delay_min")


@dataclass(frozen=True, eq=False)
class DefencePlan:
    """A defence plan as the simulator sees it: deployments, QRF bases and hand-off delays.

    ``handoff_delay_min`` is the communication delay added when the force that detects an attack
    is not the force of the QRF that responds: one number for every pair, or a mapping
    ``{(from_force, to_force): minutes}`` (missing pairs fall back to ``default_handoff_min``).
    """

    targets: TargetSet
    deployments: tuple[Deployment, ...] = ()
    qrf: tuple[QRFBase, ...] = ()
    handoff_delay_min: float | Mapping[tuple[str, str], float] = 0.0
    default_handoff_min: float = 0.0
    name: str = "plan"
    notional: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "deployments", tuple(self.deployments))
        object.__setattr__(self, "qrf", tuple(self.qrf))
        n = len(self.targets)
        names: set[str] = set()
        for d in self.deployments:
            if d.unit.name in names:
                raise ValidationError(
                    f"duplicate unit name {d.unit.name!r}", field="deployments.unit.name"
                )
            names.add(d.unit.name)
            if d.n_targets != n:
                raise ValidationError(
                    f"coverage has {d.n_targets} targets, the plan has {n}",
                    field=f"deployments[{d.unit.name}].coverage",
                )
        for b in self.qrf:
            if b.travel_min.shape[0] != n:
                raise ValidationError(
                    f"travel_min has {b.travel_min.shape[0]} targets, the plan has {n}",
                    field=f"qrf[{b.name}].travel_min",
                )

    def handoff(self, from_force: str, to_force: str) -> float:
        """Minutes to hand an alert from one force to another (0 within a force)."""
        if from_force == to_force:
            return 0.0
        if isinstance(self.handoff_delay_min, Mapping):
            return float(
                self.handoff_delay_min.get((from_force, to_force), self.default_handoff_min)
            )
        return float(self.handoff_delay_min)

    @property
    def hours(self) -> int:
        """24 when any unit has a shift or any target an exposure window (time of day matters),
        else 1 (the day is one slot)."""
        timed = any(d.unit.shift is not None for d in self.deployments) or any(
            t.exposed_hours is not None for t in self.targets.targets
        )
        return HOURS if timed else 1

    def coverage_by_unit(self) -> dict[str, FloatArray]:
        """Marginal presence of each unit type at each target."""
        return {d.unit.name: d.marginals for d in self.deployments}


@dataclass(frozen=True)
class AttackDuration:
    """How long an attack takes to complete, in minutes (interdiction must come before the end).

    ``kind``: ``fixed`` (always ``mean_min``), ``exponential`` (mean ``mean_min``), ``lognormal``
    (mean ``mean_min``, log-sd ``sigma``) or ``uniform`` (on ``[low_min, high_min]``).
    """

    kind: Literal["fixed", "exponential", "lognormal", "uniform"] = "lognormal"
    mean_min: float = 30.0
    sigma: float = 0.6
    low_min: float = 0.0
    high_min: float = 60.0

    def __post_init__(self) -> None:
        if self.kind not in ("fixed", "exponential", "lognormal", "uniform"):
            raise ValidationError(f"unknown duration kind {self.kind!r}", field="duration.kind")
        if not self.mean_min > 0:
            raise ValidationError("must be > 0", field="duration.mean_min")
        if self.kind == "uniform" and not self.high_min > self.low_min >= 0:
            raise ValidationError("need 0 <= low_min < high_min", field="duration.high_min")

    def from_uniform(self, u: FloatArray) -> FloatArray:
        """Inverse CDF: durations from uniforms in (0, 1) (keeps common random numbers)."""
        if self.kind == "fixed":
            return np.full_like(u, self.mean_min)
        if self.kind == "exponential":
            return -self.mean_min * np.log1p(-u)
        if self.kind == "uniform":
            return self.low_min + (self.high_min - self.low_min) * u
        from scipy.special import ndtri

        mu = math.log(self.mean_min) - 0.5 * self.sigma**2
        return np.asarray(np.exp(mu + self.sigma * ndtri(u)), dtype=float)

    def survival(self, t: FloatArray) -> FloatArray:
        """``P(duration > t)``."""
        t = np.asarray(t, dtype=float)
        if self.kind == "fixed":
            return (self.mean_min > t).astype(float)
        if self.kind == "exponential":
            return np.where(t < 0, 1.0, np.exp(-np.maximum(t, 0) / self.mean_min))
        if self.kind == "uniform":
            span = self.high_min - self.low_min
            return np.asarray(np.clip((self.high_min - t) / span, 0.0, 1.0), dtype=float)
        from scipy.special import ndtr

        mu = math.log(self.mean_min) - 0.5 * self.sigma**2
        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(t, 1e-300)) - mu) / self.sigma
        return np.where(t <= 0, 1.0, 1.0 - ndtr(z))


@dataclass(frozen=True)
class StrategicAttacker:
    """Quantal-response attacker with an explicit outside option (deterrence).

    Each attacker-day the attacker weighs every target by its expected utility under the coverage
    it observes, ``EU_t = (1 - s_t) R_t + s_t P_t`` (``s_t`` = probability the attack is stopped,
    :func:`corridorguard.simulate.protection`), and the option of not attacking, worth
    ``outside_option``. It chooses with logit (quantal response) probabilities

    ``P(t) = exp(λ EU_t) / (exp(λ U_0) + Σ_k exp(λ EU_k))``, ``P(abstain) = exp(λ U_0) / (...)``.

    ``rationality`` λ = ``inf`` is a best response (abstain iff ``max EU < U_0``; ties split
    evenly). ``outside_option=None`` removes the option (the attacker always attacks). A day on
    which the attacker abstains is counted as **deterred**. ``observes="visible"`` counts only
    deployments whose unit is ``observable`` and ignores the QRF; ``"all"`` counts everything.

    When time of day matters (units with a ``shift`` or targets with ``exposed_hours``) the
    attacker also picks the hour: a nested logit over (target, hour) pairs, see
    :func:`corridorguard.simulate.analytic.attack_distribution_by_hour`.
    """

    rationality: float = 1.0
    outside_option: float | None = 0.0
    observes: Literal["all", "visible"] = "all"
    duration: AttackDuration = field(default_factory=AttackDuration)

    def __post_init__(self) -> None:
        if not self.rationality >= 0:
            raise ValidationError("must be >= 0", field="attacker.rationality")


@dataclass(frozen=True, eq=False)
class OpportunisticAttacker:
    """An attacker that strikes targets with fixed probabilities (e.g. a risk forecast).

    ``target_probs`` is normalised to sum to one; the attacker does not react to the plan, so it is
    never deterred (deterrence of this attacker is not modelled, by design). When time of day
    matters (:attr:`DefencePlan.hours` = 24) the hour is drawn from ``hour_probs`` (24 weights,
    default uniform) restricted to the target's exposed hours.
    """

    target_probs: FloatArray
    hour_probs: FloatArray | None = None
    duration: AttackDuration = field(default_factory=AttackDuration)

    def __post_init__(self) -> None:
        p = np.asarray(self.target_probs, dtype=float)
        if p.ndim != 1 or np.isnan(p).any() or (p < 0).any() or not p.sum() > 0:
            raise ValidationError(
                "target_probs must be non-negative with a positive sum", field="attacker.probs"
            )
        p = p / p.sum()
        p.setflags(write=False)
        object.__setattr__(self, "target_probs", p)
        if self.hour_probs is not None:
            h = np.asarray(self.hour_probs, dtype=float)
            if h.shape != (HOURS,) or np.isnan(h).any() or (h < 0).any() or not h.sum() > 0:
                raise ValidationError(
                    "hour_probs needs 24 non-negative weights", field="attacker.hour_probs"
                )
            h.setflags(write=False)
            object.__setattr__(self, "hour_probs", h / h.sum())


Attacker = StrategicAttacker | OpportunisticAttacker
