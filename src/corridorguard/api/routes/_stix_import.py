"""STIX 2.1 upload (``POST /api/v1/stix/bundles``): incidents and sites, all or nothing.

* The bundle is validated by ``stix2`` and read by :func:`corridorguard.sharing.stix.import_stix`
  (every object needs exactly one TLP marking; incidents a sighting with a location; sites a
  ``located-at`` location). Its TLP 2.0 (or 1.0) markings, REL-TO and RED recipients are kept.
* Provenance is the caller's: the originator is the caller's organisation and the creator the
  caller, whatever ``created_by_ref`` says (a partner's records arrive through ``sync pull``).
* Idempotent by STIX id per organisation: an incident is stored with ``source = "stix"``,
  ``reference`` = its STIX id (kept on re-export); a site with ``stix_id``. Uploading the same
  objects again reports them ``unchanged``; an object whose id is already held with different
  content is refused (nothing written): correct the record with ``PATCH`` instead.
* Atomic: any bad object (or an unknown REL-TO organisation or RED recipient) rejects the
  whole bundle with a 422 naming each object and field (``rows``); nothing is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select

from corridorguard.api.context import ServerContext, Tx
from corridorguard.api.deps import require_role
from corridorguard.api.routes._marked import new_id
from corridorguard.errors import ImportRejected, RowError
from corridorguard.sharing.policy import Role
from corridorguard.sharing.records import IncidentRecord, SiteRecord
from corridorguard.sharing.stix import StixImport, import_stix
from corridorguard.store.identity import Identity, OrgRow, UserRow
from corridorguard.store.marks import IncidentMetaRow, IncidentRedRow
from corridorguard.store.models import IncidentRow
from corridorguard.store.resources import SITES

__all__ = ["StixBundleIn", "StixImportResult", "parse_bundle", "run_import"]

_NS = uuid.UUID("0f5c3a8e-6d1b-4e7a-9b2c-3e4f5a6b7c8d")
_I = IncidentRow.__table__
_S = SITES.table
INCIDENT_ROLES = frozenset({Role.REPORTER, Role.ANALYST, Role.PLANNER})
SITE_ROLES = frozenset({Role.ANALYST, Role.PLANNER, Role.ADMIN})


class StixBundleIn(BaseModel):
    """A STIX 2.1 bundle (other properties are passed to ``stix2`` as they are)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["bundle"]
    id: str = Field(min_length=8, max_length=100)
    objects: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)


class StixImportResult(BaseModel):
    """Ids (in this store) of the records created and of those already held."""

    created: dict[str, list[int]]
    unchanged: dict[str, list[int]]
    ignored: int


def parse_bundle(payload: Mapping[str, Any], who: Identity) -> StixImport:
    """Validate and read the bundle (no database); :class:`ImportRejected` on any bad object."""
    return import_stix(dict(payload), who.actor, trust_originator=False)


def _position(payload: Mapping[str, Any]) -> dict[str, int]:
    objects = payload.get("objects", [])
    return {str(o.get("id")): k for k, o in enumerate(objects) if isinstance(o, dict)}


def _check_names(
    tx: Tx, records: list[IncidentRecord | SiteRecord], where: dict[str, int]
) -> list[RowError]:
    orgs = {o for r in records for o in r.rel_to}
    users = {u for r in records for u in r.red_recipients}
    known_orgs = set(tx.session.scalars(select(OrgRow.name).where(OrgRow.name.in_(orgs))))
    stmt = select(UserRow.username).where(UserRow.username.in_(users))
    known_users = set(tx.session.scalars(stmt))
    errors = []
    for r in records:
        k = where.get(r.id, 0)
        if r.rel_to - known_orgs:
            why = f"{r.id}: unknown organisation(s) {', '.join(sorted(r.rel_to - known_orgs))}"
            errors.append(RowError(k, "x_corridorguard_rel_to", why))
        if r.red_recipients and r.tlp.value != "RED":
            errors.append(RowError(k, "x_corridorguard_red_recipients", f"{r.id}: RED only"))
        elif r.red_recipients - known_users:
            why = f"{r.id}: unknown user(s) {', '.join(sorted(r.red_recipients - known_users))}"
            errors.append(RowError(k, "x_corridorguard_red_recipients", why))
    return errors


def _incident_key(org: str, stix_id: str) -> str:
    return uuid.uuid5(_NS, f"{org}\n{stix_id}").hex


def _same_incident(row: Any, rec: IncidentRecord) -> bool:
    return (
        row.time == rec.time
        and (row.lon, row.lat) == (rec.lon, rec.lat)
        and row.type == rec.type
        and (row.description or "") == rec.description
        and row.fatalities_best == rec.fatalities
        and row.tlp == rec.tlp.value
        and set(row.rel_to) == set(rec.rel_to)
    )


def _same_site(row: Any, rec: SiteRecord) -> bool:
    return (row.name, row.type, row.lon, row.lat, row.description, row.tlp) == (
        rec.name,
        rec.kind,
        rec.lon,
        rec.lat,
        rec.description,
        rec.tlp.value,
    )


def _store_incident(tx: Tx, who: Identity, rec: IncidentRecord, now: datetime) -> int:
    row = IncidentRow(
        source="stix",
        source_id=_incident_key(who.org, rec.id),
        time=rec.time,
        lon=rec.lon,
        lat=rec.lat,
        type=rec.type,
        description=rec.description,
        fatalities_best=rec.fatalities,
        reference=rec.id,
        originator=who.org,
        tlp=rec.tlp.value,
        rel_to=tuple(sorted(rec.rel_to)),
        imported_at=now,
    )
    tx.session.add(row)
    tx.session.flush()
    tx.session.add(IncidentMetaRow(incident_id=row.id, created_by=who.username, created_at=now))
    for user in sorted(rec.red_recipients):
        tx.session.add(IncidentRedRow(incident_id=row.id, user_id=user))
    tx.session.flush()
    return int(row.id)


def _store_site(tx: Tx, who: Identity, rec: SiteRecord, now: datetime) -> int:
    values = {
        "originator": who.org, "tlp": rec.tlp.value, "created_by": who.username,
        "created_at": now, "updated_at": None, "name": rec.name or rec.id, "type": rec.kind,
        "lon": rec.lon, "lat": rec.lat, "criticality": 0.0, "workers": 0,
        "description": rec.description, "stix_id": rec.id, "approximate": True,
        "notional": False,
    }  # fmt: skip
    conn = tx.session.connection()
    rid = new_id(conn.execute(insert(_S).values(**values)))
    for org in sorted(rec.rel_to):
        tx.session.execute(insert(SITES.rel).values(record_id=rid, org=org))
    for user in sorted(rec.red_recipients):
        tx.session.execute(insert(SITES.red).values(record_id=rid, user_id=user))
    return rid


def check_roles(ctx: ServerContext, request: Request, who: Identity, parsed: StixImport) -> None:
    """Importing incidents needs a reporting role; sites a site editor's (403, audited)."""
    if parsed.incidents:
        require_role(ctx, request, who, INCIDENT_ROLES)
    if parsed.sites:
        require_role(ctx, request, who, SITE_ROLES)


def run_import(
    tx: Tx, who: Identity, payload: Mapping[str, Any], parsed: StixImport
) -> tuple[int, Any]:
    """Write the parsed records in ``tx`` (raises :class:`ImportRejected`: nothing written)."""
    where = _position(payload)
    records: list[IncidentRecord | SiteRecord] = [*parsed.incidents.values()]
    records += parsed.sites.values()
    errors = _check_names(tx, records, where)
    now = datetime.now(UTC)
    created: dict[str, list[int]] = {"incidents": [], "sites": []}
    unchanged: dict[str, list[int]] = {"incidents": [], "sites": []}
    for rec in parsed.incidents.values():
        key = _incident_key(who.org, rec.id)
        old = tx.session.execute(
            select(_I).where(_I.c.source == "stix", _I.c.source_id == key)
        ).first()
        if old is None:
            created["incidents"].append(_store_incident(tx, who, rec, now))
        elif _same_incident(old, rec):
            unchanged["incidents"].append(int(old.id))
        else:
            why = f"{rec.id}: already imported as incident {old.id} with other content"
            errors.append(RowError(where.get(rec.id, 0), "id", why))
    for site in parsed.sites.values():
        stmt = select(_S).where(_S.c.originator == who.org, _S.c.stix_id == site.id)
        held = tx.session.execute(stmt).first()
        if held is None:
            created["sites"].append(_store_site(tx, who, site, now))
        elif _same_site(held, site):
            unchanged["sites"].append(int(held.id))
        else:
            why = f"{site.id}: already imported as site {held.id} with other content"
            errors.append(RowError(where.get(site.id, 0), "id", why))
    if errors:
        raise ImportRejected("<stix>", errors)
    ignored = len(payload.get("objects", [])) - len(records)
    tx.audit(
        "stix.import",
        who,
        detail={
            "created": {k: len(v) for k, v in created.items()},
            "unchanged": {k: len(v) for k, v in unchanged.items()},
        },
    )
    return 200, {"created": created, "unchanged": unchanged, "ignored": ignored}
