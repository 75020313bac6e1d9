"""``POST /api/v1/auth/token``: log in with user name and password, get a scoped token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from corridorguard.api.deps import Ctx
from corridorguard.api.errors import ERROR_RESPONSES, Unauthenticated
from corridorguard.api.schemas.common import NoNul
from corridorguard.store.identity import SCOPES, OrgRow, create_token, verify_password

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERROR_RESPONSES)


class LoginRequest(BaseModel):
    """User name, password and optional scopes / lifetime of the token."""

    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, NoNul] = Field(min_length=1, max_length=100)
    password: Annotated[str, NoNul] = Field(min_length=1, max_length=1000)
    scopes: list[str] | None = Field(default=None, max_length=len(SCOPES))
    expires_days: float = Field(default=1.0, gt=0, le=30)


class TokenPublic(BaseModel):
    """A new token: shown once, only its hash is kept."""

    token: str
    scopes: list[str]
    expires_at: str


@router.post("/token", status_code=201, response_model=TokenPublic, summary="Log in")
def login(body: LoginRequest, request: Request, ctx: Ctx) -> Any:
    """Exchange a password for a token (every attempt is audited)."""
    with ctx.audit.transaction() as tx:
        user = verify_password(tx.session, body.username, body.password)
        if user is None:
            tx.audit(
                "login",
                None,
                outcome="denied",
                detail={"username": body.username[:100], "client": _client(request)},
            )
            secret = None
        else:
            scopes = tuple(body.scopes) if body.scopes else None
            secret, row = create_token(
                tx.session, user.username, scopes=scopes, expires_days=body.expires_days
            )
            org = tx.session.get(OrgRow, user.org_id)
            tx.audit(
                "login",
                None,
                actor=(user.username, org.name if org else ""),
                target=f"user/{user.username}",
                detail={"token": row.id, "client": _client(request)},
            )
            out = {
                "token": secret,
                "scopes": list(row.scopes),
                "expires_at": row.expires_at.isoformat(),
            }
    if secret is None:
        raise Unauthenticated("wrong user name or password")
    return JSONResponse(out, status_code=201)


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None
