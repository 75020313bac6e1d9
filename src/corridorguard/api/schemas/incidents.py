"""Incident schemas: what a caller may send (Create, Update) and what it gets back (Public).

Create and Update forbid unknown fields: provenance (originator, creator, timestamps, source) is
set by the server from the caller and can never come from a payload.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from corridorguard.api.schemas.common import NoNul, TLPName, check_names

__all__ = ["IncidentCreate", "IncidentList", "IncidentPublic", "IncidentUpdate", "TLPName"]

_Name = Field(min_length=1, max_length=200)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IncidentCreate(_Strict):
    """A new incident report. ``rel_to`` names organisations; ``red_recipients`` user names."""

    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    time: AwareDatetime
    type: Annotated[str, NoNul] = Field(min_length=1, max_length=128)
    description: Annotated[str, NoNul] = Field(default="", max_length=10_000)
    tlp: TLPName
    rel_to: list[str] = Field(default_factory=list, max_length=50)
    red_recipients: list[str] = Field(default_factory=list, max_length=50)
    fatalities: int | None = Field(default=None, ge=0, le=1_000_000)
    place: Annotated[str, NoNul] | None = Field(default=None, max_length=200)

    @field_validator("time")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        if not datetime(1900, 1, 1, tzinfo=UTC) <= v <= datetime(2200, 1, 1, tzinfo=UTC):
            raise ValueError("time must be between 1900 and 2200")
        return v.astimezone(UTC)

    @field_validator("rel_to", "red_recipients")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        return check_names(v)


class IncidentUpdate(_Strict):
    """Changeable fields of an incident (by its originating organisation's editors)."""

    type: Annotated[str, NoNul] | None = Field(default=None, min_length=1, max_length=128)
    description: Annotated[str, NoNul] | None = Field(default=None, max_length=10_000)
    fatalities: int | None = Field(default=None, ge=0, le=1_000_000)
    place: Annotated[str, NoNul] | None = Field(default=None, max_length=200)


class IncidentPublic(BaseModel):
    """An incident as the API returns it."""

    id: int
    time: datetime
    lon: float
    lat: float
    type: str
    description: str
    tlp: str
    rel_to: list[str]
    red_recipients: list[str]
    originator: str | None
    created_by: str | None
    created_at: datetime
    source: str
    fatalities: int | None
    place: str | None


class IncidentList(BaseModel):
    """A page of incidents."""

    items: list[IncidentPublic]
    total: int
    limit: int
    offset: int
