"""The corridor model: a road graph, project sites, two (or more) partner forces and movements.

Plain, immutable pydantic models. Units at the edges are metres, km/h, WGS84 lon/lat (GeoJSON
order) and UTC; computations project to a metric CRS (:meth:`Scenario.metric_crs`).

Everything that is not measured fact carries a label: ``Scenario.labels`` says, per layer, whether
it is ``real``, ``approximate``, ``schematic`` or ``notional``, and the same labels are shown in
every export and report.
"""

from __future__ import annotations

from datetime import time
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "DataLabel",
    "Edge",
    "Force",
    "Jurisdiction",
    "Movement",
    "Node",
    "Scenario",
    "Site",
    "Unit",
    "UnitKind",
]

DataLabel = Literal["real", "approximate", "schematic", "notional"]
UnitKind = Literal["patrol", "checkpoint", "qrf", "drone", "camera"]
RoadClass = Literal["motorway", "expressway", "national_highway", "provincial", "local"]
Terrain = Literal["plain", "hill", "mountain", "coastal", "desert"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Node(_Frozen):
    """A road-graph node: a town, junction or pass."""

    id: str = Field(min_length=1)
    name: str
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    province: str | None = None
    approximate: bool = False
    """True for hand-entered coordinates (not from a gazetteer)."""
    source: str | None = None
    """Where the coordinates come from, e.g. ``geonames:1179400`` or ``hand-entered``."""


class Edge(_Frozen):
    """An undirected road segment between two nodes."""

    id: str = Field(min_length=1)
    source: str
    target: str
    route: str
    """Route designation, e.g. ``N-35`` or ``M-2``."""
    road_class: RoadClass = "national_highway"
    terrain: Terrain = "plain"
    length_m: float = Field(gt=0)
    speed_kmh: float = Field(gt=0, le=200)
    """Free-flow speed."""
    traffic_vph: float = Field(default=0.0, ge=0)
    """Vehicles per hour (notional unless stated), used for the civilian burden of checkpoints."""

    @property
    def travel_time_s(self) -> float:
        """Free-flow travel time in seconds."""
        return self.length_m / (self.speed_kmh / 3.6)


class Site(_Frozen):
    """A project site to protect: port, dam, power plant, airport, dry port, depot, camp."""

    id: str = Field(min_length=1)
    name: str
    type: str
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    criticality: float = Field(ge=0, le=5)
    """0 (negligible) to 5 (national importance)."""
    workers: int = Field(default=0, ge=0)
    operator: str | None = None
    province: str | None = None
    node: str | None = None
    """The road node that serves the site (access point)."""
    approximate: bool = True
    notional_fields: tuple[str, ...] = ()
    """Names of fields whose values are notional (e.g. ``("workers", "criticality")``)."""


class Jurisdiction(_Frozen):
    """Where a force may operate: a set of provinces, a polygon, or both (union)."""

    provinces: tuple[str, ...] = ()
    polygon: dict[str, Any] | None = None
    """A GeoJSON Polygon or MultiPolygon geometry (RFC 7946)."""

    @model_validator(mode="after")
    def _non_empty(self) -> Jurisdiction:
        if not self.provinces and self.polygon is None:
            raise ValueError("a jurisdiction needs provinces or a polygon")
        return self

    @cached_property
    def _shape(self) -> Any:
        if self.polygon is None:
            return None
        from shapely.geometry import shape
        from shapely.prepared import prep

        return prep(shape(self.polygon))

    def contains(self, lon: float, lat: float, province: str | None = None) -> bool:
        """True when the point (or its province) lies in the jurisdiction."""
        if province is not None and province in self.provinces:
            return True
        if self._shape is not None:
            from shapely.geometry import Point

            return bool(self._shape.covers(Point(lon, lat)))
        return False


class Unit(_Frozen):
    """A group of identical resources of one force (``count`` of them)."""

    id: str = Field(min_length=1)
    kind: UnitKind
    count: int = Field(default=1, ge=1)
    base: str
    """Home base: a node id."""
    speed_kmh: float = Field(default=60.0, gt=0)
    shift_hours: float = Field(default=8.0, gt=0, le=24)
    detection_prob: float = Field(default=0.5, ge=0, le=1)
    """Probability of detecting an attack in progress where the unit is present."""
    interdiction_prob: float = Field(default=0.5, ge=0, le=1)
    """Probability of stopping a detected attack where the unit is present."""
    range_km: float | None = Field(default=None, gt=0)
    """Drones: maximum distance from the base. Cameras: sensing range along the road."""
    endurance_min: float | None = Field(default=None, gt=0)
    """Drones: flight endurance."""
    notional: bool = True


class Force(_Frozen):
    """A partner agency with its units and jurisdiction."""

    id: str = Field(min_length=1)
    name: str
    jurisdiction: Jurisdiction
    units: tuple[Unit, ...] = ()
    notional: bool = True


class Movement(_Frozen):
    """A recurring movement to protect, e.g. a worker convoy."""

    id: str = Field(min_length=1)
    name: str
    origin: str
    destination: str
    """Node ids."""
    window_start: time
    window_end: time
    """Local time-of-day window for departure."""
    people: int = Field(ge=0)
    vehicles: int = Field(default=1, ge=1)
    day_only: bool = True
    notional: bool = True


class Scenario(_Frozen):
    """A whole corridor: graph, sites, forces, movements and the labels of each layer."""

    name: str = Field(min_length=1)
    title: str = ""
    description: str = ""
    labels: dict[str, DataLabel] = Field(default_factory=dict)
    """Per layer (``roads``, ``sites``, ``forces``, ...): what kind of data it is."""
    attribution: tuple[str, ...] = ()
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    sites: tuple[Site, ...] = ()
    forces: tuple[Force, ...] = ()
    movements: tuple[Movement, ...] = ()
    boundary: dict[str, Any] | None = None
    """Optional outline (GeoJSON geometry) of the area, for maps and default risk masks."""
    circuity: dict[str, float] = Field(default_factory=dict)
    """Terrain class -> circuity factor (road length ÷ great-circle distance) used to derive
    schematic edge lengths; empty when lengths were measured. See ``docs/scenario.md``."""

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        _unique(self.nodes, "nodes")
        _unique(self.edges, "edges")
        _unique(self.sites, "sites")
        _unique(self.forces, "forces")
        _unique(self.movements, "movements")
        node_ids = {n.id for n in self.nodes}
        for i, e in enumerate(self.edges):
            for end in ("source", "target"):
                if getattr(e, end) not in node_ids:
                    raise ValueError(f"edges[{i}].{end}: unknown node {getattr(e, end)!r}")
            if e.source == e.target:
                raise ValueError(f"edges[{i}]: a segment cannot join a node to itself")
        for i, s in enumerate(self.sites):
            if s.node is not None and s.node not in node_ids:
                raise ValueError(f"sites[{i}].node: unknown node {s.node!r}")
        unit_ids: set[str] = set()
        for fi, f in enumerate(self.forces):
            for ui, u in enumerate(f.units):
                if u.base not in node_ids:
                    raise ValueError(f"forces[{fi}].units[{ui}].base: unknown node {u.base!r}")
                if u.id in unit_ids:
                    raise ValueError(f"forces[{fi}].units[{ui}].id: duplicate unit id {u.id!r}")
                unit_ids.add(u.id)
        for i, m in enumerate(self.movements):
            for end in ("origin", "destination"):
                if getattr(m, end) not in node_ids:
                    raise ValueError(f"movements[{i}].{end}: unknown node {getattr(m, end)!r}")
        return self

    # --- look-ups -------------------------------------------------------------------------

    @cached_property
    def node_index(self) -> dict[str, int]:
        """Node id -> position in :attr:`nodes`."""
        return {n.id: i for i, n in enumerate(self.nodes)}

    def node(self, node_id: str) -> Node:
        return self.nodes[self.node_index[node_id]]

    def site(self, site_id: str) -> Site:
        for s in self.sites:
            if s.id == site_id:
                return s
        raise KeyError(site_id)

    def force(self, force_id: str) -> Force:
        for f in self.forces:
            if f.id == force_id:
                return f
        raise KeyError(force_id)

    def units(self) -> list[tuple[Force, Unit]]:
        """Every (force, unit) pair."""
        return [(f, u) for f in self.forces for u in f.units]

    # --- geometry -------------------------------------------------------------------------

    def bbox(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) of nodes and sites."""
        lons = [n.lon for n in self.nodes] + [s.lon for s in self.sites]
        lats = [n.lat for n in self.nodes] + [s.lat for s in self.sites]
        return min(lons), min(lats), max(lons), max(lats)

    def metric_crs(self) -> str:
        """A PROJ string for an equal-area projection centred on the scenario (metres)."""
        x0, y0, x1, y1 = self.bbox()
        return (
            f"+proj=laea +lat_0={(y0 + y1) / 2:.4f} +lon_0={(x0 + x1) / 2:.4f} "
            "+x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
        )

    def node_in_jurisdiction(self, force_id: str, node_id: str) -> bool:
        n = self.node(node_id)
        return self.force(force_id).jurisdiction.contains(n.lon, n.lat, n.province)

    def edge_in_jurisdiction(self, force_id: str, edge: Edge) -> bool:
        """A segment belongs to a force's jurisdiction when both its ends do."""
        return self.node_in_jurisdiction(force_id, edge.source) and self.node_in_jurisdiction(
            force_id, edge.target
        )


def _unique(items: tuple[Any, ...], layer: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.id in seen:
            raise ValueError(f"{layer}[{i}].id: duplicate id {item.id!r}")
        seen.add(item.id)
