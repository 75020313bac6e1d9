"""``/api/v1/export``: STIX 2.1 bundles and Cursor-on-Target events of visible incidents.

The incidents-only forms of ``/stix/export`` and ``/cot/export``: the same loader
(:func:`~corridorguard.api.routes._loaders.load_incidents`, from
:func:`~corridorguard.api.queries.visible_incidents`, the SQL policy filter) and the same
serialisation (the current version of each incident, with the same STIX ``modified`` as TAXII
serves), then the sharing layer's :func:`~corridorguard.sharing.policy.releasable`, which
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
from corridorguard.api.queries import IncidentSearch
from corridorguard.api.routes._loaders import load_incidents
from corridorguard.sharing.cot import cot_events
from corridorguard.sharing.stix import export_stix
from corridorguard.store.identity import Identity

router = APIRouter(
    prefix="/export",
    tags=["sharing"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(clean_query)],
)
STIX_MEDIA = "application/stix+json;version=2.1"


class StixResponse(Response):
    """A STIX 2.1 bundle."""

    media_type = STIX_MEDIA


class XmlResponse(Response):
    """Cursor-on-Target XML."""

    media_type = "application/xml"


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
    recs = load_incidents(ctx, who, search=IncidentSearch(since=since))
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
    recs = load_incidents(ctx, who, search=IncidentSearch(since=since))
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
