"""``/api/v1/audit``: signed checkpoints, entries (oversight and admins), inclusion and
consistency proofs. A partner or oversight body keeps the checkpoints it fetches and checks
proofs against them with nothing but the public key (``GET /audit/public-key``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from corridorguard.api.deps import Caller, Ctx, require_role, require_scope
from corridorguard.api.errors import ERROR_RESPONSES
from corridorguard.audit.checkpoint import public_key_pem
from corridorguard.audit.verify import ConsistencyProof, InclusionProof
from corridorguard.errors import NotFoundError
from corridorguard.sharing.policy import Role

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERROR_RESPONSES)
_READERS = frozenset({Role.OVERSIGHT, Role.ADMIN})
_MAX = 2**62


@router.get("/checkpoint", summary="Newest signed checkpoint")
def checkpoint(request: Request, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """The newest signed checkpoint (signs one now if none covers the current size)."""
    require_scope(ctx, request, who, "read")
    with ctx.audit.transaction() as tx:
        log = tx.service.log
        cp = log.latest_checkpoint()
        if cp is None or cp.size != log.size:
            cp = log.checkpoint()
    return cp.to_dict()


@router.get("/public-key", response_class=PlainTextResponse, summary="Checkpoint public key")
def public_key(request: Request, ctx: Ctx, who: Caller) -> str:
    """The Ed25519 public key (PEM) that signs checkpoints."""
    require_scope(ctx, request, who, "read")
    return public_key_pem(ctx.audit.signer.public_key).decode("ascii")


@router.get("/checkpoints", summary="Every signed checkpoint")
def checkpoints(request: Request, ctx: Ctx, who: Caller) -> list[dict[str, Any]]:
    """All checkpoints, oldest first."""
    require_scope(ctx, request, who, "read")
    return [cp.to_dict() for cp in ctx.audit.sql.checkpoints()]


@router.get("/entries", summary="Audit entries (oversight and admins)")
def entries(
    request: Request,
    ctx: Ctx,
    who: Caller,
    start: Annotated[int, Query(ge=0, le=_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Entries ``start .. start+limit`` with their leaf hashes."""
    require_scope(ctx, request, who, "read")
    require_role(ctx, request, who, _READERS)
    records = ctx.audit.sql.read(start, start + limit)
    ctx.audit.record("audit.read", who, detail={"start": start, "count": len(records)})
    return {
        "size": ctx.audit.sql.size(),
        "entries": [{"entry": r.entry(), "leaf": r.leaf_hash.hex()} for r in records],
    }


@router.get("/proof/inclusion", summary="Inclusion proof of one entry")
def inclusion(
    request: Request,
    ctx: Ctx,
    who: Caller,
    index: Annotated[int, Query(ge=0, le=_MAX)],
    size: Annotated[int | None, Query(ge=1, le=_MAX)] = None,
) -> dict[str, Any]:
    """Proof that entry ``index`` is in the tree of ``size`` entries (default: current)."""
    require_scope(ctx, request, who, "read")
    with ctx.audit.reading() as log:
        n = log.size if size is None else size
        if n > log.size or index >= n:
            raise NotFoundError(f"no entry {index} in a tree of {n}", field="index")
        proof = InclusionProof(
            index, n, log.record(index).leaf_hash, log.root(n), log.inclusion_proof(index, n)
        )
    return proof.to_dict()


@router.get("/proof/consistency", summary="Consistency proof between two sizes")
def consistency(
    request: Request,
    ctx: Ctx,
    who: Caller,
    old: Annotated[int, Query(ge=0, le=_MAX)],
    new: Annotated[int | None, Query(ge=0, le=_MAX)] = None,
) -> dict[str, Any]:
    """Proof that the tree of ``old`` entries is a prefix of the tree of ``new``."""
    require_scope(ctx, request, who, "read")
    with ctx.audit.reading() as log:
        n = log.size if new is None else new
        if n > log.size or old > n:
            raise NotFoundError(f"need old <= new <= {log.size}", field="new")
        proof = ConsistencyProof(old, n, log.root(old), log.root(n), log.consistency_proof(old, n))
    return proof.to_dict()
