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
import re
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from corridorguard.api.context import ServerContext
from corridorguard.api.deps import OPERATIONAL, Caller, Ctx, require_role, require_scope
from corridorguard.api.errors import ERROR_RESPONSES
from corridorguard.api.routes._taxii_records import (
    KINDS,
    Entry,
    decode,
    encode,
    held_versions,
    kinds_for_types,
    page,
    resolve_ids,
)
from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.sharing.policy import TLP, releasable
from corridorguard.sharing.records import parse_time
from corridorguard.sharing.stix import head_objects, stix_time
from corridorguard.sharing.versions import listed_versions, served_versions
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
            "description": f"Every incident, site and plan summary visible to {who.org}",
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
            "description": f"Incidents, sites and plan summaries {who.org} may pass on to {org}",
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
            "description": "Incidents, sites and plans' public parts under TLP 2.0 and REL-TO",
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


_MATCH = Annotated[str | None, Query(max_length=4000)]
_TYPE = re.compile(r"^[a-z][a-z0-9-]{1,249}$")
_ID = re.compile(r"^[a-z][a-z0-9-]{1,249}--[0-9a-fA-F-]{36}$")


def _split(value: str | None, fld: str, pattern: re.Pattern[str]) -> set[str] | None:
    if value is None:
        return None
    parts = {p.strip() for p in value.split(",")}
    if not parts or not all(pattern.match(p) for p in parts):
        raise ValidationError(f"{fld}: comma-separated values of the right form", field=fld)
    return parts


def _version_spec(value: str | None) -> tuple[set[str], set[datetime]]:
    """``match[version]``: keywords (last, first, all) and timestamps (default: last)."""
    words: set[str] = set()
    stamps: set[datetime] = set()
    for p in (value or "last").split(","):
        p = p.strip()
        if p in ("last", "first", "all"):
            words.add(p)
            continue
        try:
            stamps.add(parse_time(p, field_name="match[version]"))
        except ValidationError:
            raise ValidationError(
                "match[version]: last, first, all or STIX timestamps", field="match[version]"
            ) from None
        if "T" not in p:
            raise ValidationError("match[version]: a STIX timestamp", field="match[version]")
    return words, stamps


def _after_utc(added_after: datetime | None) -> None:
    if added_after is not None and added_after.tzinfo is None:
        raise ValidationError("added_after needs a UTC offset (e.g. Z)", field="added_after")


def _envelope(
    ctx: ServerContext,
    who: Identity,
    coll: dict[str, Any],
    entries: list[Entry],
    *,
    types: set[str] | None,
    ids: set[str] | None,
    spec: tuple[set[str], set[datetime]],
    added_after: datetime | None = None,
    limit: int | None = None,
) -> tuple[list[dict[str, Any]], list[Entry], Entry | None]:
    """Objects of the releasable entries (in date-added order) that pass the filters, the
    entries served, and the entry the page was cut after (``None``: not cut).

    ``match[version]`` picks versions per record (:func:`served_versions`: earlier versions
    only under the current marking *and* their own, served under the stricter of the two).
    Records with many versions could exceed ``limit`` objects: the page then ends after the
    last whole record that fits (at least one)."""
    to_org = coll.get("x_corridorguard_to_org")
    words, stamps = spec
    allowed = [e for e in entries if releasable(who.actor, [e.record], to_org=to_org)]
    held = held_versions(ctx, allowed) if words != {"last"} or stamps else {}
    keep: list[Entry] = []
    body: list[dict[str, Any]] = []
    pairs: set[tuple[TLP, str]] = set()

    def wanted(o: dict[str, Any]) -> bool:
        return (types is None or o["type"] in types) and (ids is None or o["id"] in ids)

    for e in allowed:
        chosen = served_versions(
            who.actor,
            e.record,
            held.get((e.kind, e.row_id), []),
            words=words,
            stamps=stamps,
            to_org=to_org,
            added_after=added_after,
        )
        if not chosen:
            continue
        objs = [o for v in chosen for o in v.objects if wanted(o)]
        more_pairs = pairs | {(v.marking.tlp, v.marking.originator) for v in chosen}
        heads = 2 * len(more_pairs)  # at most one marking definition and one identity each
        if keep and limit is not None and len(body) + len(objs) + heads > limit:
            return _with_head(body, pairs, wanted), keep, keep[-1]
        keep.append(e)
        pairs = more_pairs
        body += objs
    return _with_head(body, pairs, wanted), keep, None


def _with_head(
    body: list[dict[str, Any]], pairs: set[tuple[TLP, str]], wanted: Any
) -> list[dict[str, Any]]:
    """The marking definitions and identities ``pairs`` reference, then ``body``."""
    head = [json.loads(o.serialize()) for o in head_objects((), more=pairs)]
    return [o for o in head if wanted(o)] + body


@router.get("/api1/collections/{cid}/objects/", summary="Objects of a TAXII collection")
def objects(
    cid: str,
    request: Request,
    ctx: Ctx,
    who: Caller,
    added_after: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    next: Annotated[
        str | None, Query(max_length=60, pattern=r"^[0-9]{1,20}\.[0-9]\.[0-9]{1,18}$")
    ] = None,
    match_type: Annotated[str | None, Query(alias="match[type]", max_length=4000)] = None,
    match_id: Annotated[str | None, Query(alias="match[id]", max_length=4000)] = None,
    match_version: Annotated[str | None, Query(alias="match[version]", max_length=4000)] = None,
) -> Response:
    """An envelope of STIX objects of incidents, sites and plans' public parts, in date-added
    order; filter with ``added_after``, ``match[type]``, ``match[id]``, ``match[version]``
    (``last`` (default), ``first``, ``all`` or ``modified`` timestamps: the versions held);
    page with ``limit`` and ``next`` (by record: a page holds every selected version of its
    records)."""
    _check(ctx, request, who)
    coll = _collection(ctx, who, cid)
    _after_utc(added_after)
    types = _split(match_type, "match[type]", _TYPE)
    ids = _split(match_id, "match[id]", _ID)
    spec = _version_spec(match_version)
    cursor = decode(next) if next else None
    only = resolve_ids(ctx, who, ids) if ids is not None else None
    entries, more = page(
        ctx,
        who,
        kinds=kinds_for_types(types),
        added_after=added_after,
        cursor=cursor,
        size=max(1, limit // 5),  # a record is <= 3 objects (+ its marking and identity)
        only=only,
    )
    objs, keep, cut = _envelope(
        ctx,
        who,
        coll,
        entries,
        types=types,
        ids=ids,
        spec=spec,
        added_after=added_after,
        limit=limit,
    )
    to_org = coll.get("x_corridorguard_to_org")
    ctx.audit.record(
        "export.taxii",
        who,
        target=f"collection/{cid}",
        detail={"records": _counts(keep), "to_org": to_org},
    )
    more = more or cut is not None
    body: dict[str, Any] = {"more": more, "objects": objs}
    if more:
        body["next"] = encode((cut or entries[-1]).key)
    headers = {}
    if keep:
        headers["X-TAXII-Date-Added-First"] = _stamp(keep[0].added)
        headers["X-TAXII-Date-Added-Last"] = _stamp(keep[-1].added)
    return _taxii(body, headers=headers)


def _counts(entries: list[Entry]) -> dict[str, int]:
    out = dict.fromkeys(KINDS, 0)
    for e in entries:
        out[e.kind] += 1
    return out


def _one(ctx: ServerContext, who: Identity, coll: dict[str, Any], object_id: str) -> Entry:
    """The record exporting ``object_id`` in this collection (404 alike for unseen/missing)."""
    missing = NotFoundError(f"no object {object_id}")
    if not _ID.match(object_id):
        raise missing
    only = resolve_ids(ctx, who, {object_id})
    entries, _ = page(ctx, who, kinds=set(KINDS), added_after=None, cursor=None, size=10, only=only)
    to_org = coll.get("x_corridorguard_to_org")
    for e in entries:
        if releasable(who.actor, [e.record], to_org=to_org):
            return e
    raise missing


@router.get("/api1/collections/{cid}/objects/{object_id}/", summary="One object (TAXII)")
def get_object(
    cid: str,
    object_id: str,
    request: Request,
    ctx: Ctx,
    who: Caller,
    match_version: Annotated[str | None, Query(alias="match[version]", max_length=4000)] = None,
) -> Response:
    """An envelope with the object (its newest version; ``match[version]`` as for objects)."""
    _check(ctx, request, who)
    coll = _collection(ctx, who, cid)
    spec = _version_spec(match_version)
    entry = _one(ctx, who, coll, object_id)
    objs, keep, _cut = _envelope(ctx, who, coll, [entry], types=None, ids={object_id}, spec=spec)
    ctx.audit.record(
        "export.taxii",
        who,
        target=f"collection/{cid}",
        detail={"records": _counts(keep), "to_org": coll.get("x_corridorguard_to_org")},
    )
    headers = {}
    if keep:
        headers["X-TAXII-Date-Added-First"] = headers["X-TAXII-Date-Added-Last"] = _stamp(
            entry.added
        )
    return _taxii({"more": False, "objects": objs}, headers=headers)


@router.get(
    "/api1/collections/{cid}/objects/{object_id}/versions/",
    summary="Versions of one object (TAXII)",
)
def object_versions(cid: str, object_id: str, request: Request, ctx: Ctx, who: Caller) -> Response:
    """Every version (``modified``) of the object the caller may know of, oldest first
    (``stix_versions`` and the current one; earlier versions only if releasable under their
    own marking too)."""
    _check(ctx, request, who)
    coll = _collection(ctx, who, cid)
    entry = _one(ctx, who, coll, object_id)
    held = held_versions(ctx, [entry]).get((entry.kind, entry.row_id), [])
    to_org = coll.get("x_corridorguard_to_org")
    listed = listed_versions(who.actor, entry.record, held, to_org=to_org)
    return _taxii({"more": False, "versions": [stix_time(v) for v in listed]})
