"""STIX 2.1 export and import, Cursor-on-Target export and TAK push of every shared record kind.

* ``GET /stix/export?include=incidents&include=sites&include=plans&to_org=`` — a STIX bundle
  of incidents, sites and plans' public parts (TLP 2.0 marking definitions included);
* ``POST /stix/bundles`` — import a bundle's incidents, sites and plans' public parts
  (versioned by STIX ``modified``; see :mod:`._stix_import`);
* ``GET /cot/export?include=incidents&include=sites&include=routes&include=sensors&to_org=`` —
  CoT events of incidents, sites, sensor placements and the planned patrol routes of plans
  (approved ones unless ``plan_status`` says otherwise), in one ``<events>`` document;
* ``GET /shared-plans``, ``GET /shared-plans/{id}`` — partners' plans' public parts received
  over STIX/TAXII (read only; never plans of this instance);
* ``POST /tak/push`` — send a selection as CoT to the configured TAK server
  (:class:`~corridorguard.sharing.tak.TakSettings`), only what may pass on to its audience.

Every path loads records through :mod:`._loaders` (the one policy, compiled to SQL) and the
sharing layer's ``releasable``; every export and push is audited with counts, never contents.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from corridorguard.api.context import ServerContext, Tx
from corridorguard.api.deps import (
    Caller,
    Ctx,
    RecordId,
    clean_query,
    require_role,
    require_scope,
)
from corridorguard.api.errors import ERROR_RESPONSES
from corridorguard.api.idempotency import idempotent_post
from corridorguard.api.queries import iso
from corridorguard.api.routes._loaders import (
    load_incidents,
    load_plans,
    load_sensors,
    load_shared_plans,
    load_sites,
)
from corridorguard.api.routes._marked import (
    IDEMPOTENCY,
    Resource,
    common_filters,
    get_record,
    list_records,
    read_check,
)
from corridorguard.api.routes._stix_import import (
    INCIDENT_ROLES,
    PLAN_ROLES,
    SITE_ROLES,
    StixBundleIn,
    StixImportResult,
    check_roles,
    parse_bundle,
    run_import,
)
from corridorguard.api.schemas.marked import MarkedPublic, RecordIdIn, Strict
from corridorguard.errors import ConfigError, ConflictError, CorridorError, ImportRejected
from corridorguard.sharing.cot import cot_events
from corridorguard.sharing.policy import Role, releasable
from corridorguard.sharing.records import IncidentRecord, RouteRecord, SensorRecord, SiteRecord
from corridorguard.sharing.stix import export_stix
from corridorguard.sharing.tak import TakSettings, push_to_tak
from corridorguard.store.identity import Identity
from corridorguard.store.shared import SHARED_PLANS

router = APIRouter(tags=["sharing"], responses=ERROR_RESPONSES, dependencies=[Depends(clean_query)])

STIX_MEDIA = "application/stix+json;version=2.1"
PUSHERS = frozenset({Role.ANALYST, Role.PLANNER, Role.COMMANDER})
PlanStatus = Literal["draft", "proposed", "approved", "rejected"]
StixKind = Literal["incidents", "sites", "plans"]
CotKind = Literal["incidents", "sites", "routes", "sensors"]


class _Stix(Response):
    media_type = STIX_MEDIA


class _Xml(Response):
    media_type = "application/xml"


class TakUnavailable(CorridorError):
    """The configured TAK server could not be reached."""

    http_status = 502
    code = "tak_unavailable"


def _audit(ctx: ServerContext, who: Identity, action: str, detail: dict[str, Any]) -> None:
    ctx.audit.record(action, who, detail=detail)


@router.get(
    "/stix/export",
    response_class=_Stix,
    responses={200: {"content": {STIX_MEDIA: {"schema": {"type": "object"}}}}},
    summary="STIX 2.1 bundle of incidents, sites and plans' public parts",
)
def stix_export(
    request: Request,
    ctx: Ctx,
    who: Caller,
    include: Annotated[list[StixKind] | None, Query(max_length=3)] = None,
    to_org: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """What the caller may see (and, with ``to_org``, pass on to it), with TLP 2.0 markings.

    Plans travel as their public parts only (``course-of-action``: metadata, status,
    approvals, area summary), never unit schedules.
    """
    read_check(ctx, request, who)
    kinds = set(include or ("incidents", "sites", "plans"))
    inc = load_incidents(ctx, who) if "incidents" in kinds else []
    sit = load_sites(ctx, who) if "sites" in kinds else []
    pla = [p for p, _ in load_plans(ctx, who)] if "plans" in kinds else []
    pla += load_shared_plans(ctx, who) if "plans" in kinds else []
    bundle = export_stix(who.actor, incidents=inc, sites=sit, plans=pla, to_org=to_org)
    counts = {
        kind: sum(1 for o in bundle.get("objects", []) if o.type == stype)
        for kind, stype in (
            ("incidents", "incident"),
            ("sites", "infrastructure"),
            ("plans", "course-of-action"),
        )
    }
    _audit(ctx, who, "export.stix", {"records": counts, "to_org": to_org})
    return _Stix(bundle.serialize())


@router.post(
    "/stix/bundles",
    response_model=StixImportResult,
    openapi_extra=IDEMPOTENCY,
    summary="Import a STIX 2.1 bundle (incidents, sites, plans' public parts)",
)
def stix_import(body: StixBundleIn, request: Request, ctx: Ctx, who: Caller) -> JSONResponse:
    """All or nothing; markings kept; the originator is the caller's organisation. A newer
    ``modified`` under a held STIX id is a new version (``updated``); the same or an older one
    is ``unchanged``; an id held from another organisation is refused. Plans land as read-only
    shared plan summaries, never as plans of ours."""
    require_scope(ctx, request, who, "write")
    require_role(ctx, request, who, INCIDENT_ROLES | SITE_ROLES | PLAN_ROLES)
    payload = body.model_dump(mode="json")
    try:
        parsed = parse_bundle(payload, who)
        check_roles(ctx, request, who, parsed)
        return idempotent_post(
            ctx, request, who, payload, lambda tx: run_import(tx, who, payload, parsed)
        )
    except ImportRejected as exc:  # nothing written; the refusal is audited
        detail = {"rows": len(exc.rows), "bundle": str(payload.get("id"))[:100]}
        ctx.audit.record("stix.import", who, outcome="rejected", detail=detail)
        raise


# ------------------------------------------------------------------ shared plan summaries


class SharedApproval(BaseModel):
    """A decision on a partner's plan, as the partner reported it."""

    org: str
    decision: str
    time: str


class SharedSummary(BaseModel):
    """The area-level summary of a partner's plan (counts and bounding box)."""

    patrols: int = 0
    checkpoints: int = 0
    sensors: int = 0
    bbox: list[float] | None = None


class SharedPlanPublic(MarkedPublic):
    """The public parts of another organisation's plan, received over STIX/TAXII (read only:
    never a plan of this instance; ``status`` and ``approvals`` are the sender's statement)."""

    stix_id: str
    title: str
    status: str
    version: int
    lineage: str
    forces: list[str]
    created: datetime
    decided: datetime | None
    modified: datetime
    approvals: list[SharedApproval]
    summary: SharedSummary


class SharedPlanList(BaseModel):
    """A page of shared plan summaries."""

    items: list[SharedPlanPublic]
    total: int
    limit: int
    offset: int


def _shared_fields(m: Any) -> dict[str, Any]:
    summary = m["summary"] if isinstance(m["summary"], dict) else {}
    return {
        "stix_id": m["stix_id"],
        "title": m["title"],
        "status": m["status"],
        "version": m["version"],
        "lineage": m["lineage"],
        "forces": list(m["forces"]),
        "created": iso(m["created"]),
        "decided": iso(m["decided"]) if m["decided"] else None,
        "modified": iso(m["modified"]),
        "approvals": [
            dict(zip(("org", "decision", "time"), a, strict=False)) for a in m["approvals"]
        ],
        "summary": summary,
    }


SHARED_PLAN = Resource(SHARED_PLANS, _shared_fields)


@router.get(
    "/shared-plans", response_model=SharedPlanList, summary="Partners' plans (public parts)"
)
def list_shared_plans(
    request: Request,
    ctx: Ctx,
    who: Caller,
    originator: Annotated[str | None, Query(max_length=200)] = None,
    tlp: Annotated[list[str] | None, Query(max_length=5)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Shared plan summaries the caller may see (received by STIX upload or partner sync)."""
    conds = common_filters(
        SHARED_PLAN, tlp=tlp, originator=originator, q=q, text_columns=("title",)
    )
    return list_records(ctx, request, who, SHARED_PLAN, conds, limit=limit, offset=offset)


@router.get(
    "/shared-plans/{plan_id}", response_model=SharedPlanPublic, summary="One partner's plan"
)
def get_shared_plan(plan_id: RecordId, request: Request, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """One shared plan summary, if the caller may see it (else 404, like a missing one)."""
    return get_record(ctx, request, who, SHARED_PLAN, plan_id)


def _selection(
    ctx: ServerContext,
    who: Identity,
    kinds: AbstractSet[str],
    plan_statuses: list[str],
    ids: dict[str, list[int]] | None = None,
) -> tuple[list[IncidentRecord], list[SiteRecord], list[RouteRecord], list[SensorRecord]]:
    pick = ids or {}
    inc = load_incidents(ctx, who, pick.get("incidents")) if "incidents" in kinds else []
    sit = load_sites(ctx, who, pick.get("sites")) if "sites" in kinds else []
    sen = load_sensors(ctx, who, pick.get("sensors")) if "sensors" in kinds else []
    routes: list[RouteRecord] = []
    if "routes" in kinds:
        for _plan, rs in load_plans(ctx, who, pick.get("plans"), statuses=plan_statuses):
            routes.extend(rs)
    return inc, sit, routes, sen


@router.get(
    "/cot/export",
    response_class=_Xml,
    summary="Cursor-on-Target events of incidents, sites and planned patrol routes",
)
def cot_export(
    request: Request,
    ctx: Ctx,
    who: Caller,
    include: Annotated[list[CotKind] | None, Query(max_length=4)] = None,
    plan_status: Annotated[list[PlanStatus] | None, Query(max_length=4)] = None,
    to_org: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """CoT XML events in one ``<events>`` element (markings in remarks and ``__corridorguard``)."""
    read_check(ctx, request, who)
    kinds = set(include or ("incidents", "sites", "routes", "sensors"))
    inc, sit, routes, sen = _selection(ctx, who, kinds, list(plan_status or ["approved"]))
    events = cot_events(
        who.actor, incidents=inc, sites=sit, routes=routes, sensors=sen, to_org=to_org
    )
    _audit(ctx, who, "export.cot", {"records": len(events), "to_org": to_org})
    body = b"".join(e.split(b"?>", 1)[1] if e.startswith(b"<?xml") else e for e in events)
    return _Xml(b"<?xml version='1.0' encoding='UTF-8'?>\n<events>" + body + b"</events>")


def _all_kinds() -> list[CotKind]:
    return ["incidents", "sites", "routes", "sensors"]


def _approved() -> list[PlanStatus]:
    return ["approved"]


class TakSelection(Strict):
    """What to push: record kinds, optionally only some ids per kind (``plans`` for routes)."""

    include: list[CotKind] = Field(default_factory=lambda: _all_kinds(), max_length=4)
    incidents: list[RecordIdIn] | None = Field(default=None, max_length=10_000)
    sites: list[RecordIdIn] | None = Field(default=None, max_length=10_000)
    plans: list[RecordIdIn] | None = Field(default=None, max_length=10_000)
    sensors: list[RecordIdIn] | None = Field(default=None, max_length=10_000)
    plan_status: list[PlanStatus] = Field(default_factory=lambda: _approved(), max_length=4)


class TakPushResult(BaseModel):
    """Events sent to the TAK server, per kind, and the server's audience."""

    audience: str
    events: int
    incidents: int
    sites: int
    routes: int
    sensors: int


def tak_settings(request: Request) -> TakSettings:
    """The TAK settings: ``app.state.tak`` when set (tests, embedding), else the environment."""
    found = getattr(request.app.state, "tak", None)
    return found if isinstance(found, TakSettings) else TakSettings()


@router.post(
    "/tak/push",
    response_model=TakPushResult,
    openapi_extra=IDEMPOTENCY,
    responses={
        502: {"description": "TAK server unreachable", **ERROR_RESPONSES[409]},
    },
    summary="Send records as CoT to the configured TAK server",
)
def tak_push(body: TakSelection, request: Request, ctx: Ctx, who: Caller) -> JSONResponse:
    """Only records the caller may pass on to the TAK server's audience are sent.

    With an ``Idempotency-Key``, a retry gets the first answer and sends nothing again.
    """
    require_scope(ctx, request, who, "write")
    require_role(ctx, request, who, PUSHERS)
    tak = tak_settings(request)
    if not tak.url or not tak.audience:
        raise ConflictError("no TAK server is configured (CORRIDORGUARD_TAK_URL, _AUDIENCE)")
    payload = body.model_dump(mode="json")
    if request.headers.get("idempotency-key") is not None:
        fresh: list[bool] = []

        def probe(_tx: Tx) -> tuple[int, Any]:
            fresh.append(True)  # not seen before: push, then store the answer under the key
            return 0, None

        answer = idempotent_post(ctx, request, who, payload, probe)
        if not fresh:  # a replay (a 409 is raised for another request under the same key)
            return answer
    pick = {
        "incidents": body.incidents, "sites": body.sites, "plans": body.plans,
        "sensors": body.sensors,
    }  # fmt: skip
    ids = {k: v for k, v in pick.items() if v is not None}
    inc, sit, routes, sen = _selection(ctx, who, set(body.include), list(body.plan_status), ids)
    aud = tak.audience
    inc, sit = releasable(who.actor, inc, to_org=aud), releasable(who.actor, sit, to_org=aud)
    routes = releasable(who.actor, routes, to_org=aud)
    sen = releasable(who.actor, sen, to_org=aud)
    detail = {
        "audience": aud, "incidents": len(inc), "sites": len(sit), "routes": len(routes),
        "sensors": len(sen),
    }  # fmt: skip
    try:
        sent = push_to_tak(
            who.actor,
            tak.url,
            to_org=aud,
            incidents=inc,
            sites=sit,
            routes=routes,
            sensors=sen,
            tls=tak.tls(),
            timeout=tak.timeout,
        )
    except ConfigError as exc:
        ctx.audit.record("tak.push", who, outcome="failed", detail={**detail, "why": exc.message})
        raise TakUnavailable(exc.message) from None

    def done(tx: Tx) -> tuple[int, Any]:
        tx.audit("tak.push", who, detail=detail)
        return 200, {**detail, "events": sent}

    return idempotent_post(ctx, request, who, payload, done)
