"""``/api/v1/movements``: planned movements (convoys, worker shifts) between road nodes.

Red line: a movement is counts (people, vehicles) between an origin and a destination node in a
time window, owned by a force; nothing about any individual is accepted (unknown fields are a
422). Planners and commanders record movements; the owning ``force`` must be an agency
(default: the caller's). Every read goes through the one policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import or_, select

from corridorguard.api.context import Tx
from corridorguard.api.deps import OPERATIONAL, Caller, Ctx, RecordId, authorize, clean_query
from corridorguard.api.errors import ERROR_RESPONSES
from corridorguard.api.queries import iso
from corridorguard.api.reads import RecordList
from corridorguard.api.routes._marked import (
    IDEMPOTENCY,
    Resource,
    common_filters,
    create_record,
    get_record_fast,
    record_not_found,
    update_record,
)
from corridorguard.api.schemas.resources import (
    MovementCreate,
    MovementList,
    MovementPublic,
    MovementUpdate,
)
from corridorguard.errors import ValidationError
from corridorguard.sharing.policy import Role
from corridorguard.store.identity import OrgRow
from corridorguard.store.resources import MOVEMENTS

router = APIRouter(
    prefix="/movements",
    tags=["movements"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(clean_query)],
)

MOVERS = frozenset({Role.PLANNER, Role.COMMANDER})
_FIELDS = (
    "name", "scenario", "origin", "destination", "people", "vehicles", "force", "description",
)  # fmt: skip
MOVEMENT = Resource(
    MOVEMENTS,
    lambda m: {
        **{k: m[k] for k in _FIELDS},
        "window_start": iso(m["window_start"]),
        "window_end": iso(m["window_end"]),
    },
)


@router.post("", status_code=201, response_model=MovementPublic, openapi_extra=IDEMPOTENCY)
def create_movement(body: MovementCreate, request: Request, ctx: Ctx, who: Caller) -> JSONResponse:
    """Record a planned movement (counts only)."""
    values = body.model_dump(exclude={"tlp", "rel_to", "red_recipients"})
    values["force"] = body.force or who.org

    def check_force(tx: Tx, _rid: int) -> None:
        kind = tx.session.scalar(select(OrgRow.kind).where(OrgRow.name == values["force"]))
        if kind != "agency":
            raise ValidationError("the owning force must be an agency", field="force")

    return create_record(ctx, request, who, MOVEMENT, body, values, roles=MOVERS, after=check_force)


_C = MOVEMENTS.table.c
MOVEMENT_LIST = RecordList(
    "movement",
    MOVEMENTS.table,
    MOVEMENTS.marking,
    MovementList,
    ((_C.window_start, False), (_C.id, False)),
)


@router.get("", response_model=MovementList, summary="List and search movements")
async def list_movements(
    request: Request,
    ctx: Ctx,
    who: Caller,
    scenario: Annotated[str | None, Query(max_length=100)] = None,
    force: Annotated[str | None, Query(max_length=200)] = None,
    node: Annotated[str | None, Query(max_length=100)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tlp: Annotated[list[str] | None, Query(max_length=5)] = None,
    originator: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Movements the caller may see (earliest window first); ``since``/``until`` keep windows
    overlapping them."""
    for name, t in (("since", since), ("until", until)):
        if t is not None and t.tzinfo is None:
            raise ValidationError("times need a UTC offset (e.g. Z)", field=name)
    await authorize(ctx, request, who, "read", OPERATIONAL)
    key = (scenario, force, node, since, until, tuple(tlp or ()), originator, q)

    def conds() -> list[Any]:
        found = common_filters(MOVEMENT, tlp=tlp, originator=originator, scenario=scenario, q=q)
        if force is not None:
            found.append(_C.force == force)
        if node is not None:
            found.append(or_(_C.origin == node, _C.destination == node))
        if since is not None:
            found.append(_C.window_end > since)
        if until is not None:
            found.append(_C.window_start < until)
        return found

    reads = ctx.reads
    body = await reads.run(reads.records, MOVEMENT_LIST, who.actor, key, conds, limit, offset)
    return Response(body, media_type="application/json")


@router.get("/{movement_id}", response_model=MovementPublic, summary="One movement")
async def get_movement(movement_id: RecordId, request: Request, ctx: Ctx, who: Caller) -> Response:
    """One movement, if the caller may see it (else 404, like a missing one)."""
    return await get_record_fast(
        ctx,
        request,
        who,
        MOVEMENT_LIST,
        movement_id,
        lambda: record_not_found(ctx, who, MOVEMENT, movement_id),
    )


def _window(current: Mapping[str, Any], values: dict[str, Any]) -> None:
    start = values.get("window_start", current["window_start"])
    end = values.get("window_end", current["window_end"])
    if end <= start:
        raise ValidationError("window_end must be after window_start", field="window_end")


@router.patch("/{movement_id}", response_model=MovementPublic, summary="Change a movement")
def update_movement(
    movement_id: RecordId, body: MovementUpdate, request: Request, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """Change name, window, counts or description (the originating organisation's editors)."""
    values = body.model_dump(exclude_unset=True)
    return update_record(ctx, request, who, MOVEMENT, movement_id, values, check=_window)
