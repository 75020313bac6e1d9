"""Field types shared by every API schema.

Texts refuse NUL characters: PostgreSQL cannot store them, so a NUL is the caller's error (422)
on both backends, never a server error.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Request
from pydantic import AfterValidator, AwareDatetime, Field

from corridorguard.errors import ValidationError

__all__ = [
    "JsonObject",
    "Key",
    "Label",
    "Name",
    "NoNul",
    "RecordIdIn",
    "TLPName",
    "Text",
    "UTCTime",
    "check_names",
    "no_nul_query",
]

TLPName = Literal["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]


def _no_nul(v: str) -> str:
    if "\x00" in v:
        raise ValueError("text may not contain NUL characters")
    return v


def _utc(v: datetime) -> datetime:
    if not datetime(1900, 1, 1, tzinfo=UTC) <= v <= datetime(2200, 1, 1, tzinfo=UTC):
        raise ValueError("time must be between 1900 and 2200")
    return v.astimezone(UTC)


def _json_object(v: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(v, ensure_ascii=False)
    if len(text) > 65_536:
        raise ValueError("at most 64 KiB of JSON")
    if "\x00" in text or "\\u0000" in text:
        raise ValueError("JSON may not contain NUL characters")
    return v


NoNul = AfterValidator(_no_nul)
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
Key = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_no_nul)]
Label = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_no_nul)]
RecordIdIn = Annotated[int, Field(ge=1, le=2**63 - 1)]
Text = Annotated[str, Field(max_length=10_000), AfterValidator(_no_nul)]
UTCTime = Annotated[AwareDatetime, AfterValidator(_utc)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_json_object)]


def check_names(v: list[str]) -> list[str]:
    """Organisation or user names: stripped, de-duplicated, 1-200 characters."""
    out = list(dict.fromkeys(_no_nul(s).strip() for s in v))
    if any(not s or len(s) > 200 for s in out):
        raise ValueError("names must be 1-200 characters")
    return out


def no_nul_query(request: Request) -> None:
    """Query or path values with NUL characters are a 422 (PostgreSQL refuses them); routers
    use it after authentication through :func:`corridorguard.api.deps.clean_query`."""
    for name, value in [*request.query_params.multi_items(), *request.path_params.items()]:
        if "\x00" in str(value):
            raise ValidationError(
                "query and path values may not contain NUL characters", field=name
            )
