"""``/api/v1/incidents``: report, read, search and correct incidents under the one policy.

Reporters, analysts and planners may report. Reading goes through
:func:`~corridorguard.api.queries.visible_incidents` only; a record the caller may not see is a
404 with the same body as a missing one (and both are audited as denied reads). Editing needs
:func:`~corridorguard.sharing.policy.editable_clause` (visible is not editable).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select, update
from starlette.concurrency import run_in_threadpool

from corridorguard.api.context import ServerContext, Tx
from corridorguard.api.deps import (
    OPERATIONAL,
    Caller,
    Ctx,
    RecordId,
    authorize,
    clean_query,
    require_role,
    require_scope,
)
from corridorguard.api.errors import ERROR_RESPONSES
from corridorguard.api.idempotency import idempotent_post
from corridorguard.api.queries import (
    IncidentSearch,
    incident_public,
    red_recipients,
    visible_incidents,
)
from corridorguard.api.routes._loaders import incident_share_record
from corridorguard.api.routes._stix_store import keep_version
from corridorguard.api.schemas.incidents import (
    IncidentCreate,
    IncidentList,
    IncidentPublic,
    IncidentUpdate,
)
from corridorguard.errors import CorridorError, NotFoundError, PermissionDenied, ValidationError
from corridorguard.sharing.policy import Role, editable_clause
from corridorguard.store.identity import Identity, OrgRow, UserRow
from corridorguard.store.marks import INCIDENT_MARKING, IncidentMetaRow, IncidentRedRow
from corridorguard.store.models import IncidentRow

router = APIRouter(
    prefix="/incidents",
    tags=["incidents"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(clean_query)],
)

REPORTERS = frozenset({Role.REPORTER, Role.ANALYST, Role.PLANNER})
_I = IncidentRow.__table__
_META = IncidentMetaRow.__table__


def _not_found(ctx: ServerContext, who: Identity, incident_id: int, action: str) -> NotFoundError:
    """The one answer for 'missing' and 'not yours to see' (audited as a denied request)."""
    ctx.audit.record(action, who, target=f"incident/{incident_id}", outcome="denied")
    return NotFoundError(f"no incident {incident_id}")


def _check_names(tx: Tx, body: IncidentCreate) -> None:
    if body.rel_to:
        known = set(tx.session.scalars(select(OrgRow.name).where(OrgRow.name.in_(body.rel_to))))
        unknown = [o for o in body.rel_to if o not in known]
        if unknown:
            raise ValidationError(f"unknown organisation(s): {', '.join(unknown)}", field="rel_to")
    if body.red_recipients:
        if body.tlp != "RED":
            raise ValidationError("red_recipients are for TLP:RED only", field="red_recipients")
        stmt = select(UserRow.username).where(UserRow.username.in_(body.red_recipients))
        known = set(tx.session.scalars(stmt))
        unknown = [u for u in body.red_recipients if u not in known]
        if unknown:
            raise ValidationError(f"unknown user(s): {', '.join(unknown)}", field="red_recipients")


def _insert(tx: Tx, who: Identity, body: IncidentCreate) -> dict[str, Any]:
    _check_names(tx, body)
    now = datetime.now(UTC)
    row = IncidentRow(
        source="api",
        source_id=uuid.uuid4().hex,
        time=body.time,
        lon=body.lon,
        lat=body.lat,
        type=body.type,
        description=body.description,
        fatalities_best=body.fatalities,
        place=body.place,
        originator=who.org,  # provenance from the caller, never from the payload
        tlp=body.tlp,
        rel_to=tuple(body.rel_to),
        imported_at=now,
        modified=now,  # the STIX version (revision 0005); a correction makes a newer one
        added_at=now,
    )
    tx.session.add(row)
    tx.session.flush()
    tx.session.add(IncidentMetaRow(incident_id=row.id, created_by=who.username, created_at=now))
    for user in body.red_recipients:
        tx.session.add(IncidentRedRow(incident_id=row.id, user_id=user))
    tx.session.flush()
    tx.audit(
        "incident.create",
        who,
        target=f"incident/{row.id}",
        detail={"tlp": body.tlp, "rel_to": sorted(body.rel_to)},
    )
    found = (
        tx.session.connection().execute(visible_incidents(who.actor).where(_I.c.id == row.id)).one()
    )
    return incident_public(found, body.red_recipients)


@router.post(
    "",
    status_code=201,
    response_model=IncidentPublic,
    summary="Report an incident",
    openapi_extra={
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                "description": "Retries with the same key get the first answer replayed.",
            }
        ]
    },
)
def create_incident(body: IncidentCreate, request: Request, ctx: Ctx, who: Caller) -> JSONResponse:
    """Report an incident; originator, creator and timestamps come from the caller."""
    require_scope(ctx, request, who, "write")
    require_role(ctx, request, who, REPORTERS)
    return idempotent_post(
        ctx, request, who, body.model_dump(mode="json"), lambda tx: (201, _insert(tx, who, body))
    )


def _search(
    since: datetime | None,
    until: datetime | None,
    type_: list[str] | None,
    tlp: list[str] | None,
    originator: str | None,
    bbox: str | None,
    q: str | None,
) -> IncidentSearch:
    box = None
    if bbox is not None:
        try:
            parts = tuple(float(v) for v in bbox.split(","))
        except ValueError:
            parts = ()
        if len(parts) != 4:
            raise ValidationError("bbox must be min_lon,min_lat,max_lon,max_lat", field="bbox")
        box = (parts[0], parts[1], parts[2], parts[3])
    for t in (since, until):
        if t is not None and t.tzinfo is None:
            raise ValidationError("times need a UTC offset (e.g. Z)", field="since")
    return IncidentSearch(
        since=since,
        until=until,
        types=tuple(type_ or ()),
        tlp=tuple(tlp or ()),
        originator=originator,
        bbox=box,
        q=q,
    )


@router.get("", response_model=IncidentList, summary="List and search incidents")
async def list_incidents(
    request: Request,
    ctx: Ctx,
    who: Caller,
    since: datetime | None = None,
    until: datetime | None = None,
    type: Annotated[list[str] | None, Query(max_length=20)] = None,
    tlp: Annotated[list[str] | None, Query(max_length=5)] = None,
    originator: Annotated[str | None, Query(max_length=200)] = None,
    bbox: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Incidents the caller may see, oldest first, with optional filters."""
    await authorize(ctx, request, who, "read", OPERATIONAL)
    search = _search(since, until, type, tlp, originator, bbox, q)
    body = await ctx.reads.run(ctx.reads.page, who.actor, search, limit, offset)
    return Response(body, media_type="application/json")


def _get_visible(ctx: ServerContext, who: Identity, incident_id: int) -> dict[str, Any] | None:
    with ctx.store.read() as conn:
        row = conn.execute(visible_incidents(who.actor).where(_I.c.id == incident_id)).first()
        if row is None:
            return None
        return incident_public(row, red_recipients(conn, [row.id]).get(row.id, ()))


@router.get("/{incident_id}", response_model=IncidentPublic, summary="One incident")
async def get_incident(incident_id: RecordId, request: Request, ctx: Ctx, who: Caller) -> Response:
    """One incident, if the caller may see it (else 404, like a missing one)."""
    await authorize(ctx, request, who, "read", OPERATIONAL)
    found = await ctx.reads.run(ctx.reads.one, who.actor, incident_id)
    if found is None:
        raise await run_in_threadpool(_not_found, ctx, who, incident_id, "incident.read")
    return Response(found, media_type="application/json")


def _current(conn: Any, who: Identity, incident_id: int) -> tuple[Any, Any]:
    row = conn.execute(visible_incidents(who.actor).where(_I.c.id == incident_id)).one()
    reds = red_recipients(conn, [row.id]).get(row.id, ())
    return row, incident_share_record(row, reds)


def _correct(conn: Any, who: Identity, incident_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """Apply a correction as a new STIX version: ``modified`` and the TAXII date added become
    now (strictly after the version replaced), and both versions' objects are kept in
    ``stix_versions`` (so partners polling with ``added_after`` get it as a new version)."""
    row, before = _current(conn, who, incident_id)
    keep_version(conn, "incident", incident_id, before, row.added_at or row.imported_at)
    previous = before.modified or row.imported_at
    now = max(datetime.now(UTC), previous + timedelta(milliseconds=1))
    stamps = {"modified": now, "added_at": now}
    conn.execute(update(IncidentRow).where(_I.c.id == incident_id).values(**values, **stamps))
    _row, after = _current(conn, who, incident_id)
    keep_version(conn, "incident", incident_id, after, now)
    return {"modified": now.isoformat(), "previous": previous.isoformat()}


@router.patch("/{incident_id}", response_model=IncidentPublic, summary="Correct an incident")
def update_incident(
    incident_id: RecordId, body: IncidentUpdate, request: Request, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """Change descriptive fields; only the originating organisation's editors (or the reporter).

    A record the caller can see but not edit is a 403; one it cannot see is a 404.
    """
    require_scope(ctx, request, who, "write")
    require_role(ctx, request, who, OPERATIONAL)
    changes = body.model_dump(exclude_unset=True)
    values = {("fatalities_best" if k == "fatalities" else k): v for k, v in changes.items()}
    if any(values.get(k, "") is None for k in ("type", "description")):
        raise ValidationError("type and description cannot be null")
    with ctx.audit.transaction() as tx:
        conn = tx.session.connection()
        target = f"incident/{incident_id}"
        editable = select(_I.c.id).select_from(_I.outerjoin(_META, _META.c.incident_id == _I.c.id))
        editable = editable.where(
            _I.c.id == incident_id, editable_clause(who.actor, INCIDENT_MARKING)
        )
        denial: CorridorError | None = None
        if conn.execute(editable).first() is None:
            visible = conn.execute(visible_incidents(who.actor).where(_I.c.id == incident_id))
            denial = (
                NotFoundError(f"no incident {incident_id}")
                if visible.first() is None
                else PermissionDenied("you may read this incident but not change it")
            )
            tx.audit("incident.update", who, target=target, outcome="denied")
        else:
            detail: dict[str, Any] = {"fields": sorted(values)}
            if values:
                detail |= _correct(conn, who, incident_id, values)
            tx.audit("incident.update", who, target=target, detail=detail)
    if denial is not None:  # raised after the commit, so the denial stays audited
        raise denial
    found = _get_visible(ctx, who, incident_id)
    assert found is not None
    return found
