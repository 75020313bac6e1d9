"""TAXII 2.1 (read-only): discovery, one API root, collections per audience, objects.

* ``GET /taxii2/`` — discovery; ``GET /taxii2/api1/`` — the API root;
* ``GET /taxii2/api1/collections/`` — for the caller: ``all`` (every incident the caller may
  see) and one collection per agency, ``to-<org>`` (what the caller may pass on to that
  organisation; ``to-<own org>`` is what a partner instance of the caller's own organisation may
  pull: TLP and AMBER+STRICT rules of :func:`~corridorguard.sharing.policy.may_pass_on`);
* ``GET /taxii2/api1/collections/{id}/objects/`` — an envelope of STIX 2.1 objects with
  ``added_after`` (the date the record was added here), ``limit`` and ``next`` pagination, and
  the ``X-TAXII-Date-Added-First`` / ``-Last`` headers.

Responses use the TAXII media type ``application/taxii+json;version=2.1``. Authentication is the
API's bearer token; every page served is audited (``export.taxii``).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from corridorguard.api.context import ServerContext
from corridorguard.api.deps import OPERATIONAL, Caller, Ctx, require_role, require_scope
from corridorguard.api.errors import ERROR_RESPONSES
from corridorguard.api.queries import IncidentSearch
from corridorguard.api.routes.sharing import visible_records
from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.sharing.stix import export_stix
from corridorguard.store.identity import Identity, OrgRow

TAXII_MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"


class TaxiiResponse(Response):
    """A TAXII 2.1 JSON resource."""

    media_type = TAXII_MEDIA


router = APIRouter(
    prefix="/taxii2",
    tags=["TAXII 2.1"],
    responses={
        **ERROR_RESPONSES,
        200: {"content": {TAXII_MEDIA: {"schema": {"type": "object"}}}},
    },
    default_response_class=TaxiiResponse,
)

_NS = uuid.UUID("5d0f0b4e-8f5e-4f55-9d55-7a3c6f0c1a21")
ALL_COLLECTION = str(uuid.uuid5(_NS, "all"))


def _taxii(body: Any, *, headers: dict[str, str] | None = None) -> Response:
    return TaxiiResponse(json.dumps(body), headers=headers)


def collection_id(to_org: str) -> str:
    """The id of the collection of what may be passed on to ``to_org``."""
    return str(uuid.uuid5(_NS, "to:" + to_org))


def _collections(ctx: ServerContext, who: Identity) -> dict[str, dict[str, Any]]:
    with ctx.store.session(write=False) as s:
        orgs = list(s.scalars(select(OrgRow.name).where(OrgRow.kind == "agency")))
    out = {
        ALL_COLLECTION: {
            "id": ALL_COLLECTION,
            "title": "all",
            "description": f"Every incident visible to {who.org}",
            "can_read": True,
            "can_write": False,
            "media_types": [STIX_MEDIA],
        }
    }
    for org in sorted(orgs):
        cid = collection_id(org)
        out[cid] = {
            "id": cid,
            "title": f"to-{org}",
            "description": f"Incidents {who.org} may pass on to {org}",
            "can_read": True,
            "can_write": False,
            "media_types": [STIX_MEDIA],
            "x_corridorguard_to_org": org,
        }
    return out


def _check(ctx: ServerContext, request: Request, who: Identity) -> None:
    require_scope(ctx, request, who, "read")
    require_role(ctx, request, who, OPERATIONAL)


@router.get("/", summary="TAXII discovery")
def discovery(request: Request, ctx: Ctx, who: Caller) -> Response:
    """The TAXII server's discovery resource."""
    _check(ctx, request, who)
    root = str(request.url_for("api_root"))
    return _taxii(
        {
            "title": "corridorguard TAXII 2.1",
            "description": "Incidents shared under TLP 2.0 and REL-TO (read only)",
            "default": root,
            "api_roots": [root],
        }
    )


@router.get("/api1/", name="api_root", summary="TAXII API root")
def api_root(request: Request, ctx: Ctx, who: Caller) -> Response:
    """The one API root."""
    _check(ctx, request, who)
    return _taxii(
        {
            "title": "corridorguard",
            "versions": [TAXII_MEDIA],
            "max_content_length": 10_485_760,
        }
    )


@router.get("/api1/collections/", summary="TAXII collections (per audience)")
def collections(request: Request, ctx: Ctx, who: Caller) -> Response:
    """``all`` and one ``to-<org>`` collection per agency."""
    _check(ctx, request, who)
    return _taxii({"collections": list(_collections(ctx, who).values())})


def _collection(ctx: ServerContext, who: Identity, cid: str) -> dict[str, Any]:
    found = _collections(ctx, who).get(cid)
    if found is None:
        raise NotFoundError(f"no collection {cid}")
    return found


@router.get("/api1/collections/{cid}/", summary="One TAXII collection")
def collection(cid: str, request: Request, ctx: Ctx, who: Caller) -> Response:
    """A collection's description."""
    _check(ctx, request, who)
    return _taxii(_collection(ctx, who, cid))


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@router.get("/api1/collections/{cid}/objects/", summary="Objects of a TAXII collection")
def objects(
    cid: str,
    request: Request,
    ctx: Ctx,
    who: Caller,
    added_after: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    next: Annotated[str | None, Query(max_length=20, pattern="^[0-9]+$")] = None,
) -> Response:
    """An envelope of STIX objects; page with ``next``; filter with ``added_after``."""
    _check(ctx, request, who)
    coll = _collection(ctx, who, cid)
    if added_after is not None and added_after.tzinfo is None:
        raise ValidationError("added_after needs a UTC offset (e.g. Z)", field="added_after")
    offset = int(next) if next else 0
    per = max(1, limit // 5)  # an incident is <= 5 objects (incl. identity and marking)
    page = visible_records(
        ctx,
        who,
        IncidentSearch(added_after=added_after),
        limit=per + 1,
        offset=offset,
        order_added=True,
    )
    more = len(page) > per
    page = page[:per]
    to_org = coll.get("x_corridorguard_to_org")
    bundle = export_stix(who.actor, incidents=[r for r, _ in page], to_org=to_org)
    objs = [json.loads(o.serialize()) for o in bundle.get("objects", [])]
    ctx.audit.record(
        "export.taxii",
        who,
        target=f"collection/{cid}",
        detail={"records": sum(1 for o in objs if o["type"] == "incident"), "to_org": to_org},
    )
    body: dict[str, Any] = {"more": more, "objects": objs}
    if more:
        body["next"] = str(offset + per)
    headers = {}
    if page:
        headers["X-TAXII-Date-Added-First"] = _stamp(page[0][1])
        headers["X-TAXII-Date-Added-Last"] = _stamp(page[-1][1])
    return _taxii(body, headers=headers)
