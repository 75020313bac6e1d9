"""Sharing records (incidents, sites, plans' public parts, planned routes) that a caller may see.

Every loader starts from the one policy compiled to SQL
(:func:`~corridorguard.api.queries.visible_incidents` /
:func:`~corridorguard.api.queries.visible_rows`); the sharing layer then applies
:func:`~corridorguard.sharing.policy.releasable` again (and ``may_pass_on`` for a ``to_org``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select

from corridorguard.api.context import ServerContext
from corridorguard.api.queries import (
    IncidentSearch,
    incident_record,
    marking_lists,
    red_recipients,
    visible_incidents,
    visible_rows,
)
from corridorguard.api.routes._stix_store import held_modified
from corridorguard.sharing.plans import plan_routes, plan_summary
from corridorguard.sharing.records import (
    IncidentRecord,
    PlanRecord,
    RouteRecord,
    SensorRecord,
    SiteRecord,
)
from corridorguard.store.identity import Identity
from corridorguard.store.models import IncidentRow
from corridorguard.store.plans import PLAN_MARKING, PlanApprovalRow, PlanRow
from corridorguard.store.resources import SENSORS, SITES, MarkedTables
from corridorguard.store.shared import SHARED_PLANS

__all__ = [
    "MAX_EXPORT",
    "incident_share_record",
    "load_incidents",
    "load_plans",
    "load_sensors",
    "load_shared_plans",
    "load_sites",
    "plan_records",
    "plan_version",
    "shared_plan_record",
    "site_record",
    "site_version",
    "with_modified",
]

MAX_EXPORT = 50_000
_I = IncidentRow.__table__
_P = PlanRow.__table__
_A = PlanApprovalRow.__table__
_R = TypeVar("_R", IncidentRecord, SiteRecord, PlanRecord)


def load_incidents(
    ctx: ServerContext,
    who: Identity,
    ids: Sequence[int] | None = None,
    search: IncidentSearch | None = None,
) -> list[IncidentRecord]:
    """Incidents the caller may see (optionally only ``ids``, or those ``search`` matches),
    oldest first."""
    stmt = visible_incidents(who.actor, search)
    if ids is not None:
        stmt = stmt.where(_I.c.id.in_(list(ids)))
    with ctx.store.read() as conn:
        rows = conn.execute(stmt.order_by(_I.c.time, _I.c.id).limit(MAX_EXPORT)).all()
        reds = red_recipients(conn, [r.id for r in rows if r.tlp == "RED"])
    return [incident_share_record(r, reds.get(r.id, ())) for r in rows]


def incident_share_record(row: Any, recipients: Sequence[str] = ()) -> IncidentRecord:
    """The sharing record of a selected incident row, with its STIX ``modified`` (the
    ``modified`` column: creation, last correction, or the originator's version; revision
    0005). Every STIX path (``/stix/export``, ``/export/stix``, TAXII) builds it here."""
    m = row._mapping
    return with_modified(incident_record(row, recipients), m["modified"] or m["imported_at"])


def with_modified(rec: _R, modified: datetime | None) -> _R:
    """``rec`` with the STIX ``modified`` of its newest held version (if it has one)."""
    return rec if modified is None else replace(rec, modified=modified)


def _marking(m: Any, rel: Sequence[str], red: Sequence[str]) -> dict[str, Any]:
    return {
        "originator": m["originator"],
        "tlp": m["tlp"],
        "rel_to": frozenset(rel),
        "red_recipients": frozenset(red),
        "created_by": m["created_by"],
    }


def _visible_marked(
    conn: Any,
    who: Identity,
    t: MarkedTables,
    ids: Sequence[int] | None,
    *,
    where: Any = None,
) -> tuple[list[Any], dict[int, list[str]], dict[int, list[str]]]:
    """Rows of a marked resource the caller may see (optionally only ``ids``, and ``where``),
    in id order, with their REL-TO and RED recipient lists."""
    stmt = visible_rows(who.actor, t.table, t.marking)
    if where is not None:
        stmt = stmt.where(where)
    if ids is not None:
        stmt = stmt.where(t.table.c.id.in_(list(ids)))
    rows = list(conn.execute(stmt.order_by(t.table.c.id).limit(MAX_EXPORT)).all())
    rel, red = marking_lists(conn, t.marking, [r.id for r in rows])
    return rows, rel, red


def load_sites(
    ctx: ServerContext, who: Identity, ids: Sequence[int] | None = None
) -> list[SiteRecord]:
    """Sites the caller may see (optionally only ``ids``); imported ones keep their STIX id."""
    with ctx.store.read() as conn:
        rows, rel, red = _visible_marked(conn, who, SITES, ids)
        versions = held_modified(conn, "site", [int(r.id) for r in rows if r.stix_id])
    return [
        site_record(r._mapping, rel.get(r.id, ()), red.get(r.id, ()), versions.get(int(r.id)))
        for r in rows
    ]


def site_version(conn: Any, rid: int) -> SiteRecord:
    """The sharing record of site ``rid`` read on ``conn`` (no visibility filter: for a write
    path that has already checked the caller may edit it)."""
    t = SITES
    row = conn.execute(select(t.table).where(t.table.c.id == rid)).one()
    rel, red = marking_lists(conn, t.marking, [rid])
    held = held_modified(conn, "site", [rid]) if row.stix_id else {}
    return site_record(row._mapping, rel.get(rid, ()), red.get(rid, ()), held.get(rid))


def site_record(
    m: Any, rel: Sequence[str], red: Sequence[str], modified: datetime | None
) -> SiteRecord:
    """The sharing record of a site row (an imported site keeps its STIX id and version)."""
    return SiteRecord(
        modified=modified or m["updated_at"] or m["created_at"],
        id=m["stix_id"] or str(m["id"]),
        name=m["name"],
        kind=m["type"],
        lon=m["lon"],
        lat=m["lat"],
        description=m["description"],
        **_marking(m, rel, red),
    )


def load_sensors(
    ctx: ServerContext, who: Identity, ids: Sequence[int] | None = None
) -> list[SensorRecord]:
    """Sensor placements the caller may see that have a point (segment-only ones have none)."""
    with ctx.store.read() as conn:
        rows, rel, red = _visible_marked(
            conn, who, SENSORS, ids, where=SENSORS.table.c.lon.is_not(None)
        )
    cols = ("name", "kind", "status", "lon", "lat", "range_m", "azimuth_deg", "fov_deg")
    return [
        SensorRecord(
            id=str(r.id),
            **{k: r._mapping[k] for k in cols},
            **_marking(r._mapping, rel.get(r.id, ()), red.get(r.id, ())),
        )
        for r in rows
    ]


def load_plans(
    ctx: ServerContext,
    who: Identity,
    ids: Sequence[int] | None = None,
    *,
    statuses: Sequence[str] | None = None,
) -> list[tuple[PlanRecord, list[RouteRecord]]]:
    """Plans the caller may see: their public parts and their planned patrol routes."""
    stmt = visible_rows(who.actor, _P, PLAN_MARKING)
    if ids is not None:
        stmt = stmt.where(_P.c.id.in_(list(ids)))
    if statuses is not None:
        stmt = stmt.where(_P.c.status.in_(list(statuses)))
    with ctx.store.read() as conn:
        rows = conn.execute(stmt.order_by(_P.c.id).limit(MAX_EXPORT)).all()
        return plan_records(conn, rows)


def plan_version(conn: Any, plan_id: int) -> PlanRecord:
    """The public part of plan version ``plan_id`` read on ``conn`` (no visibility filter: for
    a write path that has already checked the caller may change it)."""
    row = conn.execute(select(_P).where(_P.c.id == plan_id)).one()
    return plan_records(conn, [row])[0][0]


def plan_records(conn: Any, rows: Sequence[Any]) -> list[tuple[PlanRecord, list[RouteRecord]]]:
    """Public parts and planned patrol routes of plan ``rows`` (markings and approvals read on
    ``conn``)."""
    plan_ids = [r.id for r in rows]
    rel, red = marking_lists(conn, PLAN_MARKING, plan_ids)
    approvals: dict[int, list[tuple[str, str, str]]] = {}
    if plan_ids:
        q = select(_A.c.plan_id, _A.c.org, _A.c.decision, _A.c.decided_at)
        q = q.where(_A.c.plan_id.in_(plan_ids)).order_by(_A.c.decided_at, _A.c.org)
        for pid, org, decision, when in conn.execute(q):
            approvals.setdefault(int(pid), []).append((org, decision, when.isoformat()))
    out = []
    for r in rows:
        m = r._mapping
        marking = _marking(m, rel.get(r.id, ()), red.get(r.id, ()))
        content = m["content"] if isinstance(m["content"], dict) else {}
        summary = plan_summary(content)
        rec = PlanRecord(
            id=str(m["id"]),
            title=m["title"],
            status=m["status"],
            version=m["version"],
            lineage=m["lineage"],
            forces=tuple(m["forces"]),
            created=m["created_at"],
            decided=m["decided_at"],
            modified=m["modified"],
            approvals=tuple(approvals.get(r.id, ())),
            patrols=summary["patrols"],
            checkpoints=summary["checkpoints"],
            sensors=summary["sensors"],
            bbox=summary["bbox"],
            **marking,
        )
        routes = plan_routes(content, plan_id=str(m["id"]), title=m["title"], marking=marking)
        out.append((rec, routes))
    return out


def shared_plan_record(m: Any, rel: Sequence[str], red: Sequence[str]) -> PlanRecord:
    """The public parts of a partner's plan held in ``shared_plans`` (its STIX id kept)."""
    summary = m["summary"] if isinstance(m["summary"], dict) else {}
    bbox = summary.get("bbox")
    return PlanRecord(
        id=m["stix_id"],
        title=m["title"],
        status=m["status"],
        version=m["version"],
        lineage=m["lineage"],
        forces=tuple(m["forces"]),
        created=m["created"],
        decided=m["decided"],
        approvals=tuple(tuple(a) for a in m["approvals"]),
        patrols=int(summary.get("patrols") or 0),
        checkpoints=int(summary.get("checkpoints") or 0),
        sensors=int(summary.get("sensors") or 0),
        bbox=tuple(bbox) if bbox else None,
        shared=True,
        modified=m["modified"],
        **_marking(m, rel, red),
    )


def load_shared_plans(
    ctx: ServerContext, who: Identity, ids: Sequence[int] | None = None
) -> list[PlanRecord]:
    """Public parts of partners' plans (received over STIX/TAXII) the caller may see."""
    with ctx.store.read() as conn:
        rows, rel, red = _visible_marked(conn, who, SHARED_PLANS, ids)
    return [shared_plan_record(r._mapping, rel.get(r.id, ()), red.get(r.id, ())) for r in rows]
