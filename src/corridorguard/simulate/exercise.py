"""Exercises: a YAML inject script run against a plan, and the after-action summary.

An exercise is deterministic: the script says when and where simulated incidents (*injects*)
happen, which units stand where (*posts*), when units are unavailable, and how long an alert takes
to pass from one force to the other (*comms*). The run answers what an after-action review asks:
who detected each incident and when, how long the hand-off between forces took, which QRF went,
when it arrived and whether that was before the attack ended; then KPIs per force.

Script format: ``docs/simulate.md``; example: ``corridorguard/simulate/examples/drill.yaml``.
Validation errors name the file, the line and the field (``injects[2].target``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator

from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.simulate._yaml import MarkedDoc, load_marked

__all__ = [
    "AfterAction",
    "ExerciseScript",
    "example_script",
    "load_script",
    "run_exercise",
]

ON_SITE = ("guard", "patrol", "checkpoint", "escort", "camera", "drone")
_HHMM = re.compile(r"^\+?(\d+):([0-5]\d)$")


def _minutes(value: Any) -> float:
    """Minutes after the exercise start: a number, ``"HH:MM"`` or ``"+HH:MM"``."""
    if isinstance(value, bool):
        raise ValueError("expected minutes or 'HH:MM'")
    if isinstance(value, int | float):
        if not value >= 0:
            raise ValueError("time must be >= 0 minutes")
        return float(value)
    if isinstance(value, str):
        m = _HHMM.match(value.strip())
        if m:
            return int(m.group(1)) * 60.0 + int(m.group(2))
    raise ValueError(f"expected minutes after start or 'HH:MM', got {value!r}")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ExerciseInfo(_Spec):
    name: str = Field(min_length=1)
    start: datetime | None = None
    """Wall-clock start (UTC); times in the script are minutes (or HH:MM) after it."""
    notional: bool = True
    description: str = ""


class ForceSpec(_Spec):
    id: str = Field(min_length=1)
    name: str = ""


class CommsLink(_Spec):
    """Delay for an alert to pass from one force to another, optionally within a time window."""

    from_: str = Field(alias="from")
    to: str
    delay_min: float = Field(ge=0)
    start: float = 0.0
    end: float = math.inf

    @field_validator("start", "end", mode="before")
    @classmethod
    def _time(cls, value: Any) -> float:
        return _minutes(value)


class TargetSpec(_Spec):
    id: str = Field(min_length=1)
    kind: Literal["site", "segment", "convoy"] = "site"
    workers: int = Field(default=0, ge=0)
    lethality: float = Field(default=0.1, ge=0, le=1)
    force: str | None = None
    """The force responsible for the target."""


class Post(_Spec):
    target: str
    start: float = 0.0
    end: float = math.inf

    @field_validator("start", "end", mode="before")
    @classmethod
    def _time(cls, value: Any) -> float:
        return _minutes(value)


class UnitSpec(_Spec):
    id: str = Field(min_length=1)
    force: str
    kind: Literal["guard", "patrol", "checkpoint", "escort", "camera", "drone", "qrf"]
    detection_delay_min: float = Field(default=0.0, ge=0)
    interdicts: bool = False
    """On-site units: can stop an attack on the spot once they detect it."""
    posts: tuple[Post, ...] = ()
    travel_min: dict[str, float] = Field(default_factory=dict)
    """QRF: travel minutes to each target it can reach."""
    dispatch_delay_min: float = Field(default=5.0, ge=0)
    on_scene_min: float = Field(default=60.0, ge=0)
    """QRF: minutes spent on scene before driving back (busy until back at base)."""


class Availability(_Spec):
    unit: str
    start: float
    end: float = math.inf
    available: bool = False
    note: str = ""

    @field_validator("start", "end", mode="before")
    @classmethod
    def _time(cls, value: Any) -> float:
        return _minutes(value)


class Inject(_Spec):
    id: str | None = None
    at: float
    target: str
    type: str = Field(min_length=1)
    duration_min: float = Field(default=30.0, gt=0)
    detected: bool = True
    """False: nobody notices the attack (tests what happens when sensors miss)."""
    detected_by: str | None = None
    """Force the first detector (a unit id); by default the fastest unit posted there."""
    detect_after_min: float | None = Field(default=None, ge=0)
    note: str = ""

    @field_validator("at", mode="before")
    @classmethod
    def _time(cls, value: Any) -> float:
        return _minutes(value)


class ExerciseScript(_Spec):
    """A whole inject script (see ``docs/simulate.md``)."""

    exercise: ExerciseInfo
    forces: tuple[ForceSpec, ...] = Field(min_length=1)
    comms: tuple[CommsLink, ...] = ()
    default_comms_delay_min: float = Field(default=0.0, ge=0)
    targets: tuple[TargetSpec, ...] = Field(min_length=1)
    units: tuple[UnitSpec, ...] = ()
    availability: tuple[Availability, ...] = ()
    injects: tuple[Inject, ...] = Field(min_length=1)
    plan: str | None = None
    """A YAML file (relative to the script) holding ``forces``/``targets``/``units``/``comms``."""


# --- loading ---------------------------------------------------------------------------------


def example_script() -> Path:
    """The example script shipped with the package."""
    return Path(str(resources.files("corridorguard.simulate") / "examples" / "drill.yaml"))


def load_script(path: str | Path) -> ExerciseScript:
    """Read, validate and cross-check an inject script; errors carry file, line and field."""
    path = Path(path)
    doc = _read(path)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error("the script must be a mapping with exercise, targets, injects", ())
    docs: dict[str, MarkedDoc] = {}
    if isinstance(data.get("plan"), str):
        plan_doc = _read(path.parent / data["plan"], referenced_from=(doc, ("plan",)))
        if not isinstance(plan_doc.data, dict):
            raise plan_doc.error("a plan file must be a mapping", ())
        data = dict(data)
        for key in ("forces", "targets", "units", "comms"):
            if key in plan_doc.data:
                if key in data:
                    raise doc.error(f"{key} is given both here and in the plan file", (key,))
                data[key] = plan_doc.data[key]
                docs[key] = plan_doc
    try:
        script = ExerciseScript.model_validate(data)
    except pydantic.ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        src = docs.get(str(loc[0]), doc) if loc else doc
        loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise src.error(f"{err['msg']}{more}", loc) from None
    _cross_check(script, doc, docs)
    return script


def _read(path: Path, referenced_from: tuple[MarkedDoc, tuple[str]] | None = None) -> MarkedDoc:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        if referenced_from is not None:
            src, loc = referenced_from
            raise NotFoundError(
                f"cannot read plan file {path}: {exc.strerror}",
                file=src.file,
                line=src.line(loc),
                field="plan",
            ) from None
        raise NotFoundError(f"cannot read {path}: {exc.strerror}", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise ValidationError(f"not UTF-8 text ({exc.reason})", file=str(path)) from None
    return load_marked(text, str(path))


def _cross_check(s: ExerciseScript, doc: MarkedDoc, docs: dict[str, MarkedDoc]) -> None:
    def fail(msg: str, loc: tuple[str | int, ...]) -> ValidationError:
        return docs.get(str(loc[0]), doc).error(msg, loc)

    forces = _unique([f.id for f in s.forces], "forces", fail)
    targets = _unique([t.id for t in s.targets], "targets", fail)
    units = _unique([u.id for u in s.units], "units", fail)
    for i, t in enumerate(s.targets):
        if t.force is not None and t.force not in forces:
            raise fail(f"unknown force {t.force!r}", ("targets", i, "force"))
    for i, c in enumerate(s.comms):
        for key, value in (("from", c.from_), ("to", c.to)):
            if value not in forces:
                raise fail(f"unknown force {value!r}", ("comms", i, key))
    for i, u in enumerate(s.units):
        if u.force not in forces:
            raise fail(f"unknown force {u.force!r}", ("units", i, "force"))
        for j, p in enumerate(u.posts):
            if p.target not in targets:
                raise fail(f"unknown target {p.target!r}", ("units", i, "posts", j, "target"))
        for tid, minutes in u.travel_min.items():
            if tid not in targets:
                raise fail(f"unknown target {tid!r}", ("units", i, "travel_min", tid))
            if not minutes >= 0:
                raise fail("travel minutes must be >= 0", ("units", i, "travel_min", tid))
        if u.kind == "qrf" and u.posts:
            raise fail("a QRF has travel_min, not posts", ("units", i, "posts"))
    for i, a in enumerate(s.availability):
        if a.unit not in units:
            raise fail(f"unknown unit {a.unit!r}", ("availability", i, "unit"))
    for i, inj in enumerate(s.injects):
        if inj.target not in targets:
            raise fail(f"unknown target {inj.target!r}", ("injects", i, "target"))
        if inj.detected_by is not None and inj.detected_by not in units:
            raise fail(f"unknown unit {inj.detected_by!r}", ("injects", i, "detected_by"))


def _unique(ids: list[str], layer: str, fail: Any) -> set[str]:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x in seen:
            raise fail(f"duplicate id {x!r}", (layer, i, "id"))
        seen.add(x)
    return seen


# --- running ---------------------------------------------------------------------------------


@dataclass
class InjectOutcome:
    """What happened to one inject (times in minutes after the exercise start)."""

    id: str
    type: str
    target: str
    target_force: str | None
    at: float
    duration_min: float
    detected: bool = False
    detected_by: str | None = None
    detecting_force: str | None = None
    time_to_detect_min: float | None = None
    stopped_on_site: bool = False
    qrf: str | None = None
    qrf_force: str | None = None
    handoff: bool = False
    handoff_delay_min: float | None = None
    qrf_wait_min: float | None = None
    """Minutes the alerted QRF waited to become free (busy elsewhere or unavailable)."""
    response_min: float | None = None
    """From the start of the attack to the QRF's arrival."""
    in_time: bool = False
    outcome: str = "undetected"
    expected_harm: float = 0.0
    """Notional expected casualties: head count × lethality × elapsed fraction of the attack."""


@dataclass
class AfterAction:
    """The after-action summary of one exercise run."""

    name: str
    notional: bool
    start: datetime | None
    injects: list[InjectOutcome]
    overall: dict[str, Any]
    by_force: dict[str, dict[str, Any]]
    timeline: list[dict[str, Any]] = field(default_factory=list)

    def clock(self, minutes: float) -> str:
        if self.start is None:
            return f"T+{int(minutes // 60):02d}:{minutes % 60:04.1f}"
        return (self.start + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M")

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {
            "exercise": self.name,
            "notional": self.notional,
            "start": self.start.isoformat() if self.start else None,
            "overall": self.overall,
            "by_force": self.by_force,
            "injects": [asdict(o) for o in self.injects],
            "timeline": self.timeline,
        }


class _World:
    def __init__(self, s: ExerciseScript) -> None:
        self.s = s
        self.busy_until: dict[str, float] = {}

    def comms(self, src: str | None, dst: str, t: float) -> float:
        if src is None or src == dst:
            return 0.0
        delay = self.s.default_comms_delay_min
        for c in self.s.comms:  # later entries override earlier ones
            if c.from_ == src and c.to == dst and c.start <= t < c.end:
                delay = c.delay_min
        return delay

    def available(self, unit: str, t: float) -> bool:
        ok = True
        for a in self.s.availability:
            if a.unit == unit and a.start <= t < a.end:
                ok = a.available
        return ok and self.busy_until.get(unit, -math.inf) <= t

    def next_free(self, unit: str, t: float) -> float:
        """Earliest time >= ``t`` at which ``unit`` is available and not busy (inf: never)."""
        t = max(t, self.busy_until.get(unit, -math.inf))
        for _ in range(len(self.s.availability) + 1):
            if self.available(unit, t):
                return t
            ends = [
                a.end
                for a in self.s.availability
                if a.unit == unit and a.start <= t < a.end and not a.available
            ]
            t = max(ends) if ends else t
            if not math.isfinite(t):
                return math.inf
        return t if self.available(unit, t) else math.inf

    def present(self, u: UnitSpec, target: str, t: float) -> bool:
        return self.available(u.id, t) and any(
            p.target == target and p.start <= t < p.end for p in u.posts
        )


def run_exercise(script: ExerciseScript) -> AfterAction:
    """Play the injects in time order against the plan; returns the after-action summary."""
    world = _World(script)
    target_of = {t.id: t for t in script.targets}
    unit_of = {u.id: u for u in script.units}
    order = sorted(range(len(script.injects)), key=lambda i: (script.injects[i].at, i))
    outcomes: list[InjectOutcome] = []
    timeline: list[dict[str, Any]] = []
    for i in order:
        inj = script.injects[i]
        tgt = target_of[inj.target]
        o = InjectOutcome(
            id=inj.id or f"inject-{i + 1}",
            type=inj.type,
            target=inj.target,
            target_force=tgt.force,
            at=inj.at,
            duration_min=inj.duration_min,
        )
        timeline.append(_event(inj.at, tgt.force, f"{o.id}: {inj.type} at {inj.target}"))
        _detect(world, inj, o, unit_of)
        if o.detected:
            assert o.time_to_detect_min is not None
            t_det = inj.at + o.time_to_detect_min
            timeline.append(
                _event(t_det, o.detecting_force, f"{o.id}: detected by {o.detected_by}")
            )
            _respond(world, inj, o, t_det, timeline)
        stop = None
        if o.stopped_on_site:
            stop = o.time_to_detect_min
        elif o.in_time:
            stop = o.response_min
        frac = 1.0 if stop is None else min(1.0, stop / inj.duration_min)
        o.expected_harm = tgt.workers * tgt.lethality * frac
        outcomes.append(o)
    timeline.sort(key=lambda e: e["t_min"])
    return AfterAction(
        name=script.exercise.name,
        notional=script.exercise.notional,
        start=script.exercise.start,
        injects=outcomes,
        overall=_overall(outcomes),
        by_force=_by_force(script, outcomes),
        timeline=timeline,
    )


def _event(t: float, force: str | None, text: str) -> dict[str, Any]:
    return {"t_min": round(t, 3), "force": force, "event": text}


def _detect(world: _World, inj: Inject, o: InjectOutcome, unit_of: dict[str, UnitSpec]) -> None:
    if not inj.detected:
        return
    if inj.detected_by is not None:
        candidates = [unit_of[inj.detected_by]]
    else:
        candidates = [
            u for u in world.s.units if u.kind in ON_SITE and world.present(u, inj.target, inj.at)
        ]
    if not candidates:
        return
    first = min(candidates, key=lambda u: u.detection_delay_min)  # ties: file order
    delay = first.detection_delay_min if inj.detect_after_min is None else inj.detect_after_min
    o.detected = True
    o.detected_by = first.id
    o.detecting_force = first.force
    o.time_to_detect_min = delay
    o.outcome = "qrf_none_available"
    o.stopped_on_site = any(
        u.interdicts and u.kind in ON_SITE and world.present(u, inj.target, inj.at)
        for u in candidates
    )
    if o.stopped_on_site:
        o.outcome = "stopped_on_site"


def _respond(
    world: _World, inj: Inject, o: InjectOutcome, t_det: float, timeline: list[dict[str, Any]]
) -> None:
    best: tuple[float, float, float, UnitSpec] | None = None
    for u in world.s.units:
        if u.kind != "qrf" or inj.target not in u.travel_min:
            continue
        handoff = world.comms(o.detecting_force, u.force, t_det)
        alert = t_det + handoff
        ready = world.next_free(u.id, alert)
        if not math.isfinite(ready):
            continue
        arrival = ready + u.dispatch_delay_min + u.travel_min[inj.target]
        if best is None or arrival < best[0]:
            best = (arrival, handoff, ready - alert, u)
    if best is None:
        timeline.append(_event(t_det, o.detecting_force, f"{o.id}: no QRF available"))
        return
    arrival, handoff, waited, u = best
    o.qrf_wait_min = waited
    o.qrf, o.qrf_force = u.id, u.force
    o.handoff = u.force != o.detecting_force
    o.handoff_delay_min = handoff if o.handoff else 0.0
    o.response_min = arrival - inj.at
    o.in_time = arrival <= inj.at + inj.duration_min
    if not o.stopped_on_site:
        o.outcome = "interdicted_by_qrf" if o.in_time else "qrf_late"
    world.busy_until[u.id] = arrival + u.on_scene_min + u.travel_min[inj.target]
    if o.handoff:
        timeline.append(
            _event(t_det + handoff, u.force, f"{o.id}: alert handed from {o.detecting_force}")
        )
    timeline.append(_event(arrival, u.force, f"{o.id}: {u.id} on scene"))


def _stats(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "max": None}
    return {"mean": sum(values) / len(values), "max": max(values)}


def _overall(outs: list[InjectOutcome]) -> dict[str, Any]:
    n = len(outs)
    det = [o for o in outs if o.detected]
    resp = [o for o in outs if o.response_min is not None]
    outcomes: dict[str, int] = {}
    for o in outs:
        outcomes[o.outcome] = outcomes.get(o.outcome, 0) + 1
    return {
        "injects": n,
        "detected": len(det),
        "detection_share": len(det) / n,
        "time_to_detect_min": _stats([o.time_to_detect_min or 0.0 for o in det]),
        "response_min": _stats([o.response_min or 0.0 for o in resp]),
        "handoffs": sum(o.handoff for o in outs),
        "handoff_delay_min": _stats([o.handoff_delay_min or 0.0 for o in outs if o.handoff]),
        "in_time_share": (sum(o.in_time for o in resp) / len(resp)) if resp else None,
        "outcomes": outcomes,
        "expected_harm": sum(o.expected_harm for o in outs),
    }


def _by_force(s: ExerciseScript, outs: list[InjectOutcome]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for f in s.forces:
        mine_det = [o for o in outs if o.detecting_force == f.id]
        sent = [o for o in outs if o.handoff and o.detecting_force == f.id]
        received = [o for o in outs if o.handoff and o.qrf_force == f.id]
        dispatched = [o for o in outs if o.qrf_force == f.id]
        area = [o for o in outs if o.target_force == f.id]
        out[f.id] = {
            "name": f.name or f.id,
            "injects_in_area": len(area),
            "detected_in_area": sum(o.detected for o in area),
            "first_detections": len(mine_det),
            "time_to_detect_min": _stats([o.time_to_detect_min or 0.0 for o in mine_det]),
            "handoffs_sent": len(sent),
            "handoffs_received": len(received),
            "handoff_delay_min": _stats([o.handoff_delay_min or 0.0 for o in sent]),
            "qrf_dispatches": len(dispatched),
            "response_min": _stats([o.response_min or 0.0 for o in dispatched]),
            "in_time": sum(o.in_time for o in dispatched),
        }
    return out
