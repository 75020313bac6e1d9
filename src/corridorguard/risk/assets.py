"""Risk per asset: expected incidents near each site and along each road segment, and the
corridor covariates for the ETAS background.

A forecast gives expected events per active cell over a horizon. For an asset zone (a disc of
``site_radius_m`` round a site, or a band of ``edge_buffer_m`` each side of a straight road
segment between its two nodes) the expected count is the sum over cells of the cell's expected
count times the share of the cell inside the zone (estimated on a 5 x 5 sub-sample per cell).
``P(at least one) = 1 - exp(-expected)`` (Poisson). ``coverage`` is the share of the zone's area
that lies inside the forecast region; cells outside the region contribute nothing, so a low
coverage means the forecast says little about that asset.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from corridorguard.errors import ValidationError
from corridorguard.risk.grid import Grid
from corridorguard.scenario.model import Scenario

__all__ = [
    "AssetRisk",
    "EdgeRisk",
    "SiteRisk",
    "asset_risk",
    "relative_rates",
    "road_segment_risk",
    "scenario_covariates",
]

FloatArray = NDArray[np.float64]
_SUB = 5


@dataclass(frozen=True)
class SiteRisk:
    """Expected incidents within ``radius_m`` of a site over the horizon."""

    id: str
    name: str
    type: str
    criticality: float
    expected: float
    probability: float
    weighted: float
    """``expected * criticality``: the target value the planning engines consume."""
    coverage: float


@dataclass(frozen=True)
class EdgeRisk:
    """Expected incidents within ``buffer_m`` of a road segment over the horizon."""

    id: str
    route: str
    source: str
    target: str
    length_m: float
    expected: float
    probability: float
    per_100km: float
    coverage: float


@dataclass(frozen=True)
class AssetRisk:
    """Per-site and per-edge risk for one forecast."""

    sites: tuple[SiteRisk, ...]
    edges: tuple[EdgeRisk, ...]
    site_radius_m: float
    edge_buffer_m: float
    horizon_days: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "site_radius_m": self.site_radius_m,
            "edge_buffer_m": self.edge_buffer_m,
            "horizon_days": self.horizon_days,
            "sites": [asdict(s) for s in self.sites],
            "edges": [asdict(e) for e in self.edges],
        }

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per asset (for CSV): kind, id, name, criticality, expected, ..."""
        out: list[dict[str, Any]] = []
        for s in self.sites:
            out.append(
                {
                    "kind": "site",
                    "id": s.id,
                    "name": s.name,
                    "criticality": s.criticality,
                    "expected": s.expected,
                    "probability": s.probability,
                    "weighted": s.weighted,
                    "coverage": s.coverage,
                    "length_m": "",
                }
            )
        for e in self.edges:
            out.append(
                {
                    "kind": "edge",
                    "id": e.id,
                    "name": f"{e.route} {e.source}-{e.target}",
                    "criticality": "",
                    "expected": e.expected,
                    "probability": e.probability,
                    "weighted": "",
                    "coverage": e.coverage,
                    "length_m": e.length_m,
                }
            )
        return out


def _segment_distance(px: FloatArray, py: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    """Distance from points to the segment ``a-b`` (projected metres)."""
    d = b - a
    L2 = float(d @ d)
    if L2 == 0:
        return np.hypot(px - a[0], py - a[1])
    s = np.clip(((px - a[0]) * d[0] + (py - a[1]) * d[1]) / L2, 0.0, 1.0)
    return np.hypot(px - (a[0] + s * d[0]), py - (a[1] + s * d[1]))


def _disc_distance(px: FloatArray, py: FloatArray, c: FloatArray) -> FloatArray:
    return np.hypot(px - c[0], py - c[1])


def _band_distance(px: FloatArray, py: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    return _segment_distance(px.ravel(), py.ravel(), a, b).reshape(px.shape)


class _Zones:
    """Share of each active cell inside a zone, by sub-sampling candidate cells."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.cx, self.cy = grid.centres()
        self.tree = cKDTree(np.column_stack([self.cx, self.cy]))
        off = (np.arange(_SUB) + 0.5) / _SUB - 0.5
        ox, oy = np.meshgrid(off * grid.cell, off * grid.cell)
        self.ox, self.oy = ox.ravel(), oy.ravel()

    def fractions(
        self,
        anchors: FloatArray,
        reach: float,
        distance: Callable[[FloatArray, FloatArray], FloatArray],
        limit: float,
    ) -> tuple[NDArray[np.int64], FloatArray]:
        """Cells near ``anchors`` (within ``reach`` + half diagonal) and their share of sub-points
        with ``distance(x, y) <= limit``."""
        r = reach + self.grid.cell * 0.7072
        hits = self.tree.query_ball_point(anchors, r)
        cand = (
            np.unique(np.concatenate([np.asarray(h, dtype=np.int64) for h in hits]))
            if len(hits)
            else np.zeros(0, np.int64)
        )
        if cand.size == 0:
            return cand, np.zeros(0)
        px = self.cx[cand][:, None] + self.ox[None, :]
        py = self.cy[cand][:, None] + self.oy[None, :]
        frac = (distance(px, py) <= limit).mean(axis=1)
        return cand, frac


def asset_risk(
    scenario: Scenario,
    grid: Grid,
    expected: ArrayLike,
    *,
    site_radius_m: float = 5000.0,
    edge_buffer_m: float = 2000.0,
    horizon_days: float | None = None,
) -> AssetRisk:
    """Expected incidents per site (within ``site_radius_m``) and per road segment (within
    ``edge_buffer_m``), from a forecast ``expected`` per active cell of ``grid``."""
    lam = np.asarray(expected, dtype=np.float64)
    if lam.shape != (grid.n_active,):
        raise ValidationError(
            f"need {grid.n_active} cell values, got {lam.shape}", field="expected"
        )
    if site_radius_m <= 0 or edge_buffer_m <= 0:
        raise ValidationError("radius and buffer must be positive")
    zones = _Zones(grid)
    area = grid.cell_area
    sites: list[SiteRisk] = []
    for s in scenario.sites:
        x, y = grid.project([s.lon], [s.lat])
        c = np.array([x[0], y[0]])
        cand, frac = zones.fractions(
            c[None, :],
            site_radius_m,
            partial(_disc_distance, c=c),
            site_radius_m,
        )
        ex = float(np.sum(frac * lam[cand]))
        cov = min(1.0, float(frac.sum()) * area / (np.pi * site_radius_m**2))
        sites.append(
            SiteRisk(
                s.id, s.name, s.type, s.criticality, ex, 1 - np.exp(-ex), ex * s.criticality, cov
            )
        )
    edges: list[EdgeRisk] = []
    for e in scenario.edges:
        a_n, b_n = scenario.node(e.source), scenario.node(e.target)
        xs, ys = grid.project([a_n.lon, b_n.lon], [a_n.lat, b_n.lat])
        a, b = np.array([xs[0], ys[0]]), np.array([xs[1], ys[1]])
        seg_len = float(np.hypot(*(b - a)))
        n_anchor = max(2, int(np.ceil(seg_len / max(edge_buffer_m, grid.cell))) + 1)
        anchors = a[None, :] + np.linspace(0, 1, n_anchor)[:, None] * (b - a)[None, :]
        reach = edge_buffer_m + 0.5 * seg_len / (n_anchor - 1)
        cand, frac = zones.fractions(
            anchors,
            reach,
            partial(_band_distance, a=a, b=b),
            edge_buffer_m,
        )
        ex = float(np.sum(frac * lam[cand]))
        zone_area = 2 * edge_buffer_m * seg_len + np.pi * edge_buffer_m**2
        cov = min(1.0, float(frac.sum()) * area / zone_area)
        edges.append(
            EdgeRisk(
                e.id,
                e.route,
                e.source,
                e.target,
                e.length_m,
                ex,
                1 - np.exp(-ex),
                ex / e.length_m * 1e5,
                cov,
            )
        )
    return AssetRisk(tuple(sites), tuple(edges), site_radius_m, edge_buffer_m, horizon_days)


def road_segment_risk(
    grid: Grid,
    expected: ArrayLike,
    lon: ArrayLike,
    lat: ArrayLike,
    length_m: ArrayLike,
    *,
    buffer_m: float = 2000.0,
) -> tuple[FloatArray, FloatArray]:
    """Expected incidents within ``buffer_m`` of each of many *short* road segments (a real
    road network: OSM edges are metres to a few hundred metres long), from the forecast
    density at each segment's midpoint ``(lon, lat)``.

    The density of a cell is its expected count over its area; a segment's band of width
    ``2 * buffer_m`` then holds ``density * 2 * buffer_m * length`` (the band's end caps and the
    density's change along a segment much shorter than a cell are neglected: for long segments
    use :func:`asset_risk`). Returns ``(expected, inside)``: ``inside`` is 1.0 where the
    midpoint lies in the forecast region, else 0.0 (and the segment gets 0 expected).
    """
    lam = np.asarray(expected, dtype=np.float64)
    if lam.shape != (grid.n_active,):
        raise ValidationError(
            f"need {grid.n_active} cell values, got {lam.shape}", field="expected"
        )
    if buffer_m <= 0:
        raise ValidationError("buffer must be positive", field="buffer_m")
    length = np.asarray(length_m, dtype=np.float64)
    x, y = grid.project(lon, lat)
    cell = grid.locate(x, y)
    inside = cell >= 0
    density = np.where(inside, lam[np.maximum(cell, 0)], 0.0) / grid.cell_area
    return density * 2.0 * buffer_m * length, inside.astype(np.float64)


def relative_rates(values: Mapping[Any, float], floor: float = 0.1) -> dict[Any, float]:
    """Rates relative to their mean, at least ``floor``: the scale-free weights the planning
    engines take (``--risk`` files), so solver tolerances never see 1e-6 weights and no
    segment is treated as risk-free. All 1.0 when the mean is not positive."""
    mean = float(np.mean(list(values.values()))) if values else 0.0
    if mean <= 0:
        return dict.fromkeys(values, 1.0)
    return {k: max(floor, v / mean) for k, v in values.items()}


def scenario_covariates(scenario: Scenario, grid: Grid) -> dict[str, FloatArray]:
    """Per-active-cell background covariates from the corridor (Reinhart & Greenhouse 2018):
    ``log1p`` of the distance in km from the cell centre to the nearest road segment and to the
    nearest site (sites omitted when the scenario has none)."""
    cx, cy = grid.centres()
    nodes = {n.id: grid.project([n.lon], [n.lat]) for n in scenario.nodes}
    d_road = np.full(cx.size, np.inf)
    for e in scenario.edges:
        a = np.array([nodes[e.source][0][0], nodes[e.source][1][0]])
        b = np.array([nodes[e.target][0][0], nodes[e.target][1][0]])
        d_road = np.minimum(d_road, _segment_distance(cx, cy, a, b))
    out = {"log1p_dist_road_km": np.log1p(d_road / 1000.0)}
    if scenario.sites:
        sx, sy = grid.project([s.lon for s in scenario.sites], [s.lat for s in scenario.sites])
        d_site, _ = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([cx, cy]))
        out["log1p_dist_site_km"] = np.log1p(np.asarray(d_site) / 1000.0)
    return out
