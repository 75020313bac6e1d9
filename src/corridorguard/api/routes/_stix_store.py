"""Write records read from STIX (upload or partner sync) into the store, version by version.

One :class:`StixWriter` per transaction. For each incident, site or plan's public parts:

* unknown STIX id: a new record (and its first row in ``stix_versions``);
* the same STIX id held from the **same originator**: a newer ``modified`` is a new version
  (the record takes its content and markings, a ``stix_versions`` row and an audit entry
  ``stix.version`` are added, the record's date added becomes now); an equal or older one
  changes nothing (``unchanged``: idempotent);
* the same STIX id held from **another originator**: refused (an error naming the object);
* the STIX id of a record **of this instance** (derived from its originator and row id) that
  came back through a partner: left as it is (``ours``; never a second record), or refused
  when the bundle names another originator for it.

Any error is collected (object index and field) and the caller raises
:class:`~corridorguard.errors.ImportRejected`: the transaction is rolled back, nothing written.
Where records land: incidents in ``incidents`` (``source`` = ``stix`` for uploads, the STIX id in
``reference``; ``taxii`` for partner sync, the STIX id as ``source_id``), sites in ``sites``
(``stix_id``), plans' public parts in ``shared_plans`` (read only: never a plan of ours).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import rfc8785
from sqlalchemy import and_, delete, func, insert, or_, select, update

from corridorguard.api.context import Tx
from corridorguard.errors import RowError
from corridorguard.sharing.records import IncidentRecord, PlanRecord, SiteRecord
from corridorguard.sharing.stix import StixImport, record_modified, sid, version_objects
from corridorguard.store.identity import Identity
from corridorguard.store.marks import IncidentMetaRow, IncidentRedRow
from corridorguard.store.models import IncidentRow
from corridorguard.store.plans import PlanRow
from corridorguard.store.resources import SITES, MarkedTables
from corridorguard.store.shared import SHARED_PLANS, STIX_VERSIONS

__all__ = ["KINDS", "StixWriter", "held_modified", "incident_key", "keep_version"]

_NS = uuid.UUID("0f5c3a8e-6d1b-4e7a-9b2c-3e4f5a6b7c8d")
_I: Any = IncidentRow.__table__
_S = SITES.table
_SP = SHARED_PLANS.table
_P: Any = PlanRow.__table__
_V = STIX_VERSIONS
KINDS = ("incidents", "sites", "plans")
_VKIND = {"incidents": "incident", "sites": "site", "plans": "shared_plan"}


def incident_key(org: str, stix_id: str) -> str:
    """``source_id`` of an incident uploaded by ``org`` (one per organisation and STIX id)."""
    return uuid.uuid5(_NS, f"{org}\n{stix_id}").hex


def held_modified(conn: Any, kind: str, ids: list[int]) -> dict[int, datetime]:
    """Newest ``modified`` of the held versions of records (``kind``: incident, site,
    shared_plan)."""
    if not ids:
        return {}
    stmt = (
        select(_V.c.record_id, func.max(_V.c.modified))
        .where(_V.c.kind == kind, _V.c.record_id.in_(ids))
        .group_by(_V.c.record_id)
    )
    return {int(r): m for r, m in conn.execute(stmt)}


def keep_version(conn: Any, kind: str, rid: int, rec: Any, added: datetime) -> None:
    """Record ``rec``'s current version (its STIX objects) in ``stix_versions`` unless held:
    how a correction of a record of ours keeps the version it replaces (``kind``: incident,
    site, shared_plan)."""
    modified = record_modified(rec)
    have = select(_V.c.id).where(
        _V.c.kind == kind, _V.c.record_id == rid, _V.c.modified == modified
    )
    if conn.execute(have).first() is not None:
        return
    objects = version_objects(rec)
    digest = hashlib.sha256(bytes(rfc8785.dumps(objects))).hexdigest()
    conn.execute(
        insert(_V).values(
            kind=kind,
            record_id=rid,
            stix_id=objects[0]["id"],
            modified=modified,
            added_at=added,
            digest=digest,
            objects=objects,
        )
    )


def _version_default(kind: str, row: Any) -> datetime:
    m = row._mapping
    if kind == "incidents":
        return m["modified"] or m["imported_at"]
    if kind == "sites":
        return m["updated_at"] or m["created_at"]
    return m["modified"]


@dataclass
class StixWriter:
    """Writes one parsed bundle in ``tx``; ``org`` is the uploader's organisation (upload:
    every record's originator) or ``None`` (partner sync: the records' own originators)."""

    tx: Tx
    who: Identity | None
    org: str | None
    now: datetime
    where: Mapping[str, int]
    origin: str = ""
    errors: list[RowError] = field(default_factory=list)
    created: dict[str, list[int]] = field(default_factory=lambda: {k: [] for k in KINDS})
    updated: dict[str, list[int]] = field(default_factory=lambda: {k: [] for k in KINDS})
    unchanged: dict[str, list[int]] = field(default_factory=lambda: {k: [] for k in KINDS})
    #: records of this instance that came back (through a partner): left as they are
    ours: dict[str, list[int]] = field(default_factory=lambda: {k: [] for k in KINDS})
    _own_ids: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)

    @property
    def creator(self) -> str:
        return self.who.username if self.who is not None else "sync"

    def _bad(self, rid: str, fld: str, why: str) -> None:
        self.errors.append(RowError(self.where.get(rid, 0), fld, f"{rid}: {why}"))

    # ---------------------------------------------------------------- lookup

    def _held(self, kind: str, rec: Any) -> tuple[Any | None, list[str]]:
        """The row holding ``rec``'s STIX id for its originator, and other originators'."""
        sid = rec.id
        if kind == "incidents":
            stmt = select(_I).where(
                or_(
                    and_(_I.c.source == "stix", _I.c.reference == sid),
                    and_(_I.c.source == "taxii", _I.c.source_id == sid),
                )
            )
        else:
            t = _S if kind == "sites" else _SP
            stmt = select(t).where(t.c.stix_id == sid)
        rows = self.tx.session.execute(stmt).all()
        mine = [r for r in rows if r.originator == rec.originator]
        others = sorted({r.originator or "?" for r in rows} - {rec.originator})
        return (mine[0] if mine else None), others

    def _own(self, kind: str, rec: Any) -> tuple[int, str] | None:
        """The record of this instance whose STIX id is ``rec.id`` (row id, originator): a
        record of ours that came back through a partner. Ids of our records are derived from
        (kind, originator, row id) (:func:`~corridorguard.sharing.stix.sid`), so candidates
        are searched (incidents by their time, which a correction never changes; sites and
        plans of ours all: small tables) and their ids derived."""
        if kind == "incidents":
            return self._own_incident(rec)
        if kind not in self._own_ids:
            if kind == "sites":
                t = _S
                stmt = select(t.c.id, t.c.originator).where(t.c.stix_id.is_(None))
                stix_type = "infrastructure"
            else:
                stmt = select(_P.c.id, _P.c.originator)
                stix_type = "course-of-action"
            self._own_ids[kind] = {
                sid(stix_type, org, str(rid)): (int(rid), org)
                for rid, org in self.tx.session.execute(stmt)
            }
        return self._own_ids[kind].get(rec.id)

    def _own_incident(self, rec: IncidentRecord) -> tuple[int, str] | None:
        if not rec.id.startswith("incident--"):
            return None
        second = timedelta(seconds=1)
        stmt = select(_I.c.id, _I.c.originator, _I.c.source, _I.c.reference).where(
            _I.c.time.between(rec.time - second, rec.time + second), _I.c.source != "taxii"
        )
        for rid, org, source, reference in self.tx.session.execute(stmt):
            if source == "stix" and reference:
                continue  # held under its own STIX id (found by ``_held``)
            owner = org or f"{source} (public dataset)"
            if sid("incident", owner, str(rid)) == rec.id:
                return int(rid), owner
        return None

    # ---------------------------------------------------------------- one record

    def put(self, kind: str, rec: Any, canonical: bytes) -> None:
        """Create, version or leave ``rec`` (see the module docstring)."""
        held, others = self._held(kind, rec)
        if others:
            self._bad(rec.id, "created_by_ref", f"already held from {', '.join(others)}")
            return
        if held is None:
            own = self._own(kind, rec)
            if own is not None:  # ours, back through a partner: never a second record
                if own[1] != rec.originator:
                    self._bad(rec.id, "created_by_ref", f"already held from {own[1]}")
                else:
                    self.ours[kind].append(own[0])
                return
        digest = hashlib.sha256(canonical).hexdigest()
        if held is None:
            rid = self._create(kind, rec)
            self._version(kind, rid, rec, digest)
            self.created[kind].append(rid)
            return
        rid = int(held.id)
        current = _version_default(kind, held)
        if kind != "incidents":  # incidents hold their version in ``modified`` (0005)
            got = held_modified(self.tx.session.connection(), _VKIND[kind], [rid]).get(rid)
            current = got or current
        if rec.modified is None or rec.modified <= current:
            self.unchanged[kind].append(rid)
            return
        self._update(kind, rid, rec)
        self._version(kind, rid, rec, digest)
        self.updated[kind].append(rid)
        self.tx.audit(
            "stix.version",
            self.who,
            target=f"{kind}/{rid}",
            detail={
                "stix_id": rec.id,
                "modified": rec.modified.isoformat(),
                "previous": current.isoformat(),
                "sha256": digest,
                "originator": rec.originator,
            },
            actor=None if self.who is not None else ("sync", rec.originator),
        )

    def _version(self, kind: str, rid: int, rec: Any, digest: str) -> None:
        """A ``stix_versions`` row: ``digest`` of what was received, and the objects this
        instance serves for the version (built from the stored row, as every export is)."""
        self.tx.session.execute(
            insert(_V).values(
                kind=_VKIND[kind],
                record_id=rid,
                stix_id=rec.id,
                modified=rec.modified,
                added_at=self.now,
                digest=digest,
                objects=version_objects(self._served(kind, rid, rec)),
            )
        )

    def _served(self, kind: str, rid: int, rec: Any) -> Any:
        """The sharing record of the row just written (what TAXII and exports serve of it)."""
        from corridorguard.api.queries import marking_lists, red_recipients
        from corridorguard.api.routes._loaders import (
            incident_share_record,
            shared_plan_record,
            site_record,
        )

        conn = self.tx.session.connection()
        if kind == "incidents":
            meta = IncidentMetaRow.__table__
            stmt = (
                select(_I, meta.c.created_by, meta.c.created_at)
                .select_from(_I.outerjoin(meta, meta.c.incident_id == _I.c.id))
                .where(_I.c.id == rid)
            )
            row = conn.execute(stmt).one()
            return incident_share_record(row, red_recipients(conn, [rid]).get(rid, ()))
        table = SITES if kind == "sites" else SHARED_PLANS
        m = conn.execute(select(table.table).where(table.table.c.id == rid)).one()._mapping
        rel, red = marking_lists(conn, table.marking, [rid])
        if kind == "sites":
            return site_record(m, rel.get(rid, ()), red.get(rid, ()), rec.modified)
        return shared_plan_record(m, rel.get(rid, ()), red.get(rid, ()))

    def _create(self, kind: str, rec: Any) -> int:
        if kind == "incidents":
            return self._create_incident(rec)
        table = SITES if kind == "sites" else SHARED_PLANS
        values = self._site_values(rec) if kind == "sites" else self._plan_values(rec)
        values |= {"created_by": self.creator, "created_at": self.now, "updated_at": None}
        values |= {"originator": rec.originator, "stix_id": rec.id}
        if kind == "sites":
            values |= {"criticality": 0.0, "workers": 0, "approximate": True, "notional": False}
        result = self.tx.session.connection().execute(insert(table.table).values(**values))
        pk = result.inserted_primary_key
        assert pk is not None
        rid = int(pk[0])
        self._lists(table, rid, rec)
        return rid

    def _update(self, kind: str, rid: int, rec: Any) -> None:
        if kind == "incidents":
            values = self._incident_values(rec) | {"modified": rec.modified, "added_at": self.now}
            self.tx.session.execute(update(_I).where(_I.c.id == rid).values(**values))
            self.tx.session.execute(delete(IncidentRedRow).where(IncidentRedRow.incident_id == rid))
            self._incident_reds(rid, rec)
            return
        table = SITES if kind == "sites" else SHARED_PLANS
        values = self._site_values(rec) if kind == "sites" else self._plan_values(rec)
        t = table.table
        self.tx.session.execute(
            update(t).where(t.c.id == rid).values(**values, updated_at=self.now)
        )
        for side in (table.rel, table.red):
            self.tx.session.execute(delete(side).where(side.c.record_id == rid))
        self._lists(table, rid, rec)

    def _lists(self, table: MarkedTables, rid: int, rec: Any) -> None:
        for org in sorted(rec.rel_to):
            self.tx.session.execute(insert(table.rel).values(record_id=rid, org=org))
        for user in sorted(rec.red_recipients):
            self.tx.session.execute(insert(table.red).values(record_id=rid, user_id=user))

    # ---------------------------------------------------------------- values

    @staticmethod
    def _site_values(rec: SiteRecord) -> dict[str, Any]:
        return {
            "tlp": rec.tlp.value,
            "name": rec.name or rec.id,
            "type": rec.kind,
            "lon": rec.lon,
            "lat": rec.lat,
            "description": rec.description,
        }

    @staticmethod
    def _plan_values(rec: PlanRecord) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "patrols": rec.patrols,
            "checkpoints": rec.checkpoints,
            "sensors": rec.sensors,
            "bbox": list(rec.bbox) if rec.bbox is not None else None,
        }
        return {
            "tlp": rec.tlp.value,
            "title": rec.title,
            "status": rec.status,
            "version": rec.version,
            "lineage": rec.lineage,
            "forces": tuple(rec.forces),
            "created": rec.created,
            "decided": rec.decided,
            "approvals": [list(a) for a in rec.approvals],
            "summary": summary,
            "modified": rec.modified,
        }

    @staticmethod
    def _incident_values(rec: IncidentRecord) -> dict[str, Any]:
        return {
            "time": rec.time,
            "lon": rec.lon,
            "lat": rec.lat,
            "type": rec.type,
            "description": rec.description,
            "fatalities_best": rec.fatalities,
            "tlp": rec.tlp.value,
            "rel_to": tuple(sorted(rec.rel_to)),
        }

    def _create_incident(self, rec: IncidentRecord) -> int:
        if self.org is not None:  # upload: the STIX id is kept in ``reference``
            source, source_id, reference = "stix", incident_key(self.org, rec.id), rec.id
        else:  # partner sync: the STIX id is the source id
            source, source_id = "taxii", rec.id
            reference = f"TAXII {self.origin} ({rec.source}/{rec.source_id})"
        row = IncidentRow(
            source=source,
            source_id=source_id,
            reference=reference,
            originator=rec.originator,
            imported_at=self.now,
            modified=rec.modified,
            added_at=self.now,
            **self._incident_values(rec),
        )
        self.tx.session.add(row)
        self.tx.session.flush()
        meta = IncidentMetaRow(incident_id=row.id, created_by=self.creator, created_at=self.now)
        self.tx.session.add(meta)
        self._incident_reds(int(row.id), rec)
        self.tx.session.flush()
        return int(row.id)

    def _incident_reds(self, rid: int, rec: IncidentRecord) -> None:
        for user in sorted(rec.red_recipients):
            self.tx.session.add(IncidentRedRow(incident_id=rid, user_id=user))
        self.tx.session.flush()

    # ---------------------------------------------------------------- a bundle

    def write(self, parsed: StixImport) -> None:
        """Every record of ``parsed`` (errors collected in :attr:`errors`)."""
        for kind, records in (
            ("incidents", parsed.incidents),
            ("sites", parsed.sites),
            ("plans", parsed.plans),
        ):
            for rec in records.values():
                self.put(kind, rec, parsed.canonical.get(rec.id, b""))

    def counts(self) -> dict[str, dict[str, int]]:
        """Numbers of created, updated (new versions), unchanged records and records of ours
        that came back, by kind."""
        return {
            name: {k: len(v) for k, v in got.items()}
            for name, got in (
                ("created", self.created),
                ("updated", self.updated),
                ("unchanged", self.unchanged),
                ("ours", self.ours),
            )
        }
