"""``/api/v1/forecasts``: risk forecasts (metadata + per-cell / per-segment values).

Analysts and planners issue forecasts (e.g. the output of ``corridorguard risk``); the values
are stored in ``forecast_values`` and never change (the database refuses UPDATE and DELETE):
a new forecast is a new record. Name and description may be corrected. Every read goes through
the one policy (:mod:`corridorguard.api.routes._marked`); the values of a forecast the caller
may not see answer the same 404 as a missing forecast.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, insert, select

from corridorguard.api.context import Tx
from corridorguard.api.deps import OPERATIONAL, Caller, Ctx, RecordId, authorize, clean_query
from corridorguard.api.errors import ERROR_RESPONSES
from corridorguard.api.queries import iso, visible_rows
from corridorguard.api.reads import RecordList
from corridorguard.api.routes._marked import (
    IDEMPOTENCY,
    Resource,
    common_filters,
    create_record,
    get_record,
    get_record_fast,
    record_not_found,
    update_record,
)
from corridorguard.api.schemas.resources import (
    ForecastCreate,
    ForecastList,
    ForecastPublic,
    ForecastUpdate,
    ForecastValueList,
)
from corridorguard.errors import ValidationError
from corridorguard.sharing.policy import Role
from corridorguard.store.resources import FORECAST_VALUES, FORECASTS

router = APIRouter(
    prefix="/forecasts",
    tags=["forecasts"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(clean_query)],
)

FORECASTERS = frozenset({Role.ANALYST, Role.PLANNER})
_FIELDS = (
    "name", "model", "scenario", "unit", "cell_m", "crs", "seed", "params", "description",
    "n_values",
)  # fmt: skip
FORECAST = Resource(
    FORECASTS,
    lambda m: {
        **{k: m[k] for k in _FIELDS},
        "valid_from": iso(m["valid_from"]),
        "valid_to": iso(m["valid_to"]),
    },
)
_V = FORECAST_VALUES.c


@router.post("", status_code=201, response_model=ForecastPublic, openapi_extra=IDEMPOTENCY)
def create_forecast(body: ForecastCreate, request: Request, ctx: Ctx, who: Caller) -> JSONResponse:
    """Issue a forecast with its values; originator, creator and timestamps from the caller."""
    values = body.model_dump(exclude={"tlp", "rel_to", "red_recipients", "values"})
    values["n_values"] = len(body.values)

    def add_values(tx: Tx, rid: int) -> None:
        rows = [{"forecast_id": rid, "idx": k, **v.model_dump()} for k, v in enumerate(body.values)]
        tx.session.execute(insert(FORECAST_VALUES), rows)

    return create_record(
        ctx, request, who, FORECAST, body, values, roles=FORECASTERS, after=add_values
    )


_C = FORECASTS.table.c
FORECAST_LIST = RecordList(
    "forecast",
    FORECASTS.table,
    FORECASTS.marking,
    ForecastList,
    ((_C.valid_from, True), (_C.id, False)),
)


@router.get("", response_model=ForecastList, summary="List and search forecasts")
async def list_forecasts(
    request: Request,
    ctx: Ctx,
    who: Caller,
    scenario: Annotated[str | None, Query(max_length=100)] = None,
    model: Annotated[str | None, Query(max_length=64)] = None,
    valid_at: datetime | None = None,
    tlp: Annotated[list[str] | None, Query(max_length=5)] = None,
    originator: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Forecasts the caller may see (newest window first); ``valid_at`` keeps those whose
    window holds that time."""
    if valid_at is not None and valid_at.tzinfo is None:
        raise ValidationError("valid_at needs a UTC offset (e.g. Z)", field="valid_at")
    await authorize(ctx, request, who, "read", OPERATIONAL)
    key = (scenario, model, valid_at, tuple(tlp or ()), originator, q)

    def conds() -> list[Any]:
        found = common_filters(FORECAST, tlp=tlp, originator=originator, scenario=scenario, q=q)
        if model is not None:
            found.append(_C.model == model)
        if valid_at is not None:
            found += [_C.valid_from <= valid_at, _C.valid_to > valid_at]
        return found

    reads = ctx.reads
    body = await reads.run(reads.records, FORECAST_LIST, who.actor, key, conds, limit, offset)
    return Response(body, media_type="application/json")


@router.get("/{forecast_id}", response_model=ForecastPublic, summary="One forecast's metadata")
async def get_forecast(forecast_id: RecordId, request: Request, ctx: Ctx, who: Caller) -> Response:
    """One forecast, if the caller may see it (else 404, like a missing one)."""
    return await get_record_fast(
        ctx,
        request,
        who,
        FORECAST_LIST,
        forecast_id,
        lambda: record_not_found(ctx, who, FORECAST, forecast_id),
    )


@router.get(
    "/{forecast_id}/values", response_model=ForecastValueList, summary="A forecast's values"
)
def forecast_values(
    forecast_id: RecordId,
    request: Request,
    ctx: Ctx,
    who: Caller,
    order: Annotated[str, Query(pattern="^(idx|value)$")] = "idx",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Values of a visible forecast, in issue order or highest first (``order=value``)."""
    get_record(ctx, request, who, FORECAST, forecast_id)  # the policy check (404 if not visible)
    t = FORECASTS
    visible = visible_rows(who.actor, t.table.c.id, t.marking).where(t.table.c.id == forecast_id)
    stmt = select(_V.kind, _V.key, _V.lon, _V.lat, _V.value).where(
        _V.forecast_id.in_(visible.scalar_subquery())
    )
    by = (_V.value.desc(), _V.idx) if order == "value" else (_V.idx,)
    with ctx.store.read() as conn:
        total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = conn.execute(stmt.order_by(*by).limit(limit).offset(offset)).all()
    items = [dict(r._mapping) for r in rows]
    return {"items": items, "total": int(total), "limit": limit, "offset": offset}


@router.patch("/{forecast_id}", response_model=ForecastPublic, summary="Rename a forecast")
def update_forecast(
    forecast_id: RecordId, body: ForecastUpdate, request: Request, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """Change name or description; the values never change."""
    values = body.model_dump(exclude_unset=True)
    return update_record(ctx, request, who, FORECAST, forecast_id, values)
