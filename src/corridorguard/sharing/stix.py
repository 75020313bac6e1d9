"""STIX 2.1 export and import of incidents and sites with TLP 2.0 markings.

Mapping (documented in ``docs/sharing.md``):

* an **incident** is an ``incident`` SDO (name = incident type, description, the source dataset
  as an external reference), a ``location`` SDO (latitude, longitude) and a ``sighting`` that
  ties them with the time (``sighting_of_ref`` = incident, ``where_sighted_refs`` = [location],
  ``first_seen`` = ``last_seen`` = incident time, ``count`` = 1). STIX 2.1's ``incident`` is a
  stub without time or place; the sighting supplies both with standard properties.
* a **site** is an ``infrastructure`` SDO, a ``location`` SDO and a ``located-at``
  ``relationship``.
* a **plan** (its public parts only: :class:`~corridorguard.sharing.records.PlanRecord`) is a
  ``course-of-action`` SDO with the status, version, forces, approvals and an area summary as
  ``x_corridorguard_*`` properties; never unit schedules.
* every object carries exactly one TLP 2.0 marking (the official OASIS marking-definition ids of
  extension ``extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d``), ``created_by_ref``
  = the originating organisation's ``identity``, and the REL-TO list as
  ``x_corridorguard_rel_to`` (RED recipients as ``x_corridorguard_red_recipients``).
* ids are UUIDv5 of the originator and record id, so exporting twice gives the same objects and
  importing twice changes nothing (idempotent).

Every export takes the actor and goes through :func:`~corridorguard.sharing.policy.releasable`.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import rfc8785
import stix2

from corridorguard.errors import ImportRejected, RowError, ValidationError
from corridorguard.sharing.policy import TLP, Actor, releasable
from corridorguard.sharing.records import IncidentRecord, PlanRecord, SiteRecord, parse_time

__all__ = [
    "TLP2_EXTENSION_ID",
    "TLP_MARKING_IDS",
    "StixImport",
    "export_stix",
    "head_objects",
    "identity_id",
    "import_stix",
    "object_ids",
    "record_modified",
    "record_objects",
    "sid",
    "stix_time",
    "tlp_marking",
    "version_objects",
]

TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_MARKING_IDS: dict[TLP, str] = {
    TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
# TLP 1.0 markings predefined by STIX 2.1, accepted on import (WHITE is CLEAR).
_TLP1_IDS: dict[str, TLP] = {
    stix2.TLP_WHITE.id: TLP.CLEAR,
    stix2.TLP_GREEN.id: TLP.GREEN,
    stix2.TLP_AMBER.id: TLP.AMBER,
    stix2.TLP_RED.id: TLP.RED,
}
_TLP_BY_ID: dict[str, TLP] = {v: k for k, v in TLP_MARKING_IDS.items()} | _TLP1_IDS
_NS = uuid.UUID("6b1f3c4e-2a57-4f0e-9d43-8f0c2f5e7a11")  # corridorguard STIX namespace
_FIXED = datetime(2026, 1, 1, tzinfo=UTC)  # created/modified of identities and sites


def tlp_marking(tlp: TLP) -> stix2.MarkingDefinition:
    """The official TLP 2.0 marking-definition object (OASIS cti-stix-common-objects)."""
    return stix2.MarkingDefinition(
        id=TLP_MARKING_IDS[tlp],
        created="2022-10-01T00:00:00.000Z",
        name=f"TLP:{tlp.value}",
        extensions={
            TLP2_EXTENSION_ID: {
                "extension_type": "property-extension",
                "tlp_2_0": tlp.value.lower(),
            }
        },
    )


def identity_id(org: str) -> str:
    """Deterministic ``identity--`` id of an organisation."""
    return f"identity--{uuid.uuid5(_NS, 'org:' + org)}"


def _sid(kind: str, originator: str, record_id: str) -> str:
    if record_id.startswith(f"{kind}--"):
        return record_id  # already a STIX id (imported from a partner): keep it
    return f"{kind}--{uuid.uuid5(_NS, f'{kind}:{originator}:{record_id}')}"


def sid(kind: str, originator: str, record_id: str) -> str:
    """The STIX id of a record (``kind``: incident, infrastructure, course-of-action)."""
    return _sid(kind, originator, record_id)


def object_ids(primary: str) -> list[str]:
    """Ids of every object a record with main object ``primary`` exports (in export order)."""
    kind = primary.split("--", 1)[0]
    parts = {"incident": ("location", "sighting"), "infrastructure": ("location", "relationship")}
    return [primary, *(_derived(p, primary) for p in parts.get(kind, ()))]


def _derived(kind: str, parent: str) -> str:
    return f"{kind}--{uuid.uuid5(_NS, f'{parent}/{kind}')}"


def _common(rec: IncidentRecord | SiteRecord | PlanRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "created_by_ref": identity_id(rec.originator),
        "object_marking_refs": [TLP_MARKING_IDS[rec.tlp]],
        "x_corridorguard_rel_to": sorted(rec.rel_to),
    }
    if rec.tlp is TLP.RED:
        out["x_corridorguard_red_recipients"] = sorted(rec.red_recipients)
    return out


def _stamps(rec: IncidentRecord | SiteRecord | PlanRecord, created: datetime) -> dict[str, Any]:
    """``created``/``modified``: a record received over STIX keeps its ``modified`` (the
    originator's version); ``created`` never after ``modified`` (STIX 2.1 requires it)."""
    modified = rec.modified or created
    return {"created": min(created, modified), "modified": modified}


def _incident_objects(rec: IncidentRecord) -> list[Any]:
    iid = _sid("incident", rec.originator, rec.id)
    common = _common(rec)
    stamp = _stamps(rec, rec.time)
    refs = [{"source_name": rec.source, "external_id": rec.source_id}] if rec.source_id else []
    incident = stix2.Incident(
        id=iid,
        name=rec.type,
        description=rec.description,
        external_references=refs or None,
        x_corridorguard_source=rec.source,
        x_corridorguard_fatalities=rec.fatalities,
        allow_custom=True,
        **stamp,
        **common,
    )
    loc = stix2.Location(
        id=_derived("location", iid),
        latitude=rec.lat,
        longitude=rec.lon,
        allow_custom=True,
        **stamp,
        **common,
    )
    sighting = stix2.Sighting(
        id=_derived("sighting", iid),
        sighting_of_ref=iid,
        where_sighted_refs=[loc.id],
        first_seen=rec.time,
        last_seen=rec.time,
        count=1,
        allow_custom=True,
        **stamp,
        **common,
    )
    return [incident, loc, sighting]


def _site_objects(rec: SiteRecord) -> list[Any]:
    sid = _sid("infrastructure", rec.originator, rec.id)
    common = _common(rec)
    stamp = _stamps(rec, _FIXED)
    infra = stix2.Infrastructure(
        id=sid,
        name=rec.name,
        description=rec.description or None,
        x_corridorguard_kind=rec.kind,
        allow_custom=True,
        **stamp,
        **common,
    )
    loc = stix2.Location(
        id=_derived("location", sid),
        latitude=rec.lat,
        longitude=rec.lon,
        allow_custom=True,
        **stamp,
        **common,
    )
    rel = stix2.Relationship(
        id=_derived("relationship", sid),
        relationship_type="located-at",
        source_ref=sid,
        target_ref=loc.id,
        allow_custom=True,
        **stamp,
        **common,
    )
    return [infra, loc, rel]


def _plan_objects(rec: PlanRecord) -> list[Any]:
    pid = _sid("course-of-action", rec.originator, rec.id)
    stamp = _stamps(rec, rec.created)
    if rec.modified is None:
        stamp["modified"] = rec.decided or rec.created
    summary = {"patrols": rec.patrols, "checkpoints": rec.checkpoints, "sensors": rec.sensors}
    if rec.bbox is not None:
        summary["bbox"] = list(rec.bbox)  # type: ignore[assignment]
    coa = stix2.CourseOfAction(
        id=pid,
        name=rec.title,
        x_corridorguard_status=rec.status,
        x_corridorguard_version=rec.version,
        x_corridorguard_lineage=rec.lineage,
        x_corridorguard_forces=list(rec.forces),
        x_corridorguard_approvals=[
            {"org": org, "decision": decision, "time": when}
            for org, decision, when in rec.approvals
        ],
        x_corridorguard_summary=summary,
        x_corridorguard_shared=rec.shared or None,
        allow_custom=True,
        **stamp,
        **_common(rec),
    )
    return [coa]


_TIMESTAMP = stix2.properties.TimestampProperty(precision="millisecond", precision_constraint="min")


def stix_time(t: datetime) -> str:
    """``t`` as STIX writes ``created``/``modified`` (milliseconds at least)."""
    cleaned = _TIMESTAMP.clean(t, False)
    value = cleaned[0] if isinstance(cleaned, tuple) else cleaned
    return str(stix2.utils.format_datetime(value))


def record_modified(rec: IncidentRecord | SiteRecord | PlanRecord) -> datetime:
    """The STIX ``modified`` of a record's objects (its version)."""
    if isinstance(rec, IncidentRecord):
        return _stamps(rec, rec.time)["modified"]
    if isinstance(rec, SiteRecord):
        return _stamps(rec, _FIXED)["modified"]
    return rec.modified or rec.decided or rec.created


def record_objects(rec: IncidentRecord | SiteRecord | PlanRecord) -> list[Any]:
    """The STIX objects of one record (no marking definitions or identities)."""
    if isinstance(rec, IncidentRecord):
        return _incident_objects(rec)
    if isinstance(rec, SiteRecord):
        return _site_objects(rec)
    return _plan_objects(rec)


def version_objects(rec: IncidentRecord | SiteRecord | PlanRecord) -> list[dict[str, Any]]:
    """The STIX objects of ``rec`` as JSON (what TAXII serves of this version): kept per
    version in ``stix_versions.objects``."""
    return [json.loads(o.serialize()) for o in record_objects(rec)]


def head_objects(
    records: Iterable[IncidentRecord | SiteRecord | PlanRecord],
    *,
    more: Iterable[tuple[TLP, str]] = (),
) -> list[Any]:
    """The TLP marking definitions and originator identities ``records`` reference (and the
    ``(tlp, originator)`` pairs in ``more``: earlier versions served)."""
    pairs = [(r.tlp, r.originator) for r in records] + list(more)
    tlps = sorted({t for t, _ in pairs}, key=list(TLP).index)
    orgs = sorted({o for _, o in pairs})
    head: list[Any] = [tlp_marking(t) for t in tlps]
    head += [
        stix2.Identity(
            id=identity_id(o),
            name=o,
            identity_class="organization",
            created=_FIXED,
            modified=_FIXED,
        )
        for o in orgs
    ]
    return head


def export_stix(
    actor: Actor | None,
    *,
    incidents: Iterable[IncidentRecord] = (),
    sites: Iterable[SiteRecord] = (),
    plans: Iterable[PlanRecord] = (),
    to_org: str | None = None,
) -> stix2.Bundle:
    """A STIX 2.1 bundle of the records ``actor`` may export (to ``to_org`` if given).

    The bundle holds the marking definitions and originator identities it references.
    """
    inc = releasable(actor, incidents, to_org=to_org)
    sit = releasable(actor, sites, to_org=to_org)
    pla = releasable(actor, plans, to_org=to_org)
    every: list[IncidentRecord | SiteRecord | PlanRecord] = [*inc, *sit, *pla]
    objects: list[Any] = [o for r in every for o in record_objects(r)]
    head = head_objects(every)
    ids = ",".join(o.id for o in head + objects)
    return stix2.Bundle(
        objects=head + objects,
        id=f"bundle--{uuid.uuid5(_NS, ids)}",
        allow_custom=True,
    )


# ------------------------------------------------------------------ import


@dataclass
class StixImport:
    """Result of :func:`import_stix`: the records, keyed by id, and what changed."""

    incidents: dict[str, IncidentRecord] = field(default_factory=dict)
    sites: dict[str, SiteRecord] = field(default_factory=dict)
    plans: dict[str, PlanRecord] = field(default_factory=dict)
    #: canonical JSON (RFC 8785) of each record's objects, by record id: the version digest
    canonical: dict[str, bytes] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _as_objects(bundle: stix2.Bundle | Mapping[str, Any] | str) -> list[dict[str, Any]]:
    if isinstance(bundle, str):
        try:
            bundle = json.loads(bundle)
        except ValueError as exc:
            raise ImportRejected("<stix>", [RowError(0, "bundle", f"not JSON: {exc}")]) from None
    if isinstance(bundle, stix2.Bundle):
        bundle = json.loads(bundle.serialize())
    if not isinstance(bundle, Mapping) or bundle.get("type") != "bundle":
        raise ImportRejected("<stix>", [RowError(0, "type", "not a STIX bundle")])
    raw = bundle.get("objects", [])
    if not isinstance(raw, list):
        raise ImportRejected("<stix>", [RowError(0, "objects", "must be a list")])
    out: list[dict[str, Any]] = []
    errors: list[RowError] = []
    for k, obj in enumerate(raw):  # object by object, so every error names its object
        parsed = _parse_object(k, obj, errors)
        if parsed is not None:
            out.append(parsed)
    if errors:
        raise ImportRejected("<stix>", errors)
    return out


_PARSE_ERRORS = (stix2.exceptions.STIXError, ValueError, TypeError, KeyError, AttributeError)


def _parse_object(k: int, obj: Any, errors: list[RowError]) -> dict[str, Any] | None:
    """One object validated by ``stix2`` (STIX 2.1); problems appended to ``errors``."""
    if not isinstance(obj, Mapping) or not isinstance(obj.get("type"), str):
        errors.append(RowError(k, "type", "not a STIX object (no type)"))
        return None
    name = f"{obj.get('id', obj['type'])}"[:120]
    if obj.get("spec_version", "2.1") != "2.1" and obj["type"] != "marking-definition":
        errors.append(RowError(k, "spec_version", f"{name}: only STIX 2.1 is read"))
        return None
    try:
        parsed = stix2.parse(dict(obj), allow_custom=True, version="2.1")
    except _PARSE_ERRORS as exc:
        prop = getattr(exc, "prop_name", None) or "object"
        errors.append(RowError(k, str(prop), f"{name}: {str(exc)[:300]}"))
        return None
    out = json.loads(parsed.serialize()) if hasattr(parsed, "serialize") else dict(parsed)
    if not isinstance(out, dict) or not isinstance(out.get("id"), str):
        errors.append(RowError(k, "id", f"{name}: no id"))
        return None
    return out


class _Reader:
    """Collects every problem of a bundle before rejecting it (all-or-nothing)."""

    def __init__(self, objects: Sequence[dict[str, Any]], actor: Actor, trust: bool) -> None:
        self.by_id = {o["id"]: o for o in objects}
        self.objects = objects
        self.actor = actor
        self.trust = trust
        self.errors: list[RowError] = []

    def bad(self, k: int, fld: str, why: str) -> None:
        self.errors.append(RowError(k, fld, why))

    def marking(self, k: int, obj: dict[str, Any]) -> dict[str, Any] | None:
        tlps = {_TLP_BY_ID[m] for m in obj.get("object_marking_refs", []) if m in _TLP_BY_ID}
        if len(tlps) != 1:
            self.bad(k, "object_marking_refs", f"{obj['id']}: needs exactly one TLP marking")
            return None
        originator = self.actor.org
        if self.trust:
            ident = self.by_id.get(obj.get("created_by_ref", ""))
            if ident is None or not ident.get("name"):
                self.bad(k, "created_by_ref", f"{obj['id']}: originator identity missing")
                return None
            originator = ident["name"]
        lists = {}
        for key in ("x_corridorguard_rel_to", "x_corridorguard_red_recipients"):
            names = obj.get(key, [])
            if not isinstance(names, list) or not all(
                isinstance(n, str) and 0 < len(n) <= 200 for n in names
            ):
                self.bad(k, key, f"{obj['id']}: must be a list of names (1-200 characters)")
                return None
            lists[key] = frozenset(names)
        return {
            "tlp": tlps.pop(),
            "originator": originator,
            "rel_to": lists["x_corridorguard_rel_to"],
            "red_recipients": lists["x_corridorguard_red_recipients"],
        }

    def text(self, k: int, obj: dict[str, Any], key: str, limit: int, default: str = "") -> str:
        """A string property of at most ``limit`` characters (reported, not truncated)."""
        value = obj.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or len(value) > limit or "\x00" in value:
            self.bad(k, key, f"{obj['id']}: must be text of at most {limit} characters")
            return default
        return value

    def incident(
        self, k: int, obj: dict[str, Any], sighting: dict[str, Any] | None
    ) -> IncidentRecord | None:
        mk = self.marking(k, obj)
        if sighting is None:
            self.bad(k, "sighting", f"{obj['id']}: no sighting gives its time and place")
            return None
        loc = self.by_id.get((sighting.get("where_sighted_refs") or [""])[0])
        if loc is None or "latitude" not in loc:
            self.bad(k, "where_sighted_refs", f"{obj['id']}: no location with coordinates")
            return None
        ref = (obj.get("external_references") or [{}])[0]
        source = self.text(k, obj, "x_corridorguard_source", 64) or str(
            ref.get("source_name", "stix")
        )
        name = self.text(k, obj, "name", 128, "incident")
        description = self.text(k, obj, "description", 10_000)
        deaths = obj.get("x_corridorguard_fatalities")
        if deaths is not None and (type(deaths) is not int or not 0 <= deaths <= 1_000_000):
            self.bad(k, "x_corridorguard_fatalities", f"{obj['id']}: must be a count >= 0")
            return None
        if mk is None:
            return None
        external = ref.get("external_id")
        return IncidentRecord(
            id=obj["id"],
            source=source[:64],
            source_id=str(external)[:128] if external is not None else None,
            time=parse_time(sighting.get("first_seen") or obj["created"]),
            lon=float(loc["longitude"]),
            lat=float(loc["latitude"]),
            type=name,
            description=description,
            fatalities=deaths,
            modified=parse_time(obj["modified"]),
            **mk,
        )

    def site(self, k: int, obj: dict[str, Any], loc: dict[str, Any] | None) -> SiteRecord | None:
        mk = self.marking(k, obj)
        if loc is None or "latitude" not in loc:
            self.bad(k, "relationship", f"{obj['id']}: no located-at location")
            return None
        name = self.text(k, obj, "name", 200)
        kind = self.text(k, obj, "x_corridorguard_kind", 64, "site") or "site"
        description = self.text(k, obj, "description", 10_000)
        if mk is None:
            return None
        return SiteRecord(
            id=obj["id"],
            name=name,
            kind=kind,
            lon=float(loc["longitude"]),
            lat=float(loc["latitude"]),
            description=description,
            modified=parse_time(obj["modified"]),
            **mk,
        )

    def _count(self, k: int, obj: dict[str, Any], key: str, value: Any) -> int:
        if value is None:
            return 0
        if type(value) is not int or not 0 <= value <= 1_000_000:
            self.bad(k, key, f"{obj['id']}: must be a count from 0 to 1000000")
            return 0
        return value

    def _names(self, k: int, obj: dict[str, Any], key: str, limit: int) -> tuple[str, ...]:
        value = obj.get(key) or []
        if (
            not isinstance(value, list)
            or len(value) > limit
            or not all(isinstance(n, str) and 0 < len(n) <= 200 and "\x00" not in n for n in value)
        ):
            self.bad(k, key, f"{obj['id']}: must be a list of at most {limit} names")
            return ()
        return tuple(value)

    def _approvals(self, k: int, obj: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
        key = "x_corridorguard_approvals"
        value = obj.get(key) or []
        out = []
        ok = isinstance(value, list) and len(value) <= 100
        for a in value if ok else []:
            if not isinstance(a, Mapping) or a.get("decision") not in ("approve", "reject"):
                ok = False
                break
            org, when = a.get("org"), a.get("time")
            if not isinstance(org, str) or not 0 < len(org) <= 200 or not isinstance(when, str):
                ok = False
                break
            try:
                parse_time(when)
            except ValidationError:
                ok = False
                break
            out.append((org, str(a["decision"]), when))
        if not ok:
            self.bad(k, key, f"{obj['id']}: must be a list of {{org, decision, time}}")
            return ()
        return tuple(out)

    def _summary(self, k: int, obj: dict[str, Any]) -> dict[str, Any]:
        key = "x_corridorguard_summary"
        value = obj.get(key) or {}
        if not isinstance(value, Mapping):
            self.bad(k, key, f"{obj['id']}: must be an object")
            return {}
        out: dict[str, Any] = {
            n: self._count(k, obj, f"{key}.{n}", value.get(n))
            for n in ("patrols", "checkpoints", "sensors")
        }
        box = value.get("bbox")
        if box is not None:
            good = (
                isinstance(box, list)
                and len(box) == 4
                and all(type(v) in (int, float) and math.isfinite(v) for v in box)
                and -180 <= box[0] <= box[2] <= 180
                and -90 <= box[1] <= box[3] <= 90
            )
            if not good:
                self.bad(k, f"{key}.bbox", f"{obj['id']}: must be [west, south, east, north]")
            else:
                out["bbox"] = tuple(float(v) for v in box)
        return out

    def plan(self, k: int, obj: dict[str, Any]) -> PlanRecord | None:
        """A plan's public parts (``course-of-action``), read only: never an editable plan."""
        mk = self.marking(k, obj)
        title = self.text(k, obj, "name", 200, "plan") or "plan"
        status = obj.get("x_corridorguard_status", "proposed")
        if status not in _PLAN_STATUSES:
            self.bad(
                k, "x_corridorguard_status", f"{obj['id']}: one of {', '.join(_PLAN_STATUSES)}"
            )
        version = obj.get("x_corridorguard_version", 1)
        if type(version) is not int or not 1 <= version <= 1_000_000:
            self.bad(k, "x_corridorguard_version", f"{obj['id']}: must be a number >= 1")
            version = 1
        lineage = self.text(k, obj, "x_corridorguard_lineage", 100) or obj["id"][-36:]
        forces = self._names(k, obj, "x_corridorguard_forces", 10)
        approvals = self._approvals(k, obj)
        summary = self._summary(k, obj)
        if mk is None or status not in _PLAN_STATUSES:
            return None
        modified = parse_time(obj["modified"])
        return PlanRecord(
            id=obj["id"],
            title=title,
            status=str(status),
            version=int(version),
            lineage=lineage,
            forces=forces,
            created=parse_time(obj["created"]),
            decided=modified if status in ("approved", "rejected") else None,
            approvals=approvals,
            modified=modified,
            **summary,
            **mk,
        )


_PLAN_STATUSES = ("draft", "proposed", "approved", "rejected")
_PARTS = {"incident": ("sighting", "location"), "infrastructure": ("relationship", "location")}


def _canonical(
    obj: dict[str, Any],
    by_id: Mapping[str, dict[str, Any]],
    children: Mapping[str, list[dict[str, Any]]],
) -> bytes:
    """RFC 8785 JSON of a record's main object and the objects that carry its time and place."""
    parts = [obj]
    for o in children.get(obj["id"], []):
        parts.append(o)
        for ref in [*o.get("where_sighted_refs", []), o.get("target_ref")]:
            if ref in by_id:
                parts.append(by_id[ref])
    return bytes(rfc8785.dumps(parts))


def _newest(objects: list[dict[str, Any]]) -> list[int]:
    """Positions of one object per id, in bundle order: the newest ``modified`` (a bundle may
    hold several versions of an object, e.g. a saved TAXII ``match[version]=all`` page);
    objects without one (marking definitions) keep their first copy."""
    best: dict[str, tuple[datetime, int]] = {}
    for k, o in enumerate(objects):
        when = parse_time(o["modified"]) if isinstance(o.get("modified"), str) else _EPOCH
        if o["id"] not in best or when > best[o["id"]][0]:
            best[o["id"]] = (when, k)
    return sorted(k for _, k in best.values())


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def import_stix(
    bundle: stix2.Bundle | Mapping[str, Any] | str,
    actor: Actor,
    *,
    trust_originator: bool = False,
    existing: Mapping[str, IncidentRecord | SiteRecord | PlanRecord] | None = None,
) -> StixImport:
    """Read incidents, sites and plans' public parts from a STIX 2.1 bundle, keeping markings.

    Every record keeps the bundle's ``modified`` (its version). A plan (``course-of-action``)
    is read as a :class:`PlanRecord`: the public parts of someone else's plan, never an
    editable plan.

    Parameters
    ----------
    bundle
        The bundle (object, dict or JSON text).
    actor
        Who imports. Unless ``trust_originator``, the records' originator is the actor's
        organisation (provenance is never taken from an uploaded payload).
    trust_originator
        Partner sync from a configured TAXII source: keep the originator named by
        ``created_by_ref``.
    existing
        Records already held, by id; re-importing the same objects reports them ``unchanged``
        (idempotent upsert by STIX id).

    Raises
    ------
    ImportRejected
        Every problem of the bundle at once (nothing imported).
    """
    every = _as_objects(bundle)
    newest = _newest(every)  # positions of the objects read: errors name the bundle's index
    objects = [every[k] for k in newest]
    rd = _Reader(objects, actor, trust_originator)
    sightings = {o["sighting_of_ref"]: o for o in objects if o["type"] == "sighting"}
    located = {
        o["source_ref"]: rd.by_id.get(o["target_ref"])
        for o in objects
        if o["type"] == "relationship" and o.get("relationship_type") == "located-at"
    }
    out = StixImport()
    for k, obj in zip(newest, objects, strict=True):
        if obj["type"] == "incident":
            inc = rd.incident(k, obj, sightings.get(obj["id"]))
            if inc is not None:
                out.incidents[inc.id] = inc
        elif obj["type"] == "infrastructure":
            site = rd.site(k, obj, located.get(obj["id"]))
            if site is not None:
                out.sites[site.id] = site
        elif obj["type"] == "course-of-action":
            plan = rd.plan(k, obj)
            if plan is not None:
                out.plans[plan.id] = plan
    if rd.errors:
        raise ImportRejected("<stix>", rd.errors)
    children: dict[str, list[dict[str, Any]]] = {}
    for o in objects:
        parent = o.get("sighting_of_ref") or o.get("source_ref")
        if isinstance(parent, str):
            children.setdefault(parent, []).append(o)
    for obj in objects:
        if obj["id"] in out.incidents or obj["id"] in out.sites or obj["id"] in out.plans:
            out.canonical[obj["id"]] = _canonical(obj, rd.by_id, children)
    held = existing or {}
    for rid, rec in [*out.incidents.items(), *out.sites.items(), *out.plans.items()]:
        old = held.get(rid)
        (out.created if old is None else out.unchanged if old == rec else out.updated).append(rid)
    return out
