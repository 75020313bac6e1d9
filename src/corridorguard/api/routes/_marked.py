"""The handlers every marked resource shares (sites, forecasts, movements, sensors).

One create / get / list / update path for all of them, built on
:func:`~corridorguard.api.queries.visible_rows` (the one visibility policy, compiled to SQL) and
:func:`~corridorguard.sharing.policy.editable_clause`. A resource module only says which
columns it has and which filters it offers, so no resource has its own access check (the
per-record-type drift of MISP's checks is what this avoids).

* create: the caller's role and scope are checked first (403, audited); provenance
  (``originator``, ``created_by``, ``created_at``) comes from the caller; REL-TO names must be
  organisations and RED recipients users of this instance (422); ``Idempotency-Key`` honoured;
  audited as ``<kind>.create`` in the same transaction as the write.
* get: a record the caller may not see answers exactly like a missing one (404, audited as a
  denied ``<kind>.read``).
* update: visible but not editable is a 403, invisible a 404; both audited as denied.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from corridorguard.api.context import ServerContext, Tx
from corridorguard.api.deps import OPERATIONAL, authorize, require_role, require_scope
from corridorguard.api.idempotency import idempotent_post
from corridorguard.api.queries import iso, marking_lists, visible_rows
from corridorguard.api.reads import RecordList
from corridorguard.api.routes._stix_store import keep_version
from corridorguard.api.schemas.marked import MarkedCreate
from corridorguard.errors import (
    ConflictError,
    CorridorError,
    NotFoundError,
    PermissionDenied,
    ValidationError,
)
from corridorguard.sharing.policy import Role, editable_clause
from corridorguard.sharing.stix import record_modified
from corridorguard.store.identity import Identity, OrgRow, UserRow
from corridorguard.store.resources import MarkedTables

__all__ = [
    "IDEMPOTENCY",
    "Resource",
    "check_marking",
    "common_filters",
    "create_record",
    "get_record",
    "get_record_fast",
    "insert_record",
    "list_records",
    "new_id",
    "parse_bbox",
    "read_check",
    "record_not_found",
    "update_record",
]

IDEMPOTENCY: dict[str, Any] = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            "description": "Retries with the same key get the first answer replayed.",
        }
    ]
}


@dataclass(frozen=True)
class Resource:
    """A marked resource: its tables, the word used in messages and audit targets, and how a
    selected row becomes the resource-specific part of its public JSON."""

    tables: MarkedTables
    fields: Callable[[Any], dict[str, Any]]
    #: ``version(conn, id)``: the sharing record of a row, for resources shared over STIX/TAXII
    #: (a correction then keeps the version it replaces and the new one in ``stix_versions``).
    version: Callable[[Any, int], Any] | None = None

    @property
    def kind(self) -> str:
        return self.tables.kind

    def public(self, m: Any, rel: Sequence[str], red: Sequence[str]) -> dict[str, Any]:
        """The public JSON of a visible row (marking and provenance first)."""
        return {
            "id": m["id"],
            "originator": m["originator"],
            "tlp": m["tlp"],
            "rel_to": sorted(rel),
            "red_recipients": sorted(red),
            "created_by": m["created_by"],
            "created_at": iso(m["created_at"]),
            "updated_at": iso(m["updated_at"]) if m["updated_at"] else None,
            **self.fields(m),
        }


def new_id(result: Any) -> int:
    """The primary key of the row an ``INSERT`` just added."""
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def read_check(ctx: ServerContext, request: Request, who: Identity) -> None:
    """Reading record contents: ``read`` scope and an operational role (oversight: 403)."""
    require_scope(ctx, request, who, "read")
    require_role(ctx, request, who, OPERATIONAL)


def check_marking(session: Any, body: MarkedCreate) -> None:
    """REL-TO names must be organisations, RED recipients users, and only for TLP:RED (422)."""
    if body.rel_to:
        known = set(session.scalars(select(OrgRow.name).where(OrgRow.name.in_(body.rel_to))))
        unknown = [o for o in body.rel_to if o not in known]
        if unknown:
            raise ValidationError(f"unknown organisation(s): {', '.join(unknown)}", field="rel_to")
    if body.red_recipients:
        if body.tlp != "RED":
            raise ValidationError("red_recipients are for TLP:RED only", field="red_recipients")
        stmt = select(UserRow.username).where(UserRow.username.in_(body.red_recipients))
        known = set(session.scalars(stmt))
        unknown = [u for u in body.red_recipients if u not in known]
        if unknown:
            raise ValidationError(f"unknown user(s): {', '.join(unknown)}", field="red_recipients")


def insert_record(
    tx: Tx, who: Identity, res: Resource, marking: MarkedCreate, values: Mapping[str, Any]
) -> int:
    """Insert a record with the caller's provenance and its marking; audited. Returns its id."""
    check_marking(tx.session, marking)
    t = res.tables
    row = {
        **values,
        "originator": who.org,  # provenance from the caller, never from the payload
        "tlp": marking.tlp,
        "created_by": who.username,
        "created_at": datetime.now(UTC),
        "updated_at": None,
    }
    conn = tx.session.connection()
    try:
        rid = new_id(conn.execute(insert(t.table).values(**row)))
    except IntegrityError:  # a unique key (e.g. a site's scenario + key) is already held
        raise ConflictError(f"your organisation already holds this {res.kind}") from None
    for org in marking.rel_to:
        tx.session.execute(insert(t.rel).values(record_id=rid, org=org))
    for user in marking.red_recipients:
        tx.session.execute(insert(t.red).values(record_id=rid, user_id=user))
    tx.audit(
        f"{res.kind}.create",
        who,
        target=f"{res.kind}/{rid}",
        detail={"tlp": marking.tlp, "rel_to": sorted(marking.rel_to)},
    )
    return rid


def _visible_public(conn: Any, who: Identity, res: Resource, rid: int) -> dict[str, Any] | None:
    t = res.tables
    row = conn.execute(
        visible_rows(who.actor, t.table, t.marking).where(t.table.c.id == rid)
    ).first()
    if row is None:
        return None
    rel, red = marking_lists(conn, t.marking, [rid])
    return res.public(row._mapping, rel.get(rid, ()), red.get(rid, ()))


def create_record(
    ctx: ServerContext,
    request: Request,
    who: Identity,
    res: Resource,
    body: MarkedCreate,
    values: Mapping[str, Any],
    *,
    roles: frozenset[Role],
    after: Callable[[Tx, int], None] | None = None,
) -> JSONResponse:
    """``POST /<resources>``: checks, one audited transaction, ``Idempotency-Key``."""
    require_scope(ctx, request, who, "write")
    require_role(ctx, request, who, roles)

    def run(tx: Tx) -> tuple[int, Any]:
        rid = insert_record(tx, who, res, body, values)
        if after is not None:
            after(tx, rid)
        found = _visible_public(tx.session.connection(), who, res, rid)
        assert found is not None  # the creator sees what it created
        return 201, found

    return idempotent_post(ctx, request, who, body.model_dump(mode="json"), run)


def _not_found(ctx: ServerContext, who: Identity, res: Resource, rid: int) -> NotFoundError:
    """The one answer for 'missing' and 'not yours to see' (audited as a denied read)."""
    ctx.audit.record(f"{res.kind}.read", who, target=f"{res.kind}/{rid}", outcome="denied")
    return NotFoundError(f"no {res.kind} {rid}")


def get_record(
    ctx: ServerContext, request: Request, who: Identity, res: Resource, rid: int
) -> dict[str, Any]:
    """``GET /<resources>/{id}``: the record if visible, else the one 404."""
    read_check(ctx, request, who)
    with ctx.store.read() as conn:
        found = _visible_public(conn, who, res, rid)
    if found is None:
        raise _not_found(ctx, who, res, rid)
    return found


async def get_record_fast(
    ctx: ServerContext,
    request: Request,
    who: Identity,
    spec: RecordList,
    rid: int,
    deny: Callable[[], Exception],
) -> Response:
    """``GET /<resources>/{id}`` on the fast path (:meth:`~corridorguard.api.reads.Reads.record`:
    the list's item under the same policy, ready bytes); ``deny()`` (run in a worker thread: it
    writes the audit entry) gives the one 404 for 'missing' and 'not yours to see'."""
    await authorize(ctx, request, who, "read", OPERATIONAL)
    found = await ctx.reads.run(ctx.reads.record, spec, who.actor, rid)
    if found is None:
        raise await run_in_threadpool(deny)
    return Response(found, media_type="application/json")


def record_not_found(ctx: ServerContext, who: Identity, res: Resource, rid: int) -> NotFoundError:
    """:func:`_not_found` (public for the routes' fast gets)."""
    return _not_found(ctx, who, res, rid)


def parse_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    """``min_lon,min_lat,max_lon,max_lat`` (422 otherwise)."""
    if bbox is None:
        return None
    try:
        parts = tuple(float(v) for v in bbox.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 4 or any(p != p or p in (float("inf"), float("-inf")) for p in parts):
        raise ValidationError("bbox must be min_lon,min_lat,max_lon,max_lat", field="bbox")
    return parts[0], parts[1], parts[2], parts[3]


def common_filters(
    res: Resource,
    *,
    tlp: Sequence[str] | None = None,
    originator: str | None = None,
    scenario: str | None = None,
    bbox: str | None = None,
    q: str | None = None,
    text_columns: Sequence[str] = ("name", "description"),
) -> list[Any]:
    """SQL conditions of the filters every resource list offers (on top of the policy)."""
    c = res.tables.table.c
    conds: list[Any] = []
    if tlp:
        conds.append(c.tlp.in_(list(tlp)))
    if originator is not None:
        conds.append(c.originator == originator)
    if scenario is not None:
        conds.append(c.scenario == scenario)
    box = parse_bbox(bbox)
    if box is not None:
        conds += [c.lon.between(box[0], box[2]), c.lat.between(box[1], box[3])]
    if q:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%") + "%"
        pattern = pattern.replace("_", "\\_")
        conds.append(or_(*(func.lower(c[k]).like(pattern, escape="\\") for k in text_columns)))
    return conds


def list_records(
    ctx: ServerContext,
    request: Request,
    who: Identity,
    res: Resource,
    conds: Sequence[Any],
    *,
    limit: int,
    offset: int,
    order: Sequence[Any] = (),
) -> dict[str, Any]:
    """``GET /<resources>``: a page of visible records matching ``conds``, and the total."""
    read_check(ctx, request, who)
    t = res.tables
    stmt = visible_rows(who.actor, t.table, t.marking)
    if conds:
        stmt = stmt.where(and_(*conds))
    with ctx.store.read() as conn:
        total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        ordered = stmt.order_by(*order, t.table.c.id).limit(limit).offset(offset)
        rows = conn.execute(ordered).all()
        rel, red = marking_lists(conn, t.marking, [r.id for r in rows])
    items = [res.public(r._mapping, rel.get(r.id, ()), red.get(r.id, ())) for r in rows]
    return {"items": items, "total": int(total), "limit": limit, "offset": offset}


def update_record(
    ctx: ServerContext,
    request: Request,
    who: Identity,
    res: Resource,
    rid: int,
    values: dict[str, Any],
    *,
    check: Callable[[Any, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """``PATCH /<resources>/{id}``: only what :func:`editable_clause` allows.

    ``check(current_row, values)`` validates the change against the stored record (422).
    """
    require_scope(ctx, request, who, "write")
    require_role(ctx, request, who, OPERATIONAL)
    if any(v is None for v in values.values()):
        raise ValidationError(
            f"{', '.join(k for k, v in values.items() if v is None)} cannot be null"
        )
    t = res.tables
    target = f"{res.kind}/{rid}"
    denial: CorridorError | None = None
    with ctx.audit.transaction() as tx:
        conn = tx.session.connection()
        stmt = select(t.table).where(t.table.c.id == rid, editable_clause(who.actor, t.marking))
        current = conn.execute(stmt).first()
        if current is None:
            visible = conn.execute(
                visible_rows(who.actor, t.table, t.marking).where(t.table.c.id == rid)
            ).first()
            denial = (
                NotFoundError(f"no {res.kind} {rid}")
                if visible is None
                else PermissionDenied(f"you may read this {res.kind} but not change it")
            )
            tx.audit(f"{res.kind}.update", who, target=target, outcome="denied")
        else:
            if check is not None:
                check(current._mapping, values)
            if values:
                values = _write_correction(conn, res, current, values)
            tx.audit(f"{res.kind}.update", who, target=target, detail={"fields": sorted(values)})
    if denial is not None:  # raised after the commit, so the denial stays audited
        raise denial
    with ctx.store.read() as conn:
        found = _visible_public(conn, who, res, rid)
    assert found is not None
    return found


def _write_correction(
    conn: Any, res: Resource, current: Any, values: dict[str, Any]
) -> dict[str, Any]:
    """Write ``values`` with a new ``updated_at``; a shared resource's correction is a new STIX
    version: ``updated_at`` (its ``modified`` and TAXII date added) strictly after the version
    replaced, and both versions' objects kept in ``stix_versions``."""
    rid = int(current.id)
    stamp = datetime.now(UTC)
    if res.version is not None:
        before = res.version(conn, rid)
        keep_version(conn, res.kind, rid, before, current.updated_at or current.created_at)
        stamp = max(stamp, record_modified(before) + timedelta(milliseconds=1))
    values = {**values, "updated_at": stamp}
    t = res.tables.table
    conn.execute(update(t).where(t.c.id == rid).values(**values))
    if res.version is not None:
        keep_version(conn, res.kind, rid, res.version(conn, rid), stamp)
    return values
