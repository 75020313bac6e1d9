"""``Idempotency-Key`` on POST: a retried request gets the stored first answer, nothing is redone.

The key is scoped to the calling user. The first successful answer (status and JSON body) is
stored in the same transaction as the write it reports, so a crash cannot leave a write without
its key or a key without its write. Reusing a key for a different request (another path or
body) is a 409.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from corridorguard.api.context import ServerContext, Tx
from corridorguard.audit.entries import canonical_json
from corridorguard.errors import ConflictError, ValidationError
from corridorguard.store.identity import Identity
from corridorguard.store.marks import IdempotencyRow

__all__ = ["REPLAY_HEADER", "idempotent_post"]

REPLAY_HEADER = "Idempotency-Replayed"
Handler = Callable[[Tx], tuple[int, Any]]


def _request_hash(method: str, path: str, payload: Any) -> str:
    data = canonical_json({"method": method, "path": path, "payload": payload})
    return hashlib.sha256(data).hexdigest()


def idempotent_post(
    ctx: ServerContext,
    request: Request,
    who: Identity,
    payload: Any,
    handler: Handler,
) -> JSONResponse:
    """Run ``handler`` in one audited write transaction, honouring ``Idempotency-Key``."""
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= 200:
        raise ValidationError("Idempotency-Key must be 1-200 characters", field="Idempotency-Key")
    path = request.url.path
    digest = _request_hash(request.method, path, payload)
    with ctx.audit.transaction() as tx:
        if key is not None:
            row = tx.session.get(IdempotencyRow, (who.user_id, key))
            if row is not None:
                if row.request_hash != digest:
                    raise ConflictError(
                        "this Idempotency-Key was used for a different request",
                        field="Idempotency-Key",
                    )
                return JSONResponse(
                    json.loads(row.body), status_code=row.status, headers={REPLAY_HEADER: "true"}
                )
        status, body = handler(tx)
        if key is not None and body is not None:  # None: the handler refused (nothing stored)
            tx.session.add(
                IdempotencyRow(
                    user_id=who.user_id,
                    key=key,
                    method=request.method,
                    path=path[:500],
                    request_hash=digest,
                    status=status,
                    body=json.dumps(body, ensure_ascii=False),
                    created_at=datetime.now(UTC),
                )
            )
    return JSONResponse(body, status_code=status)
