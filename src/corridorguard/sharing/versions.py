"""Which versions of a record a caller is served (TAXII ``match[version]``, ``/versions/``).

A record's versions are identified by their STIX ``modified``. The newest is the record as held
(served from the record itself); earlier ones are kept as the STIX objects this instance served
for them (``stix_versions.objects``). Releasability of versions (``docs/sharing.md``,
"Versions"):

1. **The current marking governs**: if the caller may not see the record now (or, in a
   ``to-<org>`` collection, pass it on to ``<org>``), no version of it exists for them. The
   caller of :func:`served_versions` has already checked the current record with the one
   policy (SQL filter, then :func:`~corridorguard.sharing.policy.releasable`).
2. **An earlier version must also be releasable under its own marking**: a record widened
   later (AMBER REL-TO B, then GREEN) does not hand its AMBER-era contents to C.
3. **An earlier version is served under the stricter of the two markings** (higher TLP; on the
   same TLP, the current marking with its REL-TO): a record narrowed later (GREEN, then AMBER)
   never travels again marked GREEN, so a receiver cannot pass the old contents on more widely
   than the record now allows.
4. Versions whose contents are not held (received before revision 0005) are listed by
   ``/versions/`` (their timestamp, under the current marking) but never served.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from corridorguard.sharing.policy import TLP, Actor, Marking, may_pass_on, visible_to
from corridorguard.sharing.records import IncidentRecord, PlanRecord, SiteRecord
from corridorguard.sharing.stix import TLP_MARKING_IDS, record_modified, version_objects

__all__ = [
    "HeldVersion",
    "ServedVersion",
    "listed_versions",
    "remark",
    "served_versions",
    "stricter",
    "version_marking",
]

Record = IncidentRecord | SiteRecord | PlanRecord
_TLP_BY_ID = {v: k for k, v in TLP_MARKING_IDS.items()}
_RANK = {t: n for n, t in enumerate(TLP)}  # CLEAR < GREEN < AMBER < AMBER+STRICT < RED


@dataclass(frozen=True)
class HeldVersion:
    """An earlier version: its ``modified``, when it was added here, its objects (or None)."""

    modified: datetime
    added: datetime | None
    objects: list[dict[str, Any]] | None


@dataclass(frozen=True)
class ServedVersion:
    """A version to serve: ``modified``, the marking it is served under, its STIX objects."""

    modified: datetime
    marking: Marking
    objects: list[dict[str, Any]]


def version_marking(objects: Sequence[dict[str, Any]], current: Marking) -> Marking | None:
    """The marking a version's objects carried (originator and creator: the record's, which
    never change); ``None`` when it cannot be read (such a version is never served)."""
    if not objects:
        return None
    main = objects[0]
    tlps = {_TLP_BY_ID[m] for m in main.get("object_marking_refs", []) if m in _TLP_BY_ID}
    if len(tlps) != 1:
        return None
    rel = main.get("x_corridorguard_rel_to") or []
    red = main.get("x_corridorguard_red_recipients") or []
    if not isinstance(rel, list) or not isinstance(red, list):
        return None
    return Marking(
        originator=current.originator,
        tlp=tlps.pop(),
        rel_to=frozenset(str(o) for o in rel),
        red_recipients=frozenset(str(u) for u in red),
        created_by=current.created_by,
    )


def stricter(current: Marking, old: Marking) -> Marking:
    """The marking an earlier version is served under: the higher TLP; on a tie, the current."""
    return old if _RANK[old.tlp] > _RANK[current.tlp] else current


def remark(objects: Sequence[dict[str, Any]], marking: Marking) -> list[dict[str, Any]]:
    """Copies of ``objects`` carrying ``marking`` (TLP marking reference, REL-TO, RED)."""
    out = []
    for o in objects:
        c = copy.deepcopy(dict(o))
        c["object_marking_refs"] = [TLP_MARKING_IDS[marking.tlp]]
        lists = {
            "x_corridorguard_rel_to": marking.rel_to,
            "x_corridorguard_red_recipients": (
                marking.red_recipients if marking.tlp is TLP.RED else frozenset()
            ),
        }
        for key, names in lists.items():  # as ``stix2`` writes them: empty lists left out
            if names:
                c[key] = sorted(names)
            else:
                c.pop(key, None)
        out.append(c)
    return out


def _allowed(actor: Actor | None, marking: Marking, to_org: str | None) -> bool:
    return visible_to(actor, marking) and (to_org is None or may_pass_on(actor, marking, to_org))


def listed_versions(
    actor: Actor | None, rec: Record, held: Sequence[HeldVersion], *, to_org: str | None = None
) -> list[datetime]:
    """``modified`` of every version ``actor`` may know of (``rec`` already releasable to
    them), oldest first: the current one, earlier ones releasable under their own marking,
    and earlier ones whose contents are not held."""
    current = record_modified(rec)
    got = {current}
    for h in held:
        if h.modified == current:
            continue
        if h.objects is None:
            got.add(h.modified)
            continue
        m = version_marking(h.objects, rec.marking)
        if m is not None and _allowed(actor, m, to_org):
            got.add(h.modified)
    return sorted(got)


def served_versions(
    actor: Actor | None,
    rec: Record,
    held: Sequence[HeldVersion],
    *,
    words: set[str],
    stamps: set[datetime],
    to_org: str | None = None,
    added_after: datetime | None = None,
) -> list[ServedVersion]:
    """The versions of ``rec`` (already releasable to ``actor``, and added after
    ``added_after``) that ``match[version]`` selects (``words``: last, first, all; ``stamps``:
    ``modified`` values), oldest first, each with the objects to serve (rules above)."""
    current = record_modified(rec)
    cur = ServedVersion(current, rec.marking, version_objects(rec))
    servable = [cur]
    for h in held:
        if h.modified == current or h.objects is None:
            continue
        m = version_marking(h.objects, rec.marking)
        if m is None or not _allowed(actor, m, to_org):
            continue
        served = stricter(rec.marking, m)
        servable.append(ServedVersion(h.modified, served, remark(h.objects, served)))
    servable.sort(key=lambda v: v.modified)
    added = {h.modified: h.added for h in held}
    chosen: list[ServedVersion] = []
    for v in servable:
        if v is not cur and added_after is not None:
            when = added.get(v.modified)
            if when is None or when <= added_after:
                continue
        pick = (
            "all" in words
            or ("last" in words and v is cur)
            or ("first" in words and v is servable[0])
            or v.modified in stamps
        )
        if pick:
            chosen.append(v)
    return chosen
