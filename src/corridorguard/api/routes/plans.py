"""``/api/v1/plans``: plans with approval (draft -> proposed -> approved | rejected).

* Planners and commanders create drafts for their own force (``forces`` must include the
  caller's organisation); a joint plan names two forces, and AMBER plans are automatically
  released to the other force (it must see the plan to approve it). Joint plans cannot be RED.
* Drafts are edited by those :func:`~corridorguard.sharing.policy.editable_clause` allows, and
  proposed by them.
* A commander of each force approves (or one rejects) a proposed plan; a force decides once.
* Approved and rejected versions are immutable (the database refuses the UPDATE too); a change
  is a new draft version: ``POST /plans/{id}/versions``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Select, func, select

from corridorguard.api.context import ServerContext, Tx
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
from corridorguard.api.queries import iso
from corridorguard.api.reads import RecordList
from corridorguard.api.routes._loaders import plan_version
from corridorguard.api.routes._marked import get_record_fast
from corridorguard.api.routes._stix_store import keep_version
from corridorguard.api.schemas.plans import (
    PlanCreate,
    PlanDecision,
    PlanList,
    PlanPublic,
    PlanUpdate,
)
from corridorguard.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from corridorguard.sharing.policy import Actor, Role, editable_clause, visibility_clause
from corridorguard.sharing.stix import record_modified
from corridorguard.store.identity import Identity, OrgRow, UserRow
from corridorguard.store.plans import (
    PLAN_MARKING,
    PlanApprovalRow,
    PlanRedRow,
    PlanRelToRow,
    PlanRow,
)

router = APIRouter(
    prefix="/plans", tags=["plans"], responses=ERROR_RESPONSES, dependencies=[Depends(clean_query)]
)

PLANNERS = frozenset({Role.PLANNER, Role.COMMANDER})
_P = PlanRow.__table__


def _visible(actor: Actor) -> Select[Any]:
    return select(PlanRow).where(visibility_clause(actor, PLAN_MARKING))


def _public(tx_or_session: Any, plan: PlanRow) -> dict[str, Any]:
    s = tx_or_session
    rel = sorted(s.scalars(select(PlanRelToRow.org).where(PlanRelToRow.plan_id == plan.id)))
    red = sorted(s.scalars(select(PlanRedRow.user_id).where(PlanRedRow.plan_id == plan.id)))
    approvals = [
        {
            "org": a.org,
            "username": a.username,
            "decision": a.decision,
            "decided_at": iso(a.decided_at),
        }
        for a in s.scalars(
            select(PlanApprovalRow)
            .where(PlanApprovalRow.plan_id == plan.id)
            .order_by(PlanApprovalRow.decided_at, PlanApprovalRow.org)
        )
    ]
    return {
        "id": plan.id,
        "lineage": plan.lineage,
        "version": plan.version,
        "title": plan.title,
        "description": plan.description,
        "forces": list(plan.forces),
        "content": plan.content,
        "status": plan.status,
        "originator": plan.originator,
        "tlp": plan.tlp,
        "rel_to": rel,
        "red_recipients": red,
        "created_by": plan.created_by,
        "created_at": iso(plan.created_at),
        "decided_at": iso(plan.decided_at) if plan.decided_at else None,
        "approvals": approvals,
    }


def _check_marking(tx: Tx, who: Identity, body: PlanCreate) -> list[str]:
    """Validate forces, REL-TO and recipients; the REL-TO list actually stored."""
    if who.org not in body.forces:
        raise ValidationError("your organisation must be one of the plan's forces", field="forces")
    names = set(body.forces) | set(body.rel_to)
    pairs = tx.session.execute(select(OrgRow.name, OrgRow.kind).where(OrgRow.name.in_(names)))
    kinds: dict[str, str] = {row[0]: row[1] for row in pairs}
    unknown = sorted(n for n in names if n not in kinds)
    if unknown:
        raise ValidationError(f"unknown organisation(s): {', '.join(unknown)}", field="rel_to")
    if any(kinds[f] != "agency" for f in body.forces):
        raise ValidationError("forces must be agencies", field="forces")
    others = [f for f in body.forces if f != who.org]
    if others and body.tlp == "RED":
        raise ValidationError("a joint plan cannot be TLP:RED", field="tlp")
    if body.red_recipients:
        if body.tlp != "RED":
            raise ValidationError("red_recipients are for TLP:RED only", field="red_recipients")
        users = select(UserRow.username).where(UserRow.username.in_(body.red_recipients))
        found = set(tx.session.scalars(users))
        missing = [u for u in body.red_recipients if u not in found]
        if missing:
            raise ValidationError(f"unknown user(s): {', '.join(missing)}", field="red_recipients")
    rel = list(body.rel_to)
    if body.tlp in ("AMBER", "AMBER+STRICT"):
        rel += [f for f in others if f not in rel]
    return rel


def _add_version(
    tx: Tx,
    who: Identity,
    *,
    lineage: str,
    version: int,
    base: dict[str, Any],
    rel_to: list[str],
    red: list[str],
) -> PlanRow:
    now = datetime.now(UTC)
    row = PlanRow(
        lineage=lineage,
        version=version,
        title=base["title"],
        description=base["description"],
        forces=tuple(base["forces"]),
        content=base["content"],
        status="draft",
        originator=who.org,
        tlp=base["tlp"],
        created_by=who.username,
        created_at=now,
        decided_at=None,
        modified=now,
    )
    tx.session.add(row)
    tx.session.flush()
    for org in rel_to:
        tx.session.add(PlanRelToRow(plan_id=row.id, org=org))
    for user in red:
        tx.session.add(PlanRedRow(plan_id=row.id, user_id=user))
    tx.session.flush()
    return row


_IDEMPOTENCY = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
        }
    ]
}


@router.post("", status_code=201, response_model=PlanPublic, openapi_extra=_IDEMPOTENCY)
def create_plan(body: PlanCreate, request: Request, ctx: Ctx, who: Caller) -> JSONResponse:
    """Create a draft plan for the caller's force (or a joint one)."""
    require_scope(ctx, request, who, "write")
    require_role(ctx, request, who, PLANNERS)

    def run(tx: Tx) -> tuple[int, Any]:
        rel = _check_marking(tx, who, body)
        row = _add_version(
            tx,
            who,
            lineage=str(uuid.uuid4()),
            version=1,
            base=body.model_dump(),
            rel_to=rel,
            red=body.red_recipients,
        )
        tx.audit("plan.create", who, target=f"plan/{row.id}", detail={"forces": list(row.forces)})
        return 201, _public(tx.session, row)

    return idempotent_post(ctx, request, who, body.model_dump(mode="json"), run)


PLAN_LIST = RecordList(
    "plan", _P, PLAN_MARKING, PlanList, ((_P.c.id, True),), approvals=PlanApprovalRow.__table__
)


@router.get("", response_model=PlanList)
async def list_plans(
    request: Request,
    ctx: Ctx,
    who: Caller,
    status: Annotated[str | None, Query(pattern="^(draft|proposed|approved|rejected)$")] = None,
    lineage: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Plans the caller may see (newest first)."""
    await authorize(ctx, request, who, "read", OPERATIONAL)

    def conds() -> list[Any]:
        found = []
        if status is not None:
            found.append(_P.c.status == status)
        if lineage is not None:
            found.append(_P.c.lineage == lineage)
        return found

    reads = ctx.reads
    key = (status, lineage)
    body = await reads.run(reads.records, PLAN_LIST, who.actor, key, conds, limit, offset)
    return Response(body, media_type="application/json")


def _deny_missing(ctx: ServerContext, who: Identity, plan_id: int, action: str) -> NotFoundError:
    ctx.audit.record(action, who, target=f"plan/{plan_id}", outcome="denied")
    return NotFoundError(f"no plan {plan_id}")


@router.get("/{plan_id}", response_model=PlanPublic)
async def get_plan(plan_id: RecordId, request: Request, ctx: Ctx, who: Caller) -> Response:
    """One plan version, if the caller may see it."""
    deny = lambda: _deny_missing(ctx, who, plan_id, "plan.read")  # noqa: E731
    return await get_record_fast(ctx, request, who, PLAN_LIST, plan_id, deny)


def _mutate(
    ctx: ServerContext,
    request: Request,
    who: Identity,
    plan_id: int,
    action: str,
    payload: Any,
    change: Any,
    *,
    status: int = 200,
) -> JSONResponse:
    """Run ``change(tx, plan)`` on a plan the caller can see; denials are audited, then raised."""
    denial: list[Exception] = []

    def run(tx: Tx) -> tuple[int, Any]:
        plan = tx.session.scalar(_visible(who.actor).where(PlanRow.id == plan_id).with_for_update())
        if plan is None:
            tx.audit(action, who, target=f"plan/{plan_id}", outcome="denied")
            denial.append(NotFoundError(f"no plan {plan_id}"))
            return 0, None
        before = plan_version(tx.session.connection(), plan.id)
        try:
            out = change(tx, plan)
        except (PermissionDenied, ConflictError) as exc:
            tx.audit(
                action, who, target=f"plan/{plan_id}", outcome="denied", detail={"why": exc.message}
            )
            denial.append(exc)
            return 0, None
        if out.id == plan.id:
            _new_stix_version(tx, plan, before)
        tx.audit(action, who, target=f"plan/{out.id}", detail={"status": out.status})
        return status, _public(tx.session, out)

    if request.headers.get("idempotency-key") is not None:
        response = idempotent_post(ctx, request, who, payload, run)
    else:
        with ctx.audit.transaction() as tx:
            code, body = run(tx)
        response = JSONResponse(body, status_code=code)
    if denial:
        raise denial[0]
    return response


def _new_stix_version(tx: Tx, plan: PlanRow, before: Any) -> None:
    """A change to a plan version's public part (edit, proposal, decision) is a new STIX
    version of it: ``modified`` (its TAXII date added) strictly after the version replaced,
    and both versions' objects kept in ``stix_versions`` (partners polling with
    ``added_after`` get it; ``match[version]`` serves the earlier one)."""
    conn = tx.session.connection()
    keep_version(conn, "plan", plan.id, before, record_modified(before))
    keep_version(conn, "plan", plan.id, plan_version(conn, plan.id), _modified(plan))


def _restamp(plan: PlanRow) -> None:
    """Set the new version's ``modified`` (strictly after the current one); called by every
    change to a plan version after its checks, before the write (an approved or rejected
    version is immutable in the database, so the stamp goes with the decision's own write)."""
    previous = _modified(plan)
    plan.modified = max(datetime.now(UTC), previous + timedelta(milliseconds=1))


def _modified(plan: PlanRow) -> datetime:
    """A plan version's STIX ``modified`` (as :func:`~corridorguard.sharing.stix.record_modified`
    reads it from its sharing record)."""
    return plan.modified or plan.decided_at or plan.created_at


def _editable(tx: Tx, who: Identity, plan: PlanRow) -> None:
    ok = tx.session.scalar(
        select(PlanRow.id).where(PlanRow.id == plan.id, editable_clause(who.actor, PLAN_MARKING))
    )
    if ok is None or who.role not in PLANNERS | {Role.ADMIN}:
        raise PermissionDenied("you may read this plan but not change it")


@router.patch("/{plan_id}", response_model=PlanPublic)
def update_plan(
    plan_id: RecordId, body: PlanUpdate, request: Request, ctx: Ctx, who: Caller
) -> JSONResponse:
    """Change a draft. Proposed, approved and rejected versions cannot change (409)."""
    require_scope(ctx, request, who, "write")
    require_role(ctx, request, who, OPERATIONAL)

    def change(tx: Tx, plan: PlanRow) -> PlanRow:
        _editable(tx, who, plan)
        if plan.status != "draft":
            raise ConflictError(
                f"a {plan.status} plan cannot change; POST /plans/{plan.id}/versions for a new one"
            )
        for k, v in body.model_dump(exclude_unset=True).items():
            if v is None:
                raise ValidationError(f"{k} cannot be null", field=k)
            setattr(plan, k, v)
        _restamp(plan)
        tx.session.flush()
        return plan

    return _mutate(ctx, request, who, plan_id, "plan.update", body.model_dump(), change)


@router.post("/{plan_id}/propose", response_model=PlanPublic, openapi_extra=_IDEMPOTENCY)
def propose(plan_id: RecordId, request: Request, ctx: Ctx, who: Caller) -> JSONResponse:
    """Submit a draft for approval by the forces' commanders."""
    require_scope(ctx, request, who, "write")
    require_role(ctx, request, who, OPERATIONAL)

    def change(tx: Tx, plan: PlanRow) -> PlanRow:
        _editable(tx, who, plan)
        if plan.status != "draft":
            raise ConflictError(f"only a draft can be proposed (this one is {plan.status})")
        plan.status = "proposed"
        _restamp(plan)
        tx.session.flush()
        return plan

    return _mutate(ctx, request, who, plan_id, "plan.propose", {}, change)


def _decide(decision: str) -> Any:
    def change_for(who: Identity) -> Any:
        def change(tx: Tx, plan: PlanRow) -> PlanRow:
            if who.role is not Role.COMMANDER or who.org not in plan.forces:
                raise PermissionDenied("only a commander of one of the plan's forces decides")
            if plan.status != "proposed":
                raise ConflictError(
                    f"only a proposed plan can be decided (this one is {plan.status})"
                )
            done = tx.session.get(PlanApprovalRow, (plan.id, who.org))
            if done is not None:
                raise ConflictError(f"{who.org} has already decided on this plan")
            _restamp(plan)
            now = datetime.now(UTC)
            tx.session.add(
                PlanApprovalRow(
                    plan_id=plan.id,
                    org=who.org,
                    username=who.username,
                    decision=decision,
                    decided_at=now,
                )
            )
            tx.session.flush()
            approved = set(
                tx.session.scalars(
                    select(PlanApprovalRow.org).where(
                        PlanApprovalRow.plan_id == plan.id, PlanApprovalRow.decision == "approve"
                    )
                )
            )
            if decision == "reject":
                plan.status, plan.decided_at = "rejected", now
            elif approved >= set(plan.forces):
                plan.status, plan.decided_at = "approved", now
            tx.session.flush()
            return plan

        return change

    return change_for


@router.post("/{plan_id}/approve", response_model=PlanPublic, openapi_extra=_IDEMPOTENCY)
def approve(
    plan_id: RecordId, body: PlanDecision, request: Request, ctx: Ctx, who: Caller
) -> JSONResponse:
    """A commander of one of the forces approves; the plan is approved once every force has."""
    require_scope(ctx, request, who, "write")
    require_role(ctx, request, who, OPERATIONAL)
    return _mutate(
        ctx, request, who, plan_id, "plan.approve", body.model_dump(), _decide("approve")(who)
    )


@router.post("/{plan_id}/reject", response_model=PlanPublic, openapi_extra=_IDEMPOTENCY)
def reject(
    plan_id: RecordId, body: PlanDecision, request: Request, ctx: Ctx, who: Caller
) -> JSONResponse:
    """A commander of one of the forces rejects the plan."""
    require_scope(ctx, request, who, "write")
    require_role(ctx, request, who, OPERATIONAL)
    return _mutate(
        ctx, request, who, plan_id, "plan.reject", body.model_dump(), _decide("reject")(who)
    )


@router.post(
    "/{plan_id}/versions", status_code=201, response_model=PlanPublic, openapi_extra=_IDEMPOTENCY
)
def new_version(
    plan_id: RecordId, body: PlanUpdate, request: Request, ctx: Ctx, who: Caller
) -> JSONResponse:
    """A new draft version of a plan (same lineage), with the given changes."""
    require_scope(ctx, request, who, "write")
    require_role(ctx, request, who, OPERATIONAL)

    def change(tx: Tx, plan: PlanRow) -> PlanRow:
        _editable(tx, who, plan)
        top = tx.session.scalar(
            select(func.max(PlanRow.version)).where(PlanRow.lineage == plan.lineage)
        )
        base = {
            "title": plan.title,
            "description": plan.description,
            "forces": list(plan.forces),
            "content": plan.content,
            "tlp": plan.tlp,
        }
        for k, v in body.model_dump(exclude_unset=True).items():
            if v is None:
                raise ValidationError(f"{k} cannot be null", field=k)
            base[k] = v
        rel = list(
            tx.session.scalars(select(PlanRelToRow.org).where(PlanRelToRow.plan_id == plan.id))
        )
        red = list(
            tx.session.scalars(select(PlanRedRow.user_id).where(PlanRedRow.plan_id == plan.id))
        )
        return _add_version(
            tx, who, lineage=plan.lineage, version=int(top or 0) + 1, base=base, rel_to=rel, red=red
        )

    return _mutate(
        ctx, request, who, plan_id, "plan.version", body.model_dump(), change, status=201
    )
