"""STIX 2.1 upload (``POST /api/v1/stix/bundles``): incidents, sites, plans' public parts.

* The bundle is validated by ``stix2`` and read by :func:`corridorguard.sharing.stix.import_stix`
  (every object needs exactly one TLP marking; incidents a sighting with a location; sites a
  ``located-at`` location). Its TLP 2.0 (or 1.0) markings, REL-TO and RED recipients are kept.
* Provenance is the caller's: the originator is the caller's organisation and the creator the
  caller, whatever ``created_by_ref`` says (a partner's records arrive through ``sync pull``).
* A plan (``course-of-action``) lands as a **shared plan summary** (table ``shared_plans``):
  a read-only record of someone else's plan (status and approvals as reported), never a row of
  ``plans``: it cannot be edited, proposed or approved here and bypasses no approval.
* Versions (:mod:`._stix_store`): a STIX id already held from the same organisation with an
  older ``modified`` takes the new version (``updated``; history in ``stix_versions``, audit
  ``stix.version``); the same or an older ``modified`` is ``unchanged`` (idempotent); an id
  held from another organisation is refused.
* Atomic: any bad object (or an unknown REL-TO organisation or RED recipient) rejects the
  whole bundle with a 422 naming each object and field (``rows``); nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from corridorguard.api.context import ServerContext, Tx
from corridorguard.api.deps import require_role
from corridorguard.api.routes._stix_store import StixWriter
from corridorguard.errors import ImportRejected, RowError
from corridorguard.sharing.policy import Role
from corridorguard.sharing.records import IncidentRecord, PlanRecord, SiteRecord
from corridorguard.sharing.stix import StixImport, import_stix
from corridorguard.store.identity import Identity, OrgRow, UserRow

__all__ = ["StixBundleIn", "StixImportResult", "parse_bundle", "run_import"]

INCIDENT_ROLES = frozenset({Role.REPORTER, Role.ANALYST, Role.PLANNER})
SITE_ROLES = frozenset({Role.ANALYST, Role.PLANNER, Role.ADMIN})
PLAN_ROLES = frozenset({Role.PLANNER, Role.COMMANDER})


class StixBundleIn(BaseModel):
    """A STIX 2.1 bundle (other properties are passed to ``stix2`` as they are)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["bundle"]
    id: str = Field(min_length=8, max_length=100)
    objects: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)


class StixImportResult(BaseModel):
    """Ids (in this store) by kind (``incidents``, ``sites``, ``plans``: shared plans) of the
    records created, of those that took a new version, of those already held (same or
    older ``modified``), and of records of this instance that came back (``ours``: left as
    they are)."""

    created: dict[str, list[int]]
    updated: dict[str, list[int]]
    unchanged: dict[str, list[int]]
    ours: dict[str, list[int]] = Field(default_factory=dict)
    ignored: int


def parse_bundle(payload: Mapping[str, Any], who: Identity) -> StixImport:
    """Validate and read the bundle (no database); :class:`ImportRejected` on any bad object."""
    return import_stix(dict(payload), who.actor, trust_originator=False)


def _position(payload: Mapping[str, Any]) -> dict[str, int]:
    objects = payload.get("objects", [])
    return {str(o.get("id")): k for k, o in enumerate(objects) if isinstance(o, dict)}


def _check_names(
    tx: Tx, records: list[IncidentRecord | SiteRecord | PlanRecord], where: dict[str, int]
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


def check_roles(ctx: ServerContext, request: Request, who: Identity, parsed: StixImport) -> None:
    """Importing incidents needs a reporting role; sites a site editor's; plans' public parts a
    planner's or commander's (403, audited)."""
    if parsed.incidents:
        require_role(ctx, request, who, INCIDENT_ROLES)
    if parsed.sites:
        require_role(ctx, request, who, SITE_ROLES)
    if parsed.plans:
        require_role(ctx, request, who, PLAN_ROLES)


def run_import(
    tx: Tx, who: Identity, payload: Mapping[str, Any], parsed: StixImport
) -> tuple[int, Any]:
    """Write the parsed records in ``tx`` (raises :class:`ImportRejected`: nothing written)."""
    where = _position(payload)
    records: list[IncidentRecord | SiteRecord | PlanRecord] = [*parsed.incidents.values()]
    records += [*parsed.sites.values(), *parsed.plans.values()]
    writer = StixWriter(tx, who, who.org, datetime.now(UTC), where)
    writer.errors.extend(_check_names(tx, records, where))
    writer.write(parsed)
    if writer.errors:
        raise ImportRejected("<stix>", writer.errors)
    ignored = len(payload.get("objects", [])) - len(records)
    tx.audit("stix.import", who, detail=writer.counts())
    return 200, {
        "created": writer.created,
        "updated": writer.updated,
        "unchanged": writer.unchanged,
        "ours": writer.ours,
        "ignored": ignored,
    }
