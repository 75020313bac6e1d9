"""``/api/v1/sensors``: camera, drone and checkpoint placements (planned or in service).

A placement is at lon/lat, on a road segment of a scenario, or both, with optional range,
azimuth and field of view and free ``parameters`` (JSON). Planners and commanders record
placements; a move is a new placement (status, coverage parameters and texts may change).
Every read goes through the one policy.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from corridorguard.api.deps import OPERATIONAL, Caller, Ctx, RecordId, authorize, clean_query
from corridorguard.api.errors import ERROR_RESPONSES
from corridorguard.api.reads import RecordList
from corridorguard.api.routes._marked import (
    IDEMPOTENCY,
    Resource,
    common_filters,
    create_record,
    get_record_fast,
    parse_bbox,
    record_not_found,
    update_record,
)
from corridorguard.api.schemas.resources import SensorCreate, SensorList, SensorPublic, SensorUpdate
from corridorguard.sharing.policy import Role
from corridorguard.store.resources import SENSORS

router = APIRouter(
    prefix="/sensors",
    tags=["sensors"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(clean_query)],
)

PLACERS = frozenset({Role.PLANNER, Role.COMMANDER})
_FIELDS = (
    "name", "kind", "status", "scenario", "lon", "lat", "segment", "range_m", "azimuth_deg",
    "fov_deg", "parameters", "description",
)  # fmt: skip
SENSOR = Resource(SENSORS, lambda m: {k: m[k] for k in _FIELDS})


@router.post("", status_code=201, response_model=SensorPublic, openapi_extra=IDEMPOTENCY)
def create_sensor(body: SensorCreate, request: Request, ctx: Ctx, who: Caller) -> JSONResponse:
    """Record a sensor placement."""
    values = body.model_dump(exclude={"tlp", "rel_to", "red_recipients"})
    return create_record(ctx, request, who, SENSOR, body, values, roles=PLACERS)


_C = SENSORS.table.c
SENSOR_LIST = RecordList("sensor", SENSORS.table, SENSORS.marking, SensorList, ((_C.id, False),))


@router.get("", response_model=SensorList, summary="List and search sensors")
async def list_sensors(
    request: Request,
    ctx: Ctx,
    who: Caller,
    scenario: Annotated[str | None, Query(max_length=100)] = None,
    kind: Annotated[list[Literal["camera", "drone", "checkpoint"]] | None, Query()] = None,
    status: Annotated[Literal["planned", "active", "inactive"] | None, Query()] = None,
    segment: Annotated[str | None, Query(max_length=100)] = None,
    tlp: Annotated[list[str] | None, Query(max_length=5)] = None,
    originator: Annotated[str | None, Query(max_length=200)] = None,
    bbox: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Sensors the caller may see, with optional filters."""
    parse_bbox(bbox)  # a malformed box: 422 (before the role check, as before)
    await authorize(ctx, request, who, "read", OPERATIONAL)
    key = (scenario, tuple(kind or ()), status, segment, tuple(tlp or ()), originator, bbox, q)

    def conds() -> list[Any]:
        found = common_filters(
            SENSOR, tlp=tlp, originator=originator, scenario=scenario, bbox=bbox, q=q
        )
        if kind:
            found.append(_C.kind.in_(list(kind)))
        if status is not None:
            found.append(_C.status == status)
        if segment is not None:
            found.append(_C.segment == segment)
        return found

    reads = ctx.reads
    body = await reads.run(reads.records, SENSOR_LIST, who.actor, key, conds, limit, offset)
    return Response(body, media_type="application/json")


@router.get("/{sensor_id}", response_model=SensorPublic, summary="One sensor")
async def get_sensor(sensor_id: RecordId, request: Request, ctx: Ctx, who: Caller) -> Response:
    """One sensor, if the caller may see it (else 404, like a missing one)."""
    return await get_record_fast(
        ctx,
        request,
        who,
        SENSOR_LIST,
        sensor_id,
        lambda: record_not_found(ctx, who, SENSOR, sensor_id),
    )


@router.patch("/{sensor_id}", response_model=SensorPublic, summary="Change a sensor")
def update_sensor(
    sensor_id: RecordId, body: SensorUpdate, request: Request, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """Change status, coverage parameters or texts (the originating organisation's editors)."""
    values = body.model_dump(exclude_unset=True)
    return update_record(ctx, request, who, SENSOR, sensor_id, values)
