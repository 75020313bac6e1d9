"""Request dependencies as typed aliases: the server context, the caller, role/scope checks.

``Caller`` is the authenticated :class:`~corridorguard.store.identity.Identity` (401 without a
valid bearer token, audited). Checks raise :class:`PermissionDenied` (403) for what a role may
never do; whether a *record* may be seen is the releasability policy's job (404).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from corridorguard.api.context import ServerContext
from corridorguard.api.errors import Unauthenticated
from corridorguard.api.schemas.common import no_nul_query
from corridorguard.errors import PermissionDenied
from corridorguard.sharing.policy import Role
from corridorguard.store.identity import Identity, hash_token

__all__ = [
    "OPERATIONAL",
    "Caller",
    "Ctx",
    "RecordId",
    "authorize",
    "get_caller",
    "get_ctx",
    "require_role",
    "require_scope",
]

OPERATIONAL = frozenset(Role) - {Role.OVERSIGHT}

#: A record id in a path: a positive 64-bit integer (larger ones are a 422, not a crash).
RecordId = Annotated[int, Path(ge=1, le=2**63 - 1)]

_bearer = HTTPBearer(auto_error=False, description="API token: `Authorization: Bearer TOKEN`")


async def get_ctx(request: Request) -> ServerContext:
    """The server context on ``app.state`` (async: no worker-thread hop for a lookup)."""
    ctx = request.app.state.ctx
    assert isinstance(ctx, ServerContext)
    return ctx


Ctx = Annotated[ServerContext, Depends(get_ctx)]


async def _resolve_once(ctx: ServerContext, token: str) -> Identity | None:
    """Look a token up in a worker thread, once for all the requests that wait on it.

    When a busy token's cache entry expires, every request in flight misses at the same moment;
    without this each took a worker thread and a pooled connection for the same lookup (up to
    the thread limit of 40 at once, contending for the GIL with the event loop).
    """
    key = hash_token(token)
    pending = ctx.lookups.get(key)
    if pending is None or pending.get_loop() is not asyncio.get_running_loop():
        pending = asyncio.ensure_future(run_in_threadpool(ctx.resolve_identity, token))
        ctx.lookups[key] = pending
        pending.add_done_callback(lambda _f: ctx.lookups.pop(key, None))
    return await asyncio.shield(pending)


async def get_caller(
    request: Request,
    ctx: Ctx,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Identity:
    """The caller behind the bearer token; 401 (audited) when there is none.

    A token seen in the last ``token_cache_seconds`` is answered from memory on the event loop
    (:meth:`ServerContext.cached_identity`); otherwise the lookup, like every audit write, runs
    in a worker thread so the event loop never waits on the database.
    """
    token = creds.credentials if creds is not None and creds.scheme.lower() == "bearer" else None
    who = ctx.cached_identity(token) if token else None
    if who is None and token:
        who = await _resolve_once(ctx, token)
    if who is None:
        detail = {
            "method": request.method,
            "path": request.url.path,
            "reason": "missing" if creds is None else "invalid",
        }
        await run_in_threadpool(
            ctx.audit.record, "auth.token", None, outcome="denied", detail=detail
        )
        raise Unauthenticated("a valid bearer token is required")
    if ctx.token_use_due(who.token_id):
        await run_in_threadpool(ctx.audit.record, "auth.token", who, target=f"token/{who.token_id}")
    request.state.caller = who
    return who


Caller = Annotated[Identity, Depends(get_caller)]


def _deny(ctx: ServerContext, request: Request, who: Identity, why: str) -> PermissionDenied:
    ctx.audit.record(
        "request.denied",
        who,
        outcome="denied",
        detail={"method": request.method, "path": request.url.path, "reason": why},
    )
    return PermissionDenied(why)


def require_scope(ctx: ServerContext, request: Request, who: Identity, scope: str) -> None:
    """403 (audited) unless the token carries ``scope``."""
    if scope not in who.scopes:
        raise _deny(ctx, request, who, f"the token lacks the {scope!r} scope")


def require_role(
    ctx: ServerContext, request: Request, who: Identity, roles: frozenset[Role] | set[Role]
) -> None:
    """403 (audited) unless the caller's role is one of ``roles``."""
    if who.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise _deny(ctx, request, who, f"role {who.role.value} may not do this ({allowed} may)")


async def authorize(
    ctx: ServerContext,
    request: Request,
    who: Identity,
    scope: str,
    roles: frozenset[Role] | set[Role],
) -> None:
    """:func:`require_scope` then :func:`require_role` for ``async`` endpoints: an allowed
    caller is checked on the event loop; a denial (an audit write) runs in a worker thread."""
    if scope in who.scopes and who.role in roles:
        return

    def deny() -> None:
        require_scope(ctx, request, who, scope)
        require_role(ctx, request, who, roles)

    await run_in_threadpool(deny)


async def clean_query(request: Request, who: Caller) -> None:
    """Router dependency: after authentication (an anonymous caller gets its 401 first), query
    and path values with NUL characters are a 422 (PostgreSQL cannot store or compare them)."""
    del who  # only here so that authentication runs first
    no_nul_query(request)
