"""Convoy routing: risk-aware route, diverse alternatives, randomised choice and departure.

* **Risk-aware route**: arc cost ``time_s + risk_weight × exposure`` where a segment's
  exposure is ``risk rate × length_km`` (uniform risk 1.0 per km when no forecast is given).
* **Alternatives** by the penalty method (de la Barra, Pérez & Añez 1993; see also Akgün,
  Erkut & Batta 2000): after each route, the cost of its segments is multiplied by
  ``1 + penalty`` and the search repeats; distinct routes within ``max_stretch`` × the best
  cost are kept.
* **Randomised choice**: the zero-sum game of :mod:`corridorguard.routing.game` over the
  alternatives (harm of an ambush on a segment = exposure rate × people on board).
* **Departure randomisation**: uniform within the movement's window; with ``day_only`` the
  convoy must leave after ``daylight[0]`` and arrive before ``daylight[1]``. A seeded schedule
  of (day, route, departure) is drawn; the seed is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Any

import numpy as np

from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.routing.game import RouteGameResult, solve_route_game
from corridorguard.routing.graph import RoadGraph, edge_risk_array
from corridorguard.scenario.model import Scenario

__all__ = ["ConvoyRouter", "RouteOption"]


def _secs(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _clock(s: float) -> str:
    s = round(s) % 86400
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


@dataclass(frozen=True)
class RouteOption:
    """One route: ids, totals and its feasible departure interval (seconds after midnight)."""

    index: int
    nodes: list[Any]
    edges: list[Any]
    arcs: list[int]
    eta_s: float
    distance_m: float
    exposure: float
    cost: float
    coords: list[tuple[float, float]]
    depart_earliest_s: float
    depart_latest_s: float
    probability: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return self.depart_latest_s >= self.depart_earliest_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "nodes": self.nodes,
            "edges": self.edges,
            "eta_s": self.eta_s,
            "eta_min": self.eta_s / 60.0,
            "distance_m": self.distance_m,
            "exposure": self.exposure,
            "cost": self.cost,
            "probability": self.probability,
            "feasible": self.feasible,
            "depart_window": [_clock(self.depart_earliest_s), _clock(self.depart_latest_s)]
            if self.feasible
            else None,
        }


class ConvoyRouter:
    """Routes for one movement between two nodes of a :class:`RoadGraph`.

    Parameters
    ----------
    graph, origin, destination
        The road graph and node ids.
    edge_risk
        Optional ``{edge id: risk rate per km}``; uniform 1.0 when absent (segments missing
        from a given mapping get 0).
    risk_weight
        Seconds of travel time worth one unit of exposure (``lambda``).
    alternatives
        Number of routes wanted (k >= 1).
    penalty, max_stretch
        Penalty-method factor and the largest cost ratio to the best route kept.
    people
        People on board (scales the harm in the game).
    window
        Departure window ``(start, end)`` as ``datetime.time`` (default: the whole day).
    day_only, daylight
        Daylight-only movement and the daylight interval.
    days, seed
        Length of the randomised schedule and its seed.

    Attributes
    ----------
    routes_ : list of :class:`RouteOption` (``routes_[0]`` is the risk-aware best)
    game_ : :class:`~corridorguard.routing.game.RouteGameResult` or None (single route)
    schedule_ : list of ``{"day", "route", "depart"}``
    chokepoints_ : segment ids used by every route
    seed_ : int
    """

    def __init__(
        self,
        graph: RoadGraph,
        origin: Any,
        destination: Any,
        *,
        edge_risk: Mapping[Any, float] | None = None,
        risk_weight: float = 60.0,
        alternatives: int = 3,
        penalty: float = 0.6,
        max_stretch: float = 2.0,
        people: int = 1,
        window: tuple[time, time] | None = None,
        day_only: bool = False,
        daylight: tuple[time, time] = (time(6, 0), time(18, 0)),
        days: int = 14,
        seed: int = 0,
    ) -> None:
        if alternatives < 1:
            raise ValidationError("alternatives must be >= 1", field="alternatives")
        if risk_weight < 0 or penalty < 0 or max_stretch < 1:
            raise ValidationError(
                "risk_weight, penalty >= 0 and max_stretch >= 1", field="risk_weight"
            )
        self.graph = graph
        self.origin, self.destination = origin, destination
        self.s, self.t = graph.node_index(origin), graph.node_index(destination)
        if self.s == self.t:
            raise ValidationError("origin and destination are the same node", field="to")
        risk = edge_risk_array(graph, edge_risk)
        if edge_risk:
            given = np.zeros(graph.n_edges, bool)
            given[[graph.edge_index(k) for k in edge_risk]] = True
            risk = np.where(given, risk, 0.0)
        self.edge_risk = risk
        self.risk_weight = float(risk_weight)
        self.k = int(alternatives)
        self.penalty = float(penalty)
        self.max_stretch = float(max_stretch)
        self.people = int(people)
        self.window = window
        self.day_only = day_only
        self.daylight = daylight
        self.days = int(days)
        self.seed = int(seed)

    @classmethod
    def for_movement(cls, scenario: Scenario, movement_id: str, **kwargs: Any) -> ConvoyRouter:
        """A router for a scenario movement (origin, destination, window, people, day_only)."""
        mv = next((m for m in scenario.movements if m.id == movement_id), None)
        if mv is None:
            raise NotFoundError(f"unknown movement {movement_id!r}", field="movement")
        kwargs.setdefault("window", (mv.window_start, mv.window_end))
        kwargs.setdefault("day_only", mv.day_only)
        kwargs.setdefault("people", max(mv.people, 1))
        return cls(RoadGraph.from_scenario(scenario), mv.origin, mv.destination, **kwargs)

    # --- pieces ---------------------------------------------------------------------------

    def arc_exposure(self) -> np.ndarray:
        """Exposure of each arc: risk rate of its segment × length in km."""
        return self.edge_risk[self.graph.edge] * self.graph.length_m / 1000.0

    def arc_cost(self) -> np.ndarray:
        return self.graph.time_s + self.risk_weight * self.arc_exposure()

    def _interval(self, eta: float) -> tuple[float, float]:
        lo, hi = (
            (0.0, 86400.0)
            if self.window is None
            else (float(_secs(self.window[0])), float(_secs(self.window[1])))
        )
        if hi < lo:
            hi += 86400.0
        if self.day_only:
            lo = max(lo, float(_secs(self.daylight[0])))
            hi = min(hi, float(_secs(self.daylight[1])) - eta)
        return lo, hi

    def _option(self, index: int, arcs: list[int]) -> RouteOption:
        g = self.graph
        a = np.asarray(arcs, dtype=np.int64)
        nodes = [self.s, *g.head[a].tolist()]
        eta = float(g.time_s[a].sum())
        lo, hi = self._interval(eta)
        return RouteOption(
            index=index,
            nodes=[g.node_ids[v] for v in nodes],
            edges=[g.edge_ids[e] for e in g.edge[a].tolist()],
            arcs=a.tolist(),
            eta_s=eta,
            distance_m=float(g.length_m[a].sum()),
            exposure=float(self.arc_exposure()[a].sum()),
            cost=float(self.arc_cost()[a].sum()),
            coords=[(float(g.lon[v]), float(g.lat[v])) for v in nodes],
            depart_earliest_s=lo,
            depart_latest_s=hi,
        )

    def alternatives(self) -> list[list[int]]:
        """Arc lists of up to ``k`` distinct routes by the penalty method (best first)."""
        g = self.graph
        base = self.arc_cost()
        w = base.copy()
        found: list[list[int]] = []
        seen: set[frozenset[int]] = set()
        best = np.inf
        for _ in range(4 * self.k):
            p = g.shortest_path(self.s, self.t, weight=w)
            key = frozenset(g.edge[list(p.arcs)].tolist())
            true_cost = float(base[list(p.arcs)].sum())
            best = min(best, true_cost)
            if key not in seen and true_cost <= self.max_stretch * best + 1e-9:
                seen.add(key)
                found.append(list(p.arcs))
                if len(found) == self.k:
                    break
            hit = np.zeros(g.n_edges, dtype=bool)
            hit[list(key)] = True
            w[hit[g.edge]] *= 1.0 + self.penalty
        found.sort(key=lambda arcs: float(base[arcs].sum()))
        return found

    # --- driver ---------------------------------------------------------------------------

    def solve(self) -> ConvoyRouter:
        """Find routes, solve the route game over the feasible ones, draw a schedule."""
        routes = [self._option(i, arcs) for i, arcs in enumerate(self.alternatives())]
        ok = [r for r in routes if r.feasible]
        if not ok:
            raise ValidationError(
                "no route fits the departure window" + (" and daylight" if self.day_only else ""),
                field="window",
            )
        edge_sets = [set(r.edges) for r in routes]
        self.chokepoints_ = sorted(set.intersection(*edge_sets), key=str)
        probs = np.zeros(len(routes))
        self.game_: RouteGameResult | None = None
        if len(ok) == 1:
            probs[ok[0].index] = 1.0
        else:
            segs = sorted({e for r in ok for e in r.edges}, key=str)
            col = {e: i for i, e in enumerate(segs)}
            inc = np.zeros((len(ok), len(segs)))
            for i, r in enumerate(ok):
                inc[i, [col[e] for e in r.edges]] = 1.0
            rate = np.array([self.edge_risk[self.graph.edge_index(e)] for e in segs])
            self.game_ = solve_route_game(
                inc, rate * self.people, tie_cost=np.array([r.cost for r in ok])
            )
            self.game_segments_ = segs
            for i, r in enumerate(ok):
                probs[r.index] = self.game_.route_probs[i]
        self.routes_ = [
            RouteOption(**{**r.__dict__, "probability": float(probs[r.index])}) for r in routes
        ]
        self.schedule_ = self._schedule(probs)
        self.seed_ = self.seed
        return self

    def _schedule(self, probs: np.ndarray) -> list[dict[str, Any]]:
        rng = np.random.default_rng(self.seed)
        out = []
        for day in range(self.days):
            r = self.routes_[int(rng.choice(len(probs), p=probs / probs.sum()))]
            dep = rng.uniform(r.depart_earliest_s, r.depart_latest_s)
            dep = 60.0 * np.floor(dep / 60.0)
            out.append(
                {
                    "day": day + 1,
                    "route": r.index,
                    "depart": _clock(dep),
                    "arrive": _clock(dep + r.eta_s),
                }
            )
        return out

    # --- exports --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        g = self.game_
        return {
            "origin": self.origin,
            "destination": self.destination,
            "risk_weight": self.risk_weight,
            "routes": [r.to_dict() for r in self.routes_],
            "chokepoints": self.chokepoints_,
            "game": None
            if g is None
            else {
                "value": g.value,
                "route_loss": g.route_loss.tolist(),
                "ambush": {
                    s: float(p)
                    for s, p in zip(self.game_segments_, g.ambush_probs, strict=True)
                    if p > 1e-9
                },
            },
            "schedule": self.schedule_,
            "seed": self.seed_,
            "day_only": self.day_only,
            "data_label": self.graph.label,
        }

    def to_geojson(self) -> dict[str, Any]:
        """Routes as a GeoJSON FeatureCollection of LineStrings (RFC 7946)."""
        feats = []
        for r in self.routes_:
            props = r.to_dict()
            props["data_label"] = self.graph.label
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": [list(c) for c in r.coords]},
                    "properties": props,
                }
            )
        return {"type": "FeatureCollection", "features": feats}

    def to_gpx(self) -> str:
        """Routes as GPX 1.1 ``<rte>`` elements (one per alternative)."""
        import gpxpy.gpx

        doc = gpxpy.gpx.GPX()
        doc.creator = "corridorguard"
        for r in self.routes_:
            rte = gpxpy.gpx.GPXRoute(
                name=f"route {r.index}",
                description=(
                    f"ETA {r.eta_s / 60:.0f} min, {r.distance_m / 1000:.1f} km, "
                    f"exposure {r.exposure:.2f}, p={r.probability:.2f}; "
                    f"{self.graph.label} data"
                ),
            )
            for (lon, lat), nid in zip(r.coords, r.nodes, strict=True):
                rte.points.append(gpxpy.gpx.GPXRoutePoint(lat, lon, name=str(nid)))
            doc.routes.append(rte)
        return str(doc.to_xml(version="1.1"))
