"""One JSON error shape for every failure: :meth:`CorridorError.to_dict` (plus handlers)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from corridorguard.errors import CorridorError, NotFoundError, ValidationError

__all__ = ["ERROR_RESPONSES", "Unauthenticated", "error_response", "install_error_handlers"]


class Unauthenticated(CorridorError):
    """No valid bearer token (missing, unknown, expired or revoked)."""

    http_status = 401
    code = "unauthorized"


class MethodNotAllowed(CorridorError):
    """The route exists but not with this HTTP method."""

    http_status = 405
    code = "method_not_allowed"


def error_response(exc: CorridorError) -> JSONResponse:
    """The JSON error shape with the error's HTTP status."""
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    return JSONResponse(exc.to_dict(), status_code=exc.http_status, headers=headers)


def _loc(errors: list[Any]) -> str | None:
    if not errors:
        return None
    loc = [str(p) for p in errors[0].get("loc", ()) if p not in ("body", "query", "path")]
    return ".".join(loc) or None


async def _corridor(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CorridorError)
    return error_response(exc)


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    msg = errors[0].get("msg", "invalid request") if errors else "invalid request"
    return error_response(ValidationError(str(msg), field=_loc(errors)))


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return error_response(NotFoundError("not found"))
    if exc.status_code == 405:
        return error_response(MethodNotAllowed("method not allowed"))
    err = CorridorError(str(exc.detail))
    err.http_status = exc.status_code
    return error_response(err)


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through the one JSON shape."""
    app.add_exception_handler(CorridorError, _corridor)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)


_SHAPE: dict[str, Any] = {
    "type": "object",
    "required": ["ok", "status", "error", "message"],
    "properties": {
        "ok": {"type": "boolean"},
        "status": {"type": "integer"},
        "error": {"type": "string"},
        "message": {"type": "string"},
        "file": {"type": ["string", "null"]},
        "line": {"type": ["integer", "null"]},
        "field": {"type": ["string", "null"]},
    },
}
#: OpenAPI ``responses`` documenting the error shape on every route.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": why, "content": {"application/json": {"schema": _SHAPE}}}
    for code, why in (
        (400, "Bad request"),
        (401, "Missing or invalid bearer token"),
        (403, "Role or scope does not allow this"),
        (404, "No such record, or one the caller may not see (same body)"),
        (409, "Conflicts with the current state"),
        (422, "Invalid input"),
    )
}
