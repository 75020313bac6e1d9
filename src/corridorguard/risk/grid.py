"""The forecast grid: square cells on an equal-area metric projection, with a region mask.

Cells are ``cell`` metres square on a Lambert azimuthal equal-area projection centred on the data
(or the scenario), so every cell has the same true area. The mask says which cells belong to the
region; forecasts, hit rates and PAI are computed over the active (masked-in) cells only, because
empty land or sea cells would inflate PAI.

Region choices:

* :meth:`Grid.around_events`: cells whose centre lies within ``buffer_m`` of any (training) event.
  Default ``buffer_m = max(2 * cell_m, 1000 m)`` (:data:`DEFAULT_BUFFER_CELLS`,
  :data:`DEFAULT_MIN_BUFFER_M`).
* :meth:`Grid.from_geojson`: cells whose centre lies inside a GeoJSON (Multi)Polygon.
* :meth:`Grid.around_scenario`: cells whose centre lies within ``buffer_m`` of a road segment or
  a site.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from corridorguard.errors import ValidationError
from corridorguard.risk.events import Events

if TYPE_CHECKING:
    from corridorguard.scenario.model import Scenario

__all__ = ["DEFAULT_BUFFER_CELLS", "DEFAULT_MIN_BUFFER_M", "MAX_CELLS", "Grid", "laea_crs"]

DEFAULT_BUFFER_CELLS = 2.0
DEFAULT_MIN_BUFFER_M = 1000.0
MAX_CELLS = 25_000_000
"""Refuse grids (bounding box) larger than this many cells."""

FloatArray = NDArray[np.float64]


def laea_crs(lon: float, lat: float) -> str:
    """PROJ string of a Lambert azimuthal equal-area projection centred on (lon, lat), metres."""
    return (
        f"+proj=laea +lat_0={lat:.4f} +lon_0={lon:.4f} +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    )


@dataclass(frozen=True, eq=False)
class Grid:
    """A masked square grid.

    Attributes
    ----------
    crs
        PROJ string of the metric projection.
    x0, y0
        Projected coordinates (m) of the lower-left corner of cell (row 0, column 0).
    cell
        Cell side in metres.
    nx, ny
        Columns and rows.
    mask
        Boolean ``(ny, nx)`` array, True for cells in the region ("active" cells).
    """

    crs: str
    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    mask: NDArray[np.bool_]

    def __post_init__(self) -> None:
        if self.mask.shape != (self.ny, self.nx):
            raise ValidationError("mask shape does not match the grid", field="mask")
        if not self.mask.any():
            raise ValidationError("the region mask holds no cell", field="mask")

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def _bbox(
        cls, crs: str, xmin: float, ymin: float, xmax: float, ymax: float, cell_m: float
    ) -> tuple[float, float, int, int]:
        if not cell_m > 0:
            raise ValidationError("cell size must be positive", field="cell_m")
        x0 = np.floor(xmin / cell_m) * cell_m
        y0 = np.floor(ymin / cell_m) * cell_m
        nx = max(1, int(np.ceil((xmax - x0) / cell_m)))
        ny = max(1, int(np.ceil((ymax - y0) / cell_m)))
        if nx * ny > MAX_CELLS:
            raise ValidationError(
                f"grid of {nx} x {ny} cells is too large (max {MAX_CELLS}); use larger cells",
                field="cell_m",
            )
        return float(x0), float(y0), nx, ny

    @classmethod
    def around_events(
        cls,
        events: Events,
        *,
        cell_m: float,
        buffer_m: float | None = None,
        crs: str | None = None,
    ) -> Grid:
        """Cells whose centre lies within ``buffer_m`` of any event.

        ``buffer_m`` defaults to ``max(2 * cell_m, 1000)``. Build it from training events only
        (the backtest does) so that the region does not leak where future events fall.
        """
        if len(events) == 0:
            raise ValidationError("no events to build a region from", field="events")
        return cls.around_points(events.lon, events.lat, cell_m=cell_m, buffer_m=buffer_m, crs=crs)

    @classmethod
    def around_points(
        cls,
        lon: ArrayLike,
        lat: ArrayLike,
        *,
        cell_m: float,
        buffer_m: float | None = None,
        crs: str | None = None,
    ) -> Grid:
        """Cells whose centre lies within ``buffer_m`` of any of the points (events, road
        nodes...); ``buffer_m`` and ``crs`` default as in :meth:`around_events`."""
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        if lon.size == 0:
            raise ValidationError("no points to build a region from", field="points")
        buffer = (
            max(DEFAULT_BUFFER_CELLS * cell_m, DEFAULT_MIN_BUFFER_M)
            if buffer_m is None
            else buffer_m
        )
        if buffer < 0:
            raise ValidationError("buffer must be >= 0", field="buffer_m")
        crs = crs or laea_crs(float(np.mean(lon)), float(np.mean(lat)))
        probe = cls(crs, 0.0, 0.0, 1.0, 1, 1, np.ones((1, 1), dtype=bool))
        x, y = probe.project(lon, lat)
        x0, y0, nx, ny = cls._bbox(
            crs, x.min() - buffer, y.min() - buffer, x.max() + buffer, y.max() + buffer, cell_m
        )
        cx = x0 + (np.arange(nx) + 0.5) * cell_m
        cy = y0 + (np.arange(ny) + 0.5) * cell_m
        gx, gy = np.meshgrid(cx, cy)
        tree = cKDTree(np.column_stack([x, y]))
        dist, _ = tree.query(
            np.column_stack([gx.ravel(), gy.ravel()]), distance_upper_bound=buffer + 1e-9
        )
        mask = np.isfinite(dist).reshape(ny, nx)
        if not mask.any():  # buffer smaller than half a cell: keep the cells holding points
            mask[((y - y0) // cell_m).astype(int), ((x - x0) // cell_m).astype(int)] = True
        return cls(crs, x0, y0, float(cell_m), nx, ny, mask)

    @classmethod
    def from_geojson(cls, geometry: dict[str, Any] | str, *, cell_m: float) -> Grid:
        """Cells whose centre lies inside a GeoJSON Polygon/MultiPolygon (geometry, Feature or
        FeatureCollection; a string is parsed as JSON)."""
        import shapely
        from shapely.geometry import shape
        from shapely.ops import unary_union

        if isinstance(geometry, str):
            geometry = json.loads(geometry)
        assert isinstance(geometry, dict)
        try:
            if geometry.get("type") == "FeatureCollection":
                geom = unary_union([shape(f["geometry"]) for f in geometry["features"]])
            elif geometry.get("type") == "Feature":
                geom = shape(geometry["geometry"])
            else:
                geom = shape(geometry)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValidationError(f"not a GeoJSON polygon: {exc}", field="region") from exc
        if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
            raise ValidationError(f"region must be a polygon, got {geom.geom_type}", field="region")
        c = geom.centroid
        crs = laea_crs(c.x, c.y)
        probe = cls(crs, 0.0, 0.0, 1.0, 1, 1, np.ones((1, 1), dtype=bool))
        proj = shapely.transform(
            geom, lambda xy: np.column_stack(probe.project(xy[:, 0], xy[:, 1]))
        )
        xmin, ymin, xmax, ymax = proj.bounds
        x0, y0, nx, ny = cls._bbox(crs, xmin, ymin, xmax, ymax, cell_m)
        gx, gy = np.meshgrid(
            x0 + (np.arange(nx) + 0.5) * cell_m, y0 + (np.arange(ny) + 0.5) * cell_m
        )
        mask = shapely.contains_xy(proj, gx, gy)
        if not mask.any():
            raise ValidationError("the region polygon holds no cell centre", field="region")
        return cls(crs, x0, y0, float(cell_m), nx, ny, np.asarray(mask, dtype=bool))

    @classmethod
    def around_scenario(cls, scenario: Scenario, *, cell_m: float, buffer_m: float) -> Grid:
        """Cells whose centre lies within ``buffer_m`` of a road segment or a site (corridor
        buffer), on the scenario's own equal-area projection."""
        import shapely
        from shapely.geometry import LineString, MultiPoint

        crs = scenario.metric_crs()
        probe = cls(crs, 0.0, 0.0, 1.0, 1, 1, np.ones((1, 1), dtype=bool))
        nodes = {n.id: probe.project(np.array([n.lon]), np.array([n.lat])) for n in scenario.nodes}
        parts: list[Any] = [
            LineString(
                [
                    (nodes[e.source][0][0], nodes[e.source][1][0]),
                    (nodes[e.target][0][0], nodes[e.target][1][0]),
                ]
            )
            for e in scenario.edges
        ]
        if scenario.sites:
            sx, sy = probe.project(
                np.array([s.lon for s in scenario.sites]), np.array([s.lat for s in scenario.sites])
            )
            parts.append(MultiPoint(np.column_stack([sx, sy])))
        corridor = shapely.union_all(parts)
        xmin, ymin, xmax, ymax = corridor.bounds
        x0, y0, nx, ny = cls._bbox(
            crs, xmin - buffer_m, ymin - buffer_m, xmax + buffer_m, ymax + buffer_m, cell_m
        )
        gx, gy = np.meshgrid(
            x0 + (np.arange(nx) + 0.5) * cell_m, y0 + (np.arange(ny) + 0.5) * cell_m
        )
        shapely.prepare(corridor)
        mask = shapely.dwithin(corridor, shapely.points(gx.ravel(), gy.ravel()), buffer_m)
        return cls(crs, x0, y0, float(cell_m), nx, ny, np.asarray(mask, dtype=bool).reshape(ny, nx))

    # --- projection and look-ups ----------------------------------------------------------

    @cached_property
    def _to_xy(self) -> Any:
        from pyproj import Transformer

        return Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)

    @cached_property
    def _to_lonlat(self) -> Any:
        from pyproj import Transformer

        return Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)

    def project(self, lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """WGS84 lon/lat -> projected x/y in metres."""
        x, y = self._to_xy.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def unproject(self, x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Projected x/y (m) -> WGS84 lon/lat."""
        lon, lat = self._to_lonlat.transform(np.asarray(x, float), np.asarray(y, float))
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)

    @property
    def cell_area(self) -> float:
        """Area of one cell in m²."""
        return self.cell * self.cell

    @cached_property
    def active(self) -> NDArray[np.int64]:
        """Flat (row-major) indices of the active cells."""
        return np.flatnonzero(self.mask.ravel())

    @property
    def n_active(self) -> int:
        return int(self.active.size)

    @cached_property
    def _position(self) -> NDArray[np.int64]:
        pos = np.full(self.nx * self.ny, -1, dtype=np.int64)
        pos[self.active] = np.arange(self.active.size)
        return pos

    def flat_index(self, x: FloatArray, y: FloatArray) -> NDArray[np.int64]:
        """Flat cell index of each projected point, -1 outside the bounding box."""
        ix = np.floor((x - self.x0) / self.cell).astype(np.int64)
        iy = np.floor((y - self.y0) / self.cell).astype(np.int64)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        return np.where(inside, iy * self.nx + ix, -1)

    def locate(self, x: FloatArray, y: FloatArray) -> NDArray[np.int64]:
        """Position among active cells of each projected point, -1 outside the region."""
        flat = self.flat_index(x, y)
        return np.where(flat >= 0, self._position[np.maximum(flat, 0)], -1)

    def centres(self) -> tuple[FloatArray, FloatArray]:
        """Projected centres of the active cells."""
        iy, ix = np.divmod(self.active, self.nx)
        return self.x0 + (ix + 0.5) * self.cell, self.y0 + (iy + 0.5) * self.cell

    def to_active(self, full: FloatArray) -> FloatArray:
        """A ``(ny, nx)`` array -> the values of the active cells."""
        return np.asarray(full, dtype=np.float64).ravel()[self.active]

    def to_full(self, values: ArrayLike, fill: float = np.nan) -> FloatArray:
        """Values of the active cells -> a ``(ny, nx)`` array (``fill`` elsewhere)."""
        out = np.full(self.nx * self.ny, fill, dtype=np.float64)
        out[self.active] = np.asarray(values, dtype=np.float64)
        return out.reshape(self.ny, self.nx)

    def to_geojson(self, values: ArrayLike, *, name: str = "expected") -> dict[str, Any]:
        """A GeoJSON FeatureCollection (RFC 7946, lon/lat) of active cells with their value."""
        vals = np.asarray(values, dtype=np.float64)
        iy, ix = np.divmod(self.active, self.nx)
        xs = self.x0 + ix * self.cell
        ys = self.y0 + iy * self.cell
        corners_x = np.stack([xs, xs + self.cell, xs + self.cell, xs, xs], axis=1)
        corners_y = np.stack([ys, ys, ys + self.cell, ys + self.cell, ys], axis=1)
        lon, lat = self.unproject(corners_x.ravel(), corners_y.ravel())
        lon = np.round(lon.reshape(-1, 5), 6)
        lat = np.round(lat.reshape(-1, 5), 6)
        features = [
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[float(a), float(b)] for a, b in zip(lon[k], lat[k], strict=True)]
                    ],
                },
                "properties": {"cell": int(self.active[k]), name: float(vals[k])},
            }
            for k in range(self.n_active)
        ]
        return {"type": "FeatureCollection", "features": features}
