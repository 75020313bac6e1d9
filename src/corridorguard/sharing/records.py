"""Plain records that the sharing formats read and write (not the store's models).

Each carries its releasability as a :class:`~corridorguard.sharing.policy.Marking` so that every
export can apply the one policy. Times are timezone-aware UTC; coordinates are WGS84 lon/lat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from corridorguard.errors import ValidationError
from corridorguard.sharing.policy import TLP, Marking

__all__ = [
    "IncidentRecord",
    "PlanRecord",
    "RouteRecord",
    "SensorRecord",
    "SiteRecord",
    "parse_time",
]


def parse_time(value: datetime | str, *, field_name: str = "time") -> datetime:
    """A timezone-aware UTC datetime from an ISO-8601 string or datetime (naive = UTC)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(f"not an ISO-8601 time: {value!r}", field=field_name) from None
    if not isinstance(value, datetime):
        raise ValidationError("time must be a datetime or ISO-8601 string", field=field_name)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _check_lonlat(lon: float, lat: float, where: str) -> None:
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ValidationError(f"lon/lat out of range: {lon}, {lat}", field=where)


@dataclass(frozen=True, kw_only=True)
class _MarkedRecord:
    tlp: TLP
    originator: str
    rel_to: frozenset[str] = field(default_factory=frozenset)
    red_recipients: frozenset[str] = field(default_factory=frozenset)
    created_by: str | None = None
    #: STIX ``modified`` of the version held (records received over STIX/TAXII keep the
    #: originator's); ``None``: the format's default (see ``sharing.stix``).
    modified: datetime | None = None

    def _normalise_marking(self) -> None:
        object.__setattr__(self, "tlp", TLP.parse(self.tlp))
        if self.modified is not None:
            object.__setattr__(self, "modified", parse_time(self.modified, field_name="modified"))
        object.__setattr__(self, "rel_to", frozenset(self.rel_to))
        object.__setattr__(self, "red_recipients", frozenset(self.red_recipients))
        if not self.originator:
            raise ValidationError("a record needs an originator organisation", field="originator")

    @property
    def marking(self) -> Marking:
        """The record's releasability."""
        return Marking(
            originator=self.originator,
            tlp=self.tlp,
            rel_to=self.rel_to,
            red_recipients=self.red_recipients,
            created_by=self.created_by,
        )


@dataclass(frozen=True, kw_only=True)
class IncidentRecord(_MarkedRecord):
    """One security incident (fields of an incident record in the store)."""

    id: str
    source: str
    source_id: str | None
    time: datetime
    lon: float
    lat: float
    type: str
    description: str = ""
    fatalities: int | None = None

    def __post_init__(self) -> None:
        self._normalise_marking()
        object.__setattr__(self, "time", parse_time(self.time))
        _check_lonlat(self.lon, self.lat, "lon/lat")
        if self.fatalities is not None and self.fatalities < 0:
            raise ValidationError("fatalities must be >= 0", field="fatalities")


@dataclass(frozen=True, kw_only=True)
class SiteRecord(_MarkedRecord):
    """A protected site (bridge, power station, checkpoint...)."""

    id: str
    name: str
    kind: str
    lon: float
    lat: float
    description: str = ""

    def __post_init__(self) -> None:
        self._normalise_marking()
        _check_lonlat(self.lon, self.lat, "lon/lat")


@dataclass(frozen=True, kw_only=True)
class RouteRecord(_MarkedRecord):
    """A planned patrol route: ordered (lon, lat) points."""

    id: str
    name: str
    points: tuple[tuple[float, float], ...]
    callsign: str | None = None
    start: datetime | None = None

    def __post_init__(self) -> None:
        self._normalise_marking()
        pts = tuple((float(lon), float(lat)) for lon, lat in self.points)
        if len(pts) < 2:
            raise ValidationError("a route needs at least two points", field="points")
        for k, (lon, lat) in enumerate(pts):
            _check_lonlat(lon, lat, f"points[{k}]")
        object.__setattr__(self, "points", pts)
        if self.start is not None:
            object.__setattr__(self, "start", parse_time(self.start, field_name="start"))


@dataclass(frozen=True, kw_only=True)
class PlanRecord(_MarkedRecord):
    """The public parts of one plan version (see ``docs/sharing.md``, "Plans' public parts").

    Metadata, status and approvals (organisation, decision, time), and an area-level summary
    (how many patrol routes, checkpoints and sensor placements; the bounding box of the area);
    never unit schedules. ``approvals`` are ``(org, decision, ISO time)`` triples.
    """

    id: str
    title: str
    status: str
    version: int
    lineage: str
    forces: tuple[str, ...]
    created: datetime
    decided: datetime | None = None
    approvals: tuple[tuple[str, str, str], ...] = ()
    patrols: int = 0
    checkpoints: int = 0
    sensors: int = 0
    bbox: tuple[float, float, float, float] | None = None
    #: the public parts of another organisation's plan, received over STIX/TAXII (read only)
    shared: bool = False

    def __post_init__(self) -> None:
        self._normalise_marking()
        object.__setattr__(self, "created", parse_time(self.created, field_name="created"))
        if self.decided is not None:
            object.__setattr__(self, "decided", parse_time(self.decided, field_name="decided"))
        if self.bbox is not None:
            _check_lonlat(self.bbox[0], self.bbox[1], "bbox")
            _check_lonlat(self.bbox[2], self.bbox[3], "bbox")


@dataclass(frozen=True, kw_only=True)
class SensorRecord(_MarkedRecord):
    """A camera, drone or checkpoint placement at a point (coverage cone optional)."""

    id: str
    name: str
    kind: str
    status: str
    lon: float
    lat: float
    range_m: float | None = None
    azimuth_deg: float | None = None
    fov_deg: float | None = None

    def __post_init__(self) -> None:
        self._normalise_marking()
        _check_lonlat(self.lon, self.lat, "lon/lat")
