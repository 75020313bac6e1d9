"""``/api/v1/export``: STIX 2.1 bundles and Cursor-on-Target events of visible incidents.

Both start from :func:`~corridorguard.api.queries.visible_incidents` (the SQL policy filter) and
then pass through the sharing layer's :func:`~corridorguard.sharing.policy.releasable`, which
also applies ``may_pass_on`` when ``to_org`` names the audience (AMBER+STRICT and RED do not
travel). Every export is audited with the number of records, never their contents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from corridorguard.api.context import ServerContext
from corridorguard.api.deps import (
    OPERATIONAL,
    Caller,
    Ctx,
    clean_query,
    require_role,
    require_scope,
)
from corridorguard.api.errors import ERROR_RESPONSES
from corridorguard.api.queries import (
    IncidentSearch,
    incident_record,
    red_recipients,
    visible_incidents,
)
from corridorguard.sharing.cot import cot_events
from corridorguard.sharing.records import IncidentRecord
from corridorguard.sharing.stix import export_stix
from corridorguard.store.identity import Identity
from corridorguard.store.models import IncidentRow

router = APIRouter(
    prefix="/export",
    tags=["sharing"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(clean_query)],
)
_I = IncidentRow.__table__
STIX_MEDIA = "application/stix+json;version=2.1"


class StixResponse(Response):
    """A STIX 2.1 bundle."""

    media_type = STIX_MEDIA


class XmlResponse(Response):
    """Cursor-on-Target XML."""

    media_type = "application/xml"


_MAX_EXPORT = 50_000


def visible_records(
    ctx: ServerContext,
    who: Identity,
    search: IncidentSearch | None = None,
    *,
    limit: int = _MAX_EXPORT,
    offset: int = 0,
    order_added: bool = False,
) -> list[tuple[IncidentRecord, datetime]]:
    """Sharing records (with their date added) of incidents the caller may see."""
    stmt = visible_incidents(who.actor, search)
    order = (_I.c.imported_at, _I.c.id) if order_added else (_I.c.time, _I.c.id)
    with ctx.store.read() as conn:
        rows = conn.execute(stmt.order_by(*order).limit(limit).offset(offset)).all()
        reds = red_recipients(conn, [r.id for r in rows if r.tlp == "RED"])
    return [(incident_record(r, reds.get(r.id, ())), r.imported_at) for r in rows]


def _audit_export(ctx: ServerContext, who: Identity, kind: str, n: int, to_org: str | None) -> None:
    ctx.audit.record(f"export.{kind}", who, detail={"records": n, "to_org": to_org})


@router.get(
    "/stix",
    response_class=StixResponse,
    responses={200: {"content": {STIX_MEDIA: {"schema": {"type": "object"}}}}},
    summary="STIX 2.1 bundle of visible incidents",
)
def stix(
    request: Request,
    ctx: Ctx,
    who: Caller,
    to_org: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None,
) -> Response:
    """A STIX 2.1 bundle (TLP 2.0 markings); with ``to_org``, only what may pass to it."""
    require_scope(ctx, request, who, "read")
    require_role(ctx, request, who, OPERATIONAL)
    recs = [r for r, _ in visible_records(ctx, who, IncidentSearch(since=since))]
    bundle = export_stix(who.actor, incidents=recs, to_org=to_org)
    n = sum(1 for o in bundle.get("objects", []) if o.type == "incident")
    _audit_export(ctx, who, "stix", n, to_org)
    return StixResponse(bundle.serialize())


@router.get(
    "/cot", response_class=XmlResponse, summary="Cursor-on-Target events of visible incidents"
)
def cot(
    request: Request,
    ctx: Ctx,
    who: Caller,
    to_org: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None,
) -> Response:
    """CoT XML events inside one ``<events>`` element (TAK has no markings: they are in the
    remarks and a ``__corridorguard`` detail element)."""
    require_scope(ctx, request, who, "read")
    require_role(ctx, request, who, OPERATIONAL)
    recs = [r for r, _ in visible_records(ctx, who, IncidentSearch(since=since))]
    events = cot_events(who.actor, incidents=recs, to_org=to_org)
    _audit_export(ctx, who, "cot", len(events), to_org)
    body = (
        b"<?xml version='1.0' encoding='UTF-8'?>\n<events>"
        + b"".join(e.split(b"?>", 1)[1] if e.startswith(b"<?xml") else e for e in events)
        + b"</events>"
    )
    return XmlResponse(body)


def to_dict(obj: Any) -> dict[str, Any]:
    """A STIX object as a JSON-ready dict."""
    import json

    out = json.loads(obj.serialize())
    assert isinstance(out, dict)
    return out
