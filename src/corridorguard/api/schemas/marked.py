"""Parts shared by the schemas of every marked resource (sites, forecasts, movements, sensors).

Create and Update models forbid unknown fields, so provenance (originator, creator, timestamps)
can never come from a payload. Texts refuse NUL characters (PostgreSQL cannot store them).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from corridorguard.api.schemas.common import (
    JsonObject,
    Key,
    Label,
    Name,
    RecordIdIn,
    Text,
    TLPName,
    UTCTime,
    check_names,
    no_nul_query,
)

__all__ = [
    "JsonObject",
    "Key",
    "Label",
    "MarkedCreate",
    "MarkedPublic",
    "Name",
    "RecordIdIn",
    "Strict",
    "Text",
    "UTCTime",
    "check_names",
    "no_nul_query",
]


class Strict(BaseModel):
    """Unknown fields are refused (422)."""

    model_config = ConfigDict(extra="forbid")


class MarkedCreate(Strict):
    """The marking of a new record: TLP 2.0, REL-TO organisations, RED recipients (user names)."""

    tlp: TLPName
    rel_to: list[str] = Field(default_factory=list, max_length=50)
    red_recipients: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("rel_to", "red_recipients")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        return check_names(v)


class MarkedPublic(BaseModel):
    """The marking and provenance every record returns (set by the server)."""

    id: int
    originator: str
    tlp: str
    rel_to: list[str]
    red_recipients: list[str]
    created_by: str
    created_at: datetime
    updated_at: datetime | None
