"""Every read of marked records goes through here, with the one policy compiled to SQL.

:func:`visible_incidents` is the only way the API selects incidents: get, list, search, stats,
STIX export, TAXII and CoT all start from it, so the releasability filter cannot be forgotten
on one path (MISP's drift between per-path copies of its access check is what this avoids).
:func:`visible_rows` is the same for every other marked table (sites, forecasts, movements,
sensors, plans): one function for all of them, given where the table keeps its marking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select

from corridorguard.sharing.policy import Actor, MarkingColumns, visibility_clause
from corridorguard.sharing.records import IncidentRecord
from corridorguard.store.marks import INCIDENT_MARKING, IncidentMetaRow, IncidentRedRow
from corridorguard.store.models import IncidentRow

__all__ = [
    "IncidentSearch",
    "incident_public",
    "incident_record",
    "iso",
    "marking_lists",
    "red_recipients",
    "visible_incidents",
    "visible_rows",
]

_I = IncidentRow.__table__
_META = IncidentMetaRow.__table__
_RED = IncidentRedRow.__table__


@dataclass(frozen=True)
class IncidentSearch:
    """Search filters of ``GET /incidents`` (all optional; every given one must hold)."""

    since: datetime | None = None
    until: datetime | None = None
    types: Sequence[str] = ()
    tlp: Sequence[str] = ()
    originator: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    q: str | None = None
    added_after: datetime | None = None


def visible_incidents(actor: Actor | None, search: IncidentSearch | None = None) -> Select[Any]:
    """``SELECT`` incidents (+ ``created_by``, ``created_at``) that ``actor`` may see."""
    stmt = (
        select(_I, _META.c.created_by, _META.c.created_at)
        .select_from(_I.outerjoin(_META, _META.c.incident_id == _I.c.id))
        .where(visibility_clause(actor, INCIDENT_MARKING))
    )
    conds = search_conditions(search)
    return stmt.where(and_(*conds)) if conds else stmt


def search_conditions(search: IncidentSearch | None) -> list[Any]:
    """The SQL conditions of an incident search (on top of the policy)."""
    conds: list[Any] = []
    if search is None:
        return conds
    if search.since is not None:
        conds.append(_I.c.time >= search.since)
    if search.until is not None:
        conds.append(_I.c.time < search.until)
    if search.types:
        conds.append(_I.c.type.in_(list(search.types)))
    if search.tlp:
        conds.append(_I.c.tlp.in_(list(search.tlp)))
    if search.originator is not None:
        conds.append(_I.c.originator == search.originator)
    if search.bbox is not None:
        x0, y0, x1, y1 = search.bbox
        conds += [_I.c.lon.between(x0, x1), _I.c.lat.between(y0, y1)]
    if search.q:
        pattern = "%" + search.q.lower().replace("\\", "\\\\").replace("%", "\\%") + "%"
        pattern = pattern.replace("_", "\\_")
        conds.append(
            or_(
                func.lower(_I.c.description).like(pattern, escape="\\"),
                func.lower(_I.c.type).like(pattern, escape="\\"),
            )
        )
    if search.added_after is not None:
        conds.append(_I.c.imported_at > search.added_after)
    return conds


def visible_rows(actor: Actor | None, table: Any, marking: MarkingColumns) -> Select[Any]:
    """``SELECT`` the rows of ``table`` that ``actor`` may see (the one policy, compiled)."""
    return select(table).where(visibility_clause(actor, marking))


def marking_lists(
    conn: Any, marking: MarkingColumns, ids: Sequence[int]
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """REL-TO organisations and RED recipients of the given (already visible) records."""
    rel: dict[int, list[str]] = {}
    red: dict[int, list[str]] = {}
    if not ids:
        return rel, red
    for pair, out in ((marking.rel_to, rel), (marking.red_recipients, red)):
        rid, col = pair
        stmt = select(rid, col).where(rid.in_(list(ids))).order_by(rid, col)
        for record_id, value in conn.execute(stmt):
            out.setdefault(int(record_id), []).append(value)
    return rel, red


def red_recipients(conn: Any, ids: Sequence[int]) -> dict[int, list[str]]:
    """Named RED recipients of the given (already visible) incidents."""
    if not ids:
        return {}
    out: dict[int, list[str]] = {}
    stmt = select(_RED.c.incident_id, _RED.c.user_id).where(_RED.c.incident_id.in_(list(ids)))
    for rid, uid in conn.execute(stmt.order_by(_RED.c.user_id)):
        out.setdefault(int(rid), []).append(uid)
    return out


def iso(t: datetime) -> str:
    """UTC ISO-8601 with ``Z`` (the same text pydantic writes for the response models)."""
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def incident_public(row: Any, recipients: Sequence[str] = ()) -> dict[str, Any]:
    """The public JSON form of a selected row."""
    m = row._mapping
    return {
        "id": m["id"],
        "time": iso(m["time"]),
        "lon": m["lon"],
        "lat": m["lat"],
        "type": m["type"],
        "description": m["description"],
        "tlp": m["tlp"],
        "rel_to": sorted(m["rel_to"]),
        "red_recipients": sorted(recipients),
        "originator": m["originator"],
        "created_by": m["created_by"],
        "created_at": iso(m["created_at"] or m["imported_at"]),
        "source": m["source"],
        "fatalities": m["fatalities_best"],
        "place": m["place"],
    }


def incident_record(row: Any, recipients: Sequence[str] = ()) -> IncidentRecord:
    """A sharing record (STIX, CoT) of a selected row.

    Public-dataset rows have no originating organisation; they are attributed to their source.
    Records from a partner (``taxii``: the STIX id is the source id) or a STIX upload (``stix``:
    the STIX id is kept in ``reference``) keep their STIX id.
    """
    m = row._mapping
    rid = str(m["id"])
    if m["source"] == "taxii":
        rid = m["source_id"]
    elif m["source"] == "stix" and m["reference"]:
        rid = m["reference"]
    return IncidentRecord(
        id=rid,
        source=m["source"],
        source_id=m["source_id"],
        time=m["time"],
        lon=m["lon"],
        lat=m["lat"],
        type=m["type"],
        description=m["description"] or "",
        fatalities=m["fatalities_best"],
        tlp=m["tlp"],
        originator=m["originator"] or f"{m['source']} (public dataset)",
        rel_to=frozenset(m["rel_to"]),
        red_recipients=frozenset(recipients),
        created_by=m["created_by"],
    )
