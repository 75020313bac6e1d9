"""``/api/v1/orgs`` and ``/api/v1/users``: organisations (names are needed for REL-TO) and users.

Any authenticated caller may list organisation names and kinds. Admins (role and ``admin``
scope) create organisations and manage the users of **their own** organisation only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from corridorguard.api.context import Tx
from corridorguard.api.deps import Caller, Ctx, clean_query, require_role, require_scope
from corridorguard.api.errors import ERROR_RESPONSES
from corridorguard.api.idempotency import idempotent_post
from corridorguard.api.schemas.common import NoNul
from corridorguard.sharing.policy import Role
from corridorguard.store.identity import OrgRow, UserRow, create_org, create_user

router = APIRouter(
    tags=["organisations and users"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(clean_query)],
)
_ADMIN = frozenset({Role.ADMIN})


class OrgCreate(BaseModel):
    """A new organisation."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, NoNul] = Field(min_length=1, max_length=200)
    kind: Literal["agency", "oversight"] = "agency"


class OrgPublic(BaseModel):
    """An organisation."""

    id: int
    name: str
    kind: str


class UserCreate(BaseModel):
    """A new user of the admin's own organisation."""

    model_config = ConfigDict(extra="forbid")
    username: Annotated[str, NoNul] = Field(min_length=1, max_length=100)
    role: Literal["reporter", "analyst", "planner", "commander", "admin"]
    password: Annotated[str, NoNul] = Field(min_length=12, max_length=1000)


class UserPublic(BaseModel):
    """A user (never the password hash)."""

    id: int
    username: str
    org: str
    role: str
    active: bool


@router.get("/orgs", response_model=list[OrgPublic], summary="List organisations")
def list_orgs(request: Request, ctx: Ctx, who: Caller) -> Any:
    """Organisation names and kinds (for REL-TO lists)."""
    require_scope(ctx, request, who, "read")
    with ctx.store.session(write=False) as s:
        return [
            {"id": o.id, "name": o.name, "kind": o.kind}
            for o in s.scalars(select(OrgRow).order_by(OrgRow.id))
        ]


@router.post("/orgs", status_code=201, response_model=OrgPublic, summary="Add an organisation")
def add_org(body: OrgCreate, request: Request, ctx: Ctx, who: Caller) -> JSONResponse:
    """Admins only."""
    require_scope(ctx, request, who, "admin")
    require_role(ctx, request, who, _ADMIN)

    def run(tx: Tx) -> tuple[int, Any]:
        row = create_org(tx.session, body.name, kind=body.kind)
        tx.audit("org.create", who, target=f"org/{row.id}", detail={"name": row.name})
        return 201, {"id": row.id, "name": row.name, "kind": row.kind}

    return idempotent_post(ctx, request, who, body.model_dump(), run)


@router.get("/users", response_model=list[UserPublic], summary="Users of my organisation")
def list_users(request: Request, ctx: Ctx, who: Caller) -> Any:
    """Admins see the users of their own organisation."""
    require_scope(ctx, request, who, "admin")
    require_role(ctx, request, who, _ADMIN)
    with ctx.store.session(write=False) as s:
        stmt = (
            select(UserRow, OrgRow.name)
            .join(OrgRow, OrgRow.id == UserRow.org_id)
            .where(OrgRow.name == who.org)
            .order_by(UserRow.id)
        )
        return [
            {"id": u.id, "username": u.username, "org": o, "role": u.role, "active": u.active}
            for u, o in s.execute(stmt)
        ]


@router.post("/users", status_code=201, response_model=UserPublic, summary="Add a user")
def add_user(body: UserCreate, request: Request, ctx: Ctx, who: Caller) -> JSONResponse:
    """Admins add users to their own organisation (never another's)."""
    require_scope(ctx, request, who, "admin")
    require_role(ctx, request, who, _ADMIN)

    def run(tx: Tx) -> tuple[int, Any]:
        row = create_user(
            tx.session, body.username, org=who.org, role=body.role, password=body.password
        )
        tx.audit("user.create", who, target=f"user/{row.username}", detail={"role": row.role})
        return 201, {
            "id": row.id,
            "username": row.username,
            "org": who.org,
            "role": row.role,
            "active": True,
        }

    payload = body.model_dump()
    payload["password"] = "<redacted>"
    return idempotent_post(ctx, request, who, payload, run)
