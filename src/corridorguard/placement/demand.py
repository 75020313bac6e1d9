"""Risk-weighted demand on a corridor: road pieces (length × risk) and sites (criticality × risk).

Each road segment is cut into pieces of at most ``piece_m`` metres; a piece's weight is its
length in km times the segment's risk rate, and its position is interpolated between the
segment's end nodes (straight line: schematic graphs carry no road geometry). Each site weighs
``criticality × site_risk × site_weight_km`` so that one criticality point counts like
``site_weight_km`` km of road at risk 1. Risk mappings are optional: uniform (1.0) when absent;
when given, segments/sites missing from the mapping get 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.routing.graph import RoadGraph, edge_risk_array, haversine_m
from corridorguard.scenario.model import Scenario

__all__ = [
    "Demand",
    "corridor_demand",
    "gaps_geojson",
    "great_circle_matrix",
    "road_network_distance",
    "site_risk_array",
]


@dataclass(frozen=True)
class Demand:
    """Demand points. ``kind[i]`` is ``"road"`` or ``"site"``; ``ref[i]`` the edge/site id."""

    kind: np.ndarray
    ref: list[Any]
    lon: np.ndarray
    lat: np.ndarray
    weight: np.ndarray
    edge: np.ndarray
    """Edge index for road pieces, -1 for sites."""
    frac: np.ndarray
    """Position of a road piece along its edge (0 = source end, 1 = target end)."""
    span: np.ndarray
    """(n, 4) lon0, lat0, lon1, lat1 of each road piece (NaN for sites)."""
    node: np.ndarray
    """Access node index of sites (-1 for road pieces or sites without one)."""
    ends: np.ndarray
    """(n, 2) source and target node index of a road piece's segment (-1 for sites)."""

    @property
    def size(self) -> int:
        return int(self.weight.shape[0])


def site_risk_array(scenario: Scenario, risk: Mapping[str, float] | None) -> np.ndarray:
    out = np.ones(len(scenario.sites)) if not risk else np.zeros(len(scenario.sites))
    ids = {s.id: i for i, s in enumerate(scenario.sites)}
    for sid, r in (risk or {}).items():
        if sid not in ids:
            raise NotFoundError(f"unknown site {sid!r}", field=f"site_risk.{sid}")
        v = float(r)
        if not np.isfinite(v) or v < 0:
            raise ValidationError("risk must be finite and >= 0", field=f"site_risk.{sid}")
        out[ids[sid]] = v
    return out


def corridor_demand(
    scenario: Scenario,
    graph: RoadGraph,
    *,
    edge_risk: Mapping[str, float] | None = None,
    site_risk: Mapping[str, float] | None = None,
    piece_m: float = 5_000.0,
    site_weight_km: float = 10.0,
    include_roads: bool = True,
    include_sites: bool = True,
) -> Demand:
    """Build the demand layer of a scenario (see module docstring)."""
    if piece_m <= 0:
        raise ValidationError("piece_m must be > 0", field="piece_m")
    er = edge_risk_array(graph, edge_risk)
    if edge_risk:
        er = np.where(
            np.isin(np.arange(graph.n_edges), [graph.edge_index(k) for k in edge_risk]), er, 0.0
        )
    kinds: list[str] = []
    refs: list[Any] = []
    rows: list[tuple[float, ...]] = []
    if include_roads:
        idx = scenario.node_index
        for e_i, e in enumerate(scenario.edges):
            a, b = scenario.nodes[idx[e.source]], scenario.nodes[idx[e.target]]
            k = max(1, int(np.ceil(e.length_m / piece_m)))
            for q in range(k):
                f0, f1 = q / k, (q + 1) / k
                fm = (f0 + f1) / 2
                lon0, lat0 = a.lon + (b.lon - a.lon) * f0, a.lat + (b.lat - a.lat) * f0
                lon1, lat1 = a.lon + (b.lon - a.lon) * f1, a.lat + (b.lat - a.lat) * f1
                kinds.append("road")
                refs.append(e.id)
                rows.append(
                    (
                        a.lon + (b.lon - a.lon) * fm,
                        a.lat + (b.lat - a.lat) * fm,
                        e.length_m / k / 1000.0 * er[e_i],
                        e_i,
                        fm,
                        lon0,
                        lat0,
                        lon1,
                        lat1,
                        -1,
                        idx[e.source],
                        idx[e.target],
                    )
                )
    if include_sites:
        sr = site_risk_array(scenario, site_risk)
        for s_i, s in enumerate(scenario.sites):
            kinds.append("site")
            refs.append(s.id)
            node = scenario.node_index[s.node] if s.node is not None else -1
            nan = float("nan")
            rows.append(
                (
                    s.lon,
                    s.lat,
                    s.criticality * sr[s_i] * site_weight_km,
                    -1,
                    nan,
                    nan,
                    nan,
                    nan,
                    nan,
                    node,
                    -1,
                    -1,
                )
            )
    arr = np.array(rows, dtype=np.float64).reshape(-1, 12)
    return Demand(
        kind=np.array(kinds, dtype=object),
        ref=refs,
        lon=arr[:, 0],
        lat=arr[:, 1],
        weight=arr[:, 2],
        edge=arr[:, 3].astype(np.int64),
        frac=arr[:, 4],
        span=arr[:, 5:9],
        node=arr[:, 9].astype(np.int64),
        ends=arr[:, 10:12].astype(np.int64),
    )


def road_network_distance(
    graph: RoadGraph,
    demand: Demand,
    sources: np.ndarray,
    *,
    weight: str = "length",
    limit: float = np.inf,
) -> np.ndarray:
    """``(len(sources), n_demand)`` network cost from each source node to each demand point:
    road pieces through either end of their segment, sites through their access node (``inf``
    when a site has none)."""
    d = graph.distances(sources, weight=weight, limit=limit)  # type: ignore[arg-type]
    d = np.atleast_2d(d)
    out = np.full((d.shape[0], demand.size), np.inf)
    road = np.nonzero(demand.edge >= 0)[0]
    if road.size:
        seg = graph.edge_attrs["length_m" if weight == "length" else "time_s"][demand.edge[road]]
        u, v = demand.ends[road, 0], demand.ends[road, 1]
        f = demand.frac[road]
        out[:, road] = np.minimum(d[:, u] + f * seg, d[:, v] + (1 - f) * seg)
    site = np.nonzero((demand.edge < 0) & (demand.node >= 0))[0]
    if site.size:
        out[:, site] = d[:, demand.node[site]]
    return out


def gaps_geojson(demand: Demand, covered: np.ndarray, *, label: str) -> dict[str, Any]:
    """The uncovered demand as a GeoJSON FeatureCollection, with weights, for maps and exports.

    Consecutive uncovered pieces of one road segment are one LineString (a *gap run*: its
    weight is the pieces' sum, ``pieces`` their number), so a map gets one feature per gap
    rather than one per piece; sites are Points. Coordinates are rounded to 6 decimals
    (~0.1 m)."""
    feats: list[dict[str, Any]] = []
    run: list[int] = []

    def close() -> None:
        if run:
            first, last = run[0], run[-1]
            coords = [_r6(demand.span[first, :2]), _r6(demand.span[last, 2:])]
            feats.append(_gap_feature("LineString", coords, demand, run, label))
            run.clear()

    for i in np.nonzero(~np.asarray(covered, dtype=bool) & (demand.weight > 0))[0].tolist():
        if demand.kind[i] != "road":
            close()
            coords = _r6(np.array([demand.lon[i], demand.lat[i]]))
            feats.append(_gap_feature("Point", coords, demand, [i], label))
            continue
        if run and not (
            i == run[-1] + 1
            and demand.edge[i] == demand.edge[run[-1]]
            and np.allclose(demand.span[i, :2], demand.span[run[-1], 2:], rtol=0, atol=1e-9)
        ):
            close()
        run.append(i)
    close()
    return {"type": "FeatureCollection", "features": feats}


def _r6(xy: np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in xy]


def _gap_feature(
    gtype: str, coords: Any, demand: Demand, rows: list[int], label: str
) -> dict[str, Any]:
    i = rows[0]
    props: dict[str, Any] = {
        "kind": demand.kind[i],
        "ref": demand.ref[i],
        "weight": float(demand.weight[rows].sum()),
        "data_label": label,
    }
    if gtype == "LineString":
        props["pieces"] = len(rows)
    return {
        "type": "Feature",
        "geometry": {"type": gtype, "coordinates": coords},
        "properties": props,
    }


def great_circle_matrix(demand: Demand, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """``(n_demand, len(lon))`` great-circle metres."""
    return np.asarray(
        haversine_m(demand.lon[:, None], demand.lat[:, None], lon[None, :], lat[None, :])
    )
