"""What a TAXII collection holds: incidents, sites, plans' public parts (ours and partners').

Every kind is a stream of visible rows (the one policy compiled to SQL:
:func:`~corridorguard.api.queries.visible_incidents` / ``visible_rows``) ordered by its **date
added** and id:

========== ====== ==========================================================================
kind       rank   date added
========== ====== ==========================================================================
incidents  0      ``added_at`` (creation, correction, or a new version received), else
                  ``imported_at``
sites      1      ``updated_at`` or ``created_at``
plans      2      ``modified`` (creation, edit, proposal, each decision: each a new
                  version), else ``decided_at`` or ``created_at``
shared     3      ``updated_at`` or ``created_at`` (partners' plans' public parts)
========== ====== ==========================================================================

A page merges the streams in ``(date added, rank, id)`` order from a keyset cursor (no
offsets: a page costs the same wherever it is), so ``next`` stays right while records are added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, case, func, literal, or_, select, type_coerce

from corridorguard.api.context import ServerContext
from corridorguard.api.queries import (
    marking_lists,
    red_recipients,
    visible_incidents,
    visible_rows,
)
from corridorguard.api.routes._loaders import (
    incident_share_record,
    load_plans,
    shared_plan_record,
    site_record,
)
from corridorguard.api.routes._stix_store import held_modified
from corridorguard.errors import ValidationError
from corridorguard.sharing.records import IncidentRecord, PlanRecord, SiteRecord
from corridorguard.sharing.stix import object_ids, sid
from corridorguard.sharing.versions import HeldVersion
from corridorguard.store.identity import Identity
from corridorguard.store.models import IncidentRow, UTCDateTime
from corridorguard.store.plans import PLAN_MARKING, PlanRow
from corridorguard.store.resources import SITES
from corridorguard.store.shared import SHARED_PLANS, STIX_VERSIONS

__all__ = ["KINDS", "Cursor", "Entry", "held_versions", "kinds_for_types", "page", "resolve_ids"]

Record = IncidentRecord | SiteRecord | PlanRecord
Cursor = tuple[datetime, int, int]
KINDS = ("incidents", "sites", "plans", "shared")
_RANK = {k: n for n, k in enumerate(KINDS)}
_I: Any = IncidentRow.__table__
_P: Any = PlanRow.__table__
_TYPES = {
    "incidents": {"incident", "location", "sighting"},
    "sites": {"infrastructure", "location", "relationship"},
    "plans": {"course-of-action"},
    "shared": {"course-of-action"},
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HEAD_TYPES = {"marking-definition", "identity"}
_VKIND = {
    "incidents": "incident",
    "sites": "site",
    "plans": "plan",
    "shared": "shared_plan",
}


@dataclass(frozen=True)
class Entry:
    """One record of a collection page, with its date added and place in the order."""

    kind: str
    row_id: int
    added: datetime
    record: Record

    @property
    def key(self) -> Cursor:
        return (self.added, _RANK[self.kind], self.row_id)


def kinds_for_types(types: set[str] | None) -> set[str]:
    """The record kinds whose objects include one of ``types`` (all kinds for ``None``)."""
    if types is None or types & _HEAD_TYPES:
        return set(KINDS)
    return {k for k, ts in _TYPES.items() if ts & types}


def encode(c: Cursor) -> str:
    """``next`` of a page ending at ``c``: microseconds since the epoch, rank, id."""
    us = (c[0] - _EPOCH) // timedelta(microseconds=1)
    return f"{us}.{c[1]}.{c[2]}"


def decode(text: str) -> Cursor:
    try:
        us, rank, rid = (int(p) for p in text.split("."))
        when = _EPOCH + timedelta(microseconds=us)
    except (ValueError, OverflowError, OSError):
        raise ValidationError("not a next value of this server", field="next") from None
    return (when, rank, rid)


def _sqlite_time(expr: Any) -> Any:
    """A stored time as fixed-width text on SQLite: the server default ``CURRENT_TIMESTAMP``
    (of incidents imported by the CLI) writes no microseconds, which would break text order and
    equality against the ``.ffffff`` values SQLAlchemy writes and binds."""
    raw = type_coerce(expr, String())
    text = case((func.length(raw) == 19, raw + literal(".000000", String())), else_=raw)
    return type_coerce(text, UTCDateTime())


def _stream(kind: str, who: Identity, dialect: str) -> tuple[Any, Any, Any]:
    """(select, date-added expression, id column) of the visible rows of ``kind``."""
    if kind == "incidents":
        added = func.coalesce(_I.c.added_at, _I.c.imported_at)
        added = added if dialect != "sqlite" else _sqlite_time(added)
        return visible_incidents(who.actor), added, _I.c.id
    if kind == "plans":
        added = func.coalesce(_P.c.modified, _P.c.decided_at, _P.c.created_at)
        return visible_rows(who.actor, _P, PLAN_MARKING), added, _P.c.id
    t = SITES if kind == "sites" else SHARED_PLANS
    added = func.coalesce(t.table.c.updated_at, t.table.c.created_at)
    return (
        visible_rows(who.actor, t.table, t.marking).add_columns(added.label("_added")),
        (added),
        t.table.c.id,
    )


def _after(kind: str, added: Any, rid: Any, c: Cursor) -> Any:
    rank = _RANK[kind]
    if rank > c[1]:
        return added >= c[0]
    if rank < c[1]:
        return added > c[0]
    return or_(added > c[0], and_(added == c[0], rid > c[2]))


def _rows(
    conn: Any,
    kind: str,
    who: Identity,
    *,
    added_after: datetime | None,
    cursor: Cursor | None,
    only: Sequence[int] | None,
    limit: int,
) -> list[tuple[int, datetime, Any]]:
    stmt, added, rid = _stream(kind, who, conn.dialect.name)
    if added_after is not None:
        stmt = stmt.where(added > added_after)
    if cursor is not None:
        stmt = stmt.where(_after(kind, added, rid, cursor))
    if only is not None:
        stmt = stmt.where(rid.in_(list(only)))
    if kind in ("plans", "incidents"):
        stmt = stmt.add_columns(added.label("_added"))
    rows = conn.execute(stmt.order_by(added, rid).limit(limit)).all()
    out = []
    for r in rows:
        m = r._mapping
        when = m["_added"]
        if when.tzinfo is None:  # coalesce() on SQLite gives the stored text's naive value
            when = when.replace(tzinfo=UTC)
        out.append((int(m["id"]), when, r))
    return out


def _records(
    ctx: ServerContext, conn: Any, who: Identity, kind: str, rows: list[Any]
) -> dict[int, Record]:
    ids = [int(r.id) for r in rows]
    if kind == "incidents":
        reds = red_recipients(conn, [r.id for r in rows if r.tlp == "RED"])
        return {int(r.id): incident_share_record(r, reds.get(r.id, ())) for r in rows}
    if kind == "plans":
        return {int(p.id): p for p, _routes in load_plans(ctx, who, ids)}
    t = SITES if kind == "sites" else SHARED_PLANS
    rel, red = marking_lists(conn, t.marking, ids)
    if kind == "sites":
        got = held_modified(conn, "site", ids)
        return {
            int(r.id): site_record(r._mapping, rel.get(r.id, ()), red.get(r.id, ()), got.get(r.id))
            for r in rows
        }
    return {
        int(r.id): shared_plan_record(r._mapping, rel.get(r.id, ()), red.get(r.id, ()))
        for r in rows
    }


def page(
    ctx: ServerContext,
    who: Identity,
    *,
    kinds: set[str],
    added_after: datetime | None,
    cursor: Cursor | None,
    size: int,
    only: dict[str, list[int]] | None = None,
) -> tuple[list[Entry], bool]:
    """The next ``size`` visible records after ``cursor`` and whether more follow."""
    found: list[tuple[str, int, datetime, Any]] = []
    with ctx.store.read() as conn:
        for kind in KINDS:
            if kind not in kinds or (only is not None and not only.get(kind)):
                continue
            pick = None if only is None else only[kind]
            for rid, when, row in _rows(
                conn,
                kind,
                who,
                added_after=added_after,
                cursor=cursor,
                only=pick,
                limit=size + 1,
            ):
                found.append((kind, rid, when, row))
        found.sort(key=lambda f: (f[2], _RANK[f[0]], f[1]))
        more = len(found) > size
        found = found[:size]
        out: list[Entry] = []
        for kind in KINDS:
            rows = [f[3] for f in found if f[0] == kind]
            if not rows:
                continue
            recs = _records(ctx, conn, who, kind, rows)
            out += [Entry(kind, rid, when, recs[rid]) for k, rid, when, _ in found if k == kind]
    out.sort(key=lambda e: e.key)
    return out, more


def resolve_ids(ctx: ServerContext, who: Identity, wanted: set[str]) -> dict[str, list[int]]:
    """Row ids, by kind, of the visible records that export an object with one of ``wanted``."""
    out: dict[str, list[int]] = {k: [] for k in KINDS}
    with ctx.store.read() as conn:
        if {w.split("--")[0] for w in wanted} & _TYPES["incidents"]:
            sub = visible_incidents(who.actor).subquery()
            cols = (sub.c.id, sub.c.originator, sub.c.source, sub.c.source_id, sub.c.reference)
            for row in conn.execute(select(*cols)):
                rid, org, source, source_id, ref = tuple(row)
                own = str(rid)
                if source == "taxii":
                    own = source_id
                elif source == "stix" and ref:
                    own = ref
                primary = sid("incident", org or f"{source} (public dataset)", own)
                if wanted.intersection(object_ids(primary)):
                    out["incidents"].append(int(rid))
        for kind, table, marking, stix_type in (
            ("sites", SITES.table, SITES.marking, "infrastructure"),
            ("plans", _P, PLAN_MARKING, "course-of-action"),
            ("shared", SHARED_PLANS.table, SHARED_PLANS.marking, "course-of-action"),
        ):
            if not {w.split("--")[0] for w in wanted} & _TYPES[kind]:
                continue
            q = visible_rows(who.actor, table, marking).subquery()
            third = q.c.stix_id if kind != "plans" else q.c.id
            for got in conn.execute(select(q.c.id, q.c.originator, third)):
                rid, org, stix_id = tuple(got)
                primary = sid(stix_type, org, str(stix_id or rid))
                if wanted.intersection(object_ids(primary)):
                    out[kind].append(int(rid))
    return out


def held_versions(
    ctx: ServerContext, entries: Sequence[Entry]
) -> dict[tuple[str, int], list[HeldVersion]]:
    """The versions held in ``stix_versions`` of the (already visible) records of
    ``entries``, by ``(kind, row id)``, oldest first (one query per kind)."""
    out: dict[tuple[str, int], list[HeldVersion]] = {}
    v = STIX_VERSIONS
    with ctx.store.read() as conn:
        for kind, vkind in _VKIND.items():
            ids = [e.row_id for e in entries if e.kind == kind]
            if not ids:
                continue
            stmt = select(v.c.record_id, v.c.modified, v.c.added_at, v.c.objects).where(
                v.c.kind == vkind, v.c.record_id.in_(ids)
            )
            for rid, modified, added, objs in conn.execute(stmt.order_by(v.c.modified)):
                held = HeldVersion(modified, added, objs if isinstance(objs, list) else None)
                out.setdefault((kind, int(rid)), []).append(held)
    return out
