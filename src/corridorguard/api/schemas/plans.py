"""Plan schemas: Create, Update (drafts only), Decision and Public."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from corridorguard.api.schemas.common import JsonObject, NoNul, TLPName, check_names

__all__ = ["Approval", "PlanCreate", "PlanDecision", "PlanList", "PlanPublic", "PlanUpdate"]


class PlanCreate(BaseModel):
    """A new plan (a draft). ``forces``: the owning force(s), one or two organisations; the
    caller's organisation must be one of them. ``content``: the plan itself (patrols,
    checkpoints, sensor placements...) as JSON."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, NoNul] = Field(min_length=1, max_length=200)
    description: Annotated[str, NoNul] = Field(default="", max_length=10_000)
    forces: list[str] = Field(min_length=1, max_length=2)
    content: JsonObject = Field(default_factory=dict)
    tlp: TLPName
    rel_to: list[str] = Field(default_factory=list, max_length=50)
    red_recipients: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("forces", "rel_to", "red_recipients")
    @classmethod
    def _check(cls, v: list[str]) -> list[str]:
        return check_names(v)


class PlanUpdate(BaseModel):
    """Changes to a draft (or the changes a new version starts from)."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, NoNul] | None = Field(default=None, min_length=1, max_length=200)
    description: Annotated[str, NoNul] | None = Field(default=None, max_length=10_000)
    content: JsonObject | None = None


class PlanDecision(BaseModel):
    """A commander's approval or rejection, with an optional reason."""

    model_config = ConfigDict(extra="forbid")

    comment: Annotated[str, NoNul] = Field(default="", max_length=2000)


class Approval(BaseModel):
    """One force's decision."""

    org: str
    username: str
    decision: str
    decided_at: datetime


class PlanPublic(BaseModel):
    """A plan version as the API returns it."""

    id: int
    lineage: str
    version: int
    title: str
    description: str
    forces: list[str]
    content: dict[str, Any]
    status: str
    originator: str
    tlp: str
    rel_to: list[str]
    red_recipients: list[str]
    created_by: str
    created_at: datetime
    decided_at: datetime | None
    approvals: list[Approval]


class PlanList(BaseModel):
    """A page of plans."""

    items: list[PlanPublic]
    total: int
    limit: int
    offset: int
