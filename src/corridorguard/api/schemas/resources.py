"""Schemas of sites, forecasts, movements and sensors: Create, Update and Public per resource.

Red line: a movement is **counts** (people, vehicles) between two nodes in a window, owned by a
force; there is no field for anything about an individual, and unknown fields are refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from corridorguard.api.schemas.marked import (
    JsonObject,
    Key,
    Label,
    MarkedCreate,
    MarkedPublic,
    Name,
    Strict,
    Text,
    UTCTime,
)

__all__ = [
    "ForecastCreate",
    "ForecastList",
    "ForecastPublic",
    "ForecastUpdate",
    "ForecastValue",
    "ForecastValueList",
    "MovementCreate",
    "MovementList",
    "MovementPublic",
    "MovementUpdate",
    "ScenarioSitesImport",
    "ScenarioSitesResult",
    "SensorCreate",
    "SensorList",
    "SensorPublic",
    "SensorUpdate",
    "SiteCreate",
    "SiteList",
    "SitePublic",
    "SiteUpdate",
]

Lon = Field(ge=-180, le=180, allow_inf_nan=False)
Lat = Field(ge=-90, le=90, allow_inf_nan=False)
Angle = Field(default=None, ge=0, le=360, allow_inf_nan=False)
Metres = Field(default=None, gt=0, le=1_000_000, allow_inf_nan=False)


class _Page(BaseModel):
    total: int
    limit: int
    offset: int


# ------------------------------------------------------------------ sites


class SiteCreate(MarkedCreate):
    """A protected site (port, bridge, power station, camp...). ``workers`` is a count."""

    name: Name
    type: Label
    lon: float = Lon
    lat: float = Lat
    criticality: float = Field(ge=0, le=5, allow_inf_nan=False)
    workers: int = Field(default=0, ge=0, le=1_000_000)
    operator: Name | None = None
    province: Key | None = None
    scenario: Key | None = None
    key: Key | None = None
    node: Key | None = None
    approximate: bool = True
    notional: bool = False
    description: Text = ""


class SiteUpdate(Strict):
    """Changeable fields of a site (by its originating organisation's editors)."""

    name: Name | None = None
    type: Label | None = None
    criticality: float | None = Field(default=None, ge=0, le=5, allow_inf_nan=False)
    workers: int | None = Field(default=None, ge=0, le=1_000_000)
    operator: Name | None = None
    description: Text | None = None
    approximate: bool | None = None
    notional: bool | None = None


class SitePublic(MarkedPublic):
    """A site as the API returns it."""

    name: str
    type: str
    lon: float
    lat: float
    criticality: float
    workers: int
    operator: str | None
    province: str | None
    scenario: str | None
    key: str | None
    node: str | None
    approximate: bool
    notional: bool
    description: str
    stix_id: str | None


class SiteList(_Page):
    """A page of sites."""

    items: list[SitePublic]


class ScenarioSitesImport(MarkedCreate):
    """Record the sites of a built-in scenario (``GET /scenarios``) under a marking."""

    scenario: Key


class ScenarioSitesResult(BaseModel):
    """Ids of the site records created, and of those already held (idempotent)."""

    scenario: str
    created: list[int]
    unchanged: list[int]


# ------------------------------------------------------------------ forecasts


class ForecastValue(Strict):
    """One forecast value: a grid cell (``key`` = cell id, centre lon/lat) or a road segment."""

    kind: Literal["cell", "segment"]
    key: Key
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    value: float = Field(ge=0, le=1e12, allow_inf_nan=False)

    @model_validator(mode="after")
    def _both(self) -> Self:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither")
        return self


class ForecastCreate(MarkedCreate):
    """A risk forecast: its metadata and its values (immutable once stored)."""

    name: Name
    model: Label
    scenario: Key | None = None
    valid_from: UTCTime
    valid_to: UTCTime
    unit: Label = "expected events"
    cell_m: float | None = Metres
    crs: Text | None = None
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    params: JsonObject = Field(default_factory=dict)
    description: Text = ""
    values: list[ForecastValue] = Field(min_length=1, max_length=50_000)

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        keys = [(v.kind, v.key) for v in self.values]
        if len(set(keys)) != len(keys):
            raise ValueError("each cell or segment appears once")
        return self


class ForecastUpdate(Strict):
    """A forecast's name and description may change; its values never do."""

    name: Name | None = None
    description: Text | None = None


class ForecastPublic(MarkedPublic):
    """A forecast's metadata (values: ``GET /forecasts/{id}/values``)."""

    name: str
    model: str
    scenario: str | None
    valid_from: datetime
    valid_to: datetime
    unit: str
    cell_m: float | None
    crs: str | None
    seed: int | None
    params: dict[str, object]
    description: str
    n_values: int


class ForecastList(_Page):
    """A page of forecasts."""

    items: list[ForecastPublic]


class ForecastValueList(_Page):
    """A page of one forecast's values."""

    items: list[ForecastValue]


# ------------------------------------------------------------------ movements


class MovementCreate(MarkedCreate):
    """A planned movement (convoy, worker shift) between two road-graph nodes: counts only."""

    name: Name
    scenario: Key | None = None
    origin: Key
    destination: Key
    window_start: UTCTime
    window_end: UTCTime
    people: int = Field(ge=0, le=100_000)
    vehicles: int = Field(default=1, ge=1, le=10_000)
    force: Name | None = None
    description: Text = ""

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        if self.origin == self.destination:
            raise ValueError("origin and destination differ")
        return self


class MovementUpdate(Strict):
    """Changeable fields of a movement (the window is checked against the stored one)."""

    name: Name | None = None
    window_start: UTCTime | None = None
    window_end: UTCTime | None = None
    people: int | None = Field(default=None, ge=0, le=100_000)
    vehicles: int | None = Field(default=None, ge=1, le=10_000)
    description: Text | None = None


class MovementPublic(MarkedPublic):
    """A movement as the API returns it."""

    name: str
    scenario: str | None
    origin: str
    destination: str
    window_start: datetime
    window_end: datetime
    people: int
    vehicles: int
    force: str
    description: str


class MovementList(_Page):
    """A page of movements."""

    items: list[MovementPublic]


# ------------------------------------------------------------------ sensors


class SensorCreate(MarkedCreate):
    """A camera, drone or checkpoint placement: at lon/lat, or on a road segment, or both."""

    name: Name
    kind: Literal["camera", "drone", "checkpoint"]
    status: Literal["planned", "active", "inactive"] = "planned"
    scenario: Key | None = None
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    segment: Key | None = None
    range_m: float | None = Metres
    azimuth_deg: float | None = Angle
    fov_deg: float | None = Angle
    parameters: JsonObject = Field(default_factory=dict)
    description: Text = ""

    @model_validator(mode="after")
    def _place(self) -> Self:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither")
        if self.lon is None and self.segment is None:
            raise ValueError("a sensor needs lon/lat or a segment")
        return self


class SensorUpdate(Strict):
    """Changeable fields of a sensor (a move is a new placement record)."""

    name: Name | None = None
    status: Literal["planned", "active", "inactive"] | None = None
    range_m: float | None = Metres
    azimuth_deg: float | None = Angle
    fov_deg: float | None = Angle
    parameters: JsonObject | None = None
    description: Text | None = None


class SensorPublic(MarkedPublic):
    """A sensor placement as the API returns it."""

    name: str
    kind: str
    status: str
    scenario: str | None
    lon: float | None
    lat: float | None
    segment: str | None
    range_m: float | None
    azimuth_deg: float | None
    fov_deg: float | None
    parameters: dict[str, object]
    description: str


class SensorList(_Page):
    """A page of sensors."""

    items: list[SensorPublic]
