"""``/api/v1/sites``: protected sites as marked records (create, read, search, correct).

The built-in scenarios' sites (``GET /scenarios/{name}/sites``, public reference data) can be
recorded under a marking with ``POST /sites/from-scenario`` (idempotent: a site already
recorded by the caller's organisation is reported ``unchanged``). Reading goes through the one
policy (:mod:`corridorguard.api.routes._marked`). Analysts, planners and admins create sites.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from corridorguard.api.context import Tx
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
from corridorguard.api.reads import RecordList
from corridorguard.api.routes._loaders import site_version
from corridorguard.api.routes._marked import (
    IDEMPOTENCY,
    Resource,
    common_filters,
    create_record,
    get_record_fast,
    insert_record,
    parse_bbox,
    record_not_found,
    update_record,
)
from corridorguard.api.schemas.resources import (
    ScenarioSitesImport,
    ScenarioSitesResult,
    SiteCreate,
    SiteList,
    SitePublic,
    SiteUpdate,
)
from corridorguard.errors import NotFoundError
from corridorguard.scenario import builtin_scenarios, load_scenario
from corridorguard.sharing.policy import Role
from corridorguard.store.resources import SITES

router = APIRouter(
    prefix="/sites",
    tags=["sites"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(clean_query)],
)

SITE_EDITORS = frozenset({Role.ANALYST, Role.PLANNER, Role.ADMIN})
_FIELDS = (
    "name", "type", "lon", "lat", "criticality", "workers", "operator", "province",
    "scenario", "key", "node", "approximate", "notional", "description", "stix_id",
)  # fmt: skip
SITE = Resource(SITES, lambda m: {k: m[k] for k in _FIELDS}, version=site_version)
_MARKING = ("tlp", "rel_to", "red_recipients")


@router.post("", status_code=201, response_model=SitePublic, openapi_extra=IDEMPOTENCY)
def create_site(body: SiteCreate, request: Request, ctx: Ctx, who: Caller) -> JSONResponse:
    """Record a site; originator, creator and timestamps come from the caller."""
    values = body.model_dump(exclude=set(_MARKING))
    return create_record(ctx, request, who, SITE, body, values, roles=SITE_EDITORS)


@router.post(
    "/from-scenario",
    status_code=201,
    response_model=ScenarioSitesResult,
    openapi_extra=IDEMPOTENCY,
    summary="Record a built-in scenario's sites",
)
def from_scenario(
    body: ScenarioSitesImport, request: Request, ctx: Ctx, who: Caller
) -> JSONResponse:
    """Every site of a built-in scenario becomes a record of the caller's organisation."""
    require_scope(ctx, request, who, "write")
    require_role(ctx, request, who, SITE_EDITORS)
    if body.scenario not in builtin_scenarios():
        raise NotFoundError(f"no scenario {body.scenario!r}")
    sites = load_scenario(body.scenario).sites
    c = SITES.table.c

    def run(tx: Tx) -> tuple[int, Any]:
        held = dict(
            tx.session.execute(
                select(c.key, c.id).where(c.originator == who.org, c.scenario == body.scenario)
            ).all()
        )
        created, unchanged = [], []
        for s in sites:
            if s.id in held:
                unchanged.append(int(held[s.id]))
                continue
            values = {
                "name": s.name, "type": s.type, "lon": s.lon, "lat": s.lat,
                "criticality": s.criticality, "workers": s.workers, "operator": s.operator,
                "province": s.province, "scenario": body.scenario, "key": s.id, "node": s.node,
                "approximate": s.approximate, "notional": bool(s.notional_fields),
                "description": f"from built-in scenario {body.scenario}", "stix_id": None,
            }  # fmt: skip
            created.append(insert_record(tx, who, SITE, body, values))
        return 201, {"scenario": body.scenario, "created": created, "unchanged": unchanged}

    return idempotent_post(ctx, request, who, body.model_dump(mode="json"), run)


SITE_LIST = RecordList("site", SITES.table, SITES.marking, SiteList, ((SITES.table.c.id, False),))


@router.get("", response_model=SiteList, summary="List and search sites")
async def list_sites(
    request: Request,
    ctx: Ctx,
    who: Caller,
    scenario: Annotated[str | None, Query(max_length=100)] = None,
    type: Annotated[list[str] | None, Query(max_length=20)] = None,
    tlp: Annotated[list[str] | None, Query(max_length=5)] = None,
    originator: Annotated[str | None, Query(max_length=200)] = None,
    bbox: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Sites the caller may see, with optional filters."""
    parse_bbox(bbox)  # a malformed box: 422 (before the role check, as before)
    await authorize(ctx, request, who, "read", OPERATIONAL)
    key = (scenario, tuple(type or ()), tuple(tlp or ()), originator, bbox, q)

    def conds() -> list[Any]:
        found = common_filters(
            SITE, tlp=tlp, originator=originator, scenario=scenario, bbox=bbox, q=q
        )
        if type:
            found.append(SITES.table.c.type.in_(list(type)))
        return found

    body = await ctx.reads.run(ctx.reads.records, SITE_LIST, who.actor, key, conds, limit, offset)
    return Response(body, media_type="application/json")


@router.get("/{site_id}", response_model=SitePublic, summary="One site")
async def get_site(site_id: RecordId, request: Request, ctx: Ctx, who: Caller) -> Response:
    """One site, if the caller may see it (else 404, like a missing one)."""
    return await get_record_fast(
        ctx, request, who, SITE_LIST, site_id, lambda: record_not_found(ctx, who, SITE, site_id)
    )


@router.patch("/{site_id}", response_model=SitePublic, summary="Correct a site")
def update_site(
    site_id: RecordId, body: SiteUpdate, request: Request, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """Change descriptive fields (the originating organisation's editors only)."""
    values = body.model_dump(exclude_unset=True)
    return update_record(ctx, request, who, SITE, site_id, values)
