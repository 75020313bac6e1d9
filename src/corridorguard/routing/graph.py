"""The road graph as compressed sparse row (CSR) arrays.

One structure for every road network corridorguard routes on: the scenario's schematic graph,
an OpenStreetMap extract or a GeoJSON line layer. Nodes are ``0..n-1``; directed arcs are stored
CSR-style (``indptr``, ``head``), with per-arc length, free-flow time and the index of the
undirected *edge* (road segment) the arc belongs to. Two-way roads give two arcs per edge.

One-to-all and many-to-many shortest paths, and point-to-point queries with a path, run on our
compiled Dijkstra kernels over a contraction of the graph (chains of degree-2 nodes as single
arcs; :mod:`corridorguard.routing._sssp`, :mod:`corridorguard.routing._p2p`), built lazily on
the first query. :mod:`scipy.sparse.csgraph` answers predecessor queries and is the fallback
without numba; :mod:`corridorguard.routing._search` holds the other early-exit searches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from corridorguard.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from corridorguard.scenario.model import Scenario

__all__ = ["EARTH_RADIUS_M", "Path", "RoadGraph", "haversine_m"]

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), metres."""

Weight = Literal["time", "length"] | np.ndarray


def haversine_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    """Great-circle distance in metres (haversine, spherical Earth); broadcasts over arrays."""
    lon1, lat1, lon2, lat2 = (
        np.radians(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


_BUILD_ERRORS = {
    1: "arc end outside 0..n_nodes-1",
    2: "arc length or time negative or NaN",
    3: "negative edge index",
}


def _index_array(values: Any, name: str) -> np.ndarray:
    """An int32/int64 array (other integer types converted; empty input allowed)."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValidationError(f"{name} must be a 1-D array", field=name)
    if arr.dtype in (np.int32, np.int64):
        return arr
    if arr.size == 0 or arr.dtype.kind in "iub":
        return arr.astype(np.int64)
    raise ValidationError(f"{name} must hold integer node/edge indices", field=name)


@dataclass(frozen=True)
class Path:
    """A path found on a :class:`RoadGraph`: node and arc indices plus its totals."""

    nodes: tuple[int, ...]
    arcs: tuple[int, ...]
    cost: float
    """Sum of the weights used by the search over :attr:`arcs`."""
    length_m: float
    time_s: float


@dataclass(eq=False)
class RoadGraph:
    """A directed road graph on CSR arrays.

    Build one with :meth:`from_arcs`, :meth:`from_scenario`,
    :func:`corridorguard.routing.read_osm_pbf` or :func:`corridorguard.routing.read_geojson`.

    Attributes
    ----------
    indptr : (n + 1,) int64
        Arcs leaving node ``u`` are ``indptr[u]:indptr[u + 1]``.
    head : (m,) int32
        Head node of each arc.
    length_m, time_s : (m,) float64
        Arc length and free-flow travel time.
    edge : (m,) int64
        Index of the undirected road segment of each arc (into :attr:`edge_ids`).
    tail : (m,) int32
        Tail node of each arc (redundant with ``indptr``; kept for vector work).
    lon, lat : (n,) float64
        Node coordinates (WGS84).
    node_ids, edge_ids : sequences
        External identifiers (scenario ids, OSM ids...).
    """

    indptr: np.ndarray
    head: np.ndarray
    tail: np.ndarray
    length_m: np.ndarray
    time_s: np.ndarray
    edge: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    node_ids: Sequence[Any]
    edge_ids: Sequence[Any]
    edge_attrs: dict[str, np.ndarray] = field(default_factory=dict)
    """Per-edge arrays (``traffic_vph``, ``road_class`` codes...), indexed like ``edge_ids``."""
    label: str = "real"
    """``real``, ``schematic``, ... (see :data:`corridorguard.scenario.model.DataLabel`)."""

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def from_arcs(
        cls,
        tail: np.ndarray,
        head: np.ndarray,
        length_m: np.ndarray,
        time_s: np.ndarray,
        *,
        n_nodes: int,
        edge: np.ndarray | None = None,
        lon: np.ndarray | None = None,
        lat: np.ndarray | None = None,
        node_ids: Sequence[Any] | None = None,
        edge_ids: Sequence[Any] | None = None,
        edge_attrs: dict[str, np.ndarray] | None = None,
        label: str = "real",
    ) -> RoadGraph:
        """Build from arc arrays (node indices ``0..n_nodes-1``); O(n + m).

        One compiled pass validates and counts, one stable counting-sort pass scatters the
        arcs to CSR order (:mod:`corridorguard.routing._csr`). Derived structures (reverse
        graph, SciPy matrices, the contraction used by :meth:`distances`) are built on first
        use. Default ids are ``range`` objects (no per-node Python objects).
        """
        from corridorguard.routing import _csr

        tail = _index_array(tail, "tail")
        head = _index_array(head, "head")
        length_m = np.asarray(length_m, dtype=np.float64)
        time_s = np.asarray(time_s, dtype=np.float64)
        m = tail.shape[0]
        if not (head.shape == (m,) and length_m.shape == (m,) and time_s.shape == (m,)):
            raise ValidationError("arc arrays differ in length", field="arcs")
        if n_nodes < 0:
            raise ValidationError("n_nodes must be >= 0", field="n_nodes")
        edge_arr = np.arange(m, dtype=np.int64) if edge is None else _index_array(edge, "edge")
        if edge_arr.shape != (m,):
            raise ValidationError("edge array differs in length from the arcs", field="edge")
        status, built = _csr.build_csr(tail, head, length_m, time_s, edge_arr, int(n_nodes))
        if status != _csr.OK:
            raise ValidationError(_BUILD_ERRORS[status], field="arcs")
        indptr, o_tail, o_head, o_length, o_time, o_edge, n_edges = built
        return cls(
            indptr=indptr,
            head=o_head,
            tail=o_tail,
            length_m=o_length,
            time_s=o_time,
            edge=o_edge,
            lon=np.zeros(n_nodes) if lon is None else np.asarray(lon, dtype=np.float64),
            lat=np.zeros(n_nodes) if lat is None else np.asarray(lat, dtype=np.float64),
            node_ids=range(n_nodes) if node_ids is None else node_ids,
            edge_ids=range(n_edges) if edge_ids is None else edge_ids,
            edge_attrs=dict(edge_attrs or {}),
            label=label,
        )

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> RoadGraph:
        """The scenario's road graph: every (undirected) edge becomes two arcs."""
        idx = scenario.node_index
        src = np.array([idx[e.source] for e in scenario.edges], dtype=np.int64)
        dst = np.array([idx[e.target] for e in scenario.edges], dtype=np.int64)
        length = np.array([e.length_m for e in scenario.edges], dtype=np.float64)
        time = np.array([e.travel_time_s for e in scenario.edges], dtype=np.float64)
        eidx = np.arange(len(scenario.edges), dtype=np.int64)
        return cls.from_arcs(
            np.concatenate([src, dst]),
            np.concatenate([dst, src]),
            np.concatenate([length, length]),
            np.concatenate([time, time]),
            n_nodes=len(scenario.nodes),
            edge=np.concatenate([eidx, eidx]),
            lon=np.array([n.lon for n in scenario.nodes]),
            lat=np.array([n.lat for n in scenario.nodes]),
            node_ids=[n.id for n in scenario.nodes],
            edge_ids=[e.id for e in scenario.edges],
            edge_attrs={
                "length_m": length,
                "time_s": time,
                "traffic_vph": np.array([e.traffic_vph for e in scenario.edges], dtype=float),
            },
            label=scenario.labels.get("roads", "schematic"),
        )

    # --- sizes and look-ups ---------------------------------------------------------------

    @property
    def n_nodes(self) -> int:
        return int(self.indptr.shape[0] - 1)

    @property
    def n_arcs(self) -> int:
        return int(self.head.shape[0])

    @property
    def n_edges(self) -> int:
        return len(self.edge_ids)

    @cached_property
    def _node_pos(self) -> dict[Any, int]:
        return {nid: i for i, nid in enumerate(self.node_ids)}

    @cached_property
    def _edge_pos(self) -> dict[Any, int]:
        return {eid: i for i, eid in enumerate(self.edge_ids)}

    def node_index(self, node_id: Any) -> int:
        """Position of an external node id; :class:`NotFoundError` when unknown."""
        try:
            return self._node_pos[node_id]
        except KeyError:
            raise NotFoundError(f"unknown node {node_id!r}", field="node") from None

    def has_node(self, node_id: Any) -> bool:
        return node_id in self._node_pos

    def has_edge(self, edge_id: Any) -> bool:
        return edge_id in self._edge_pos

    def edge_index(self, edge_id: Any) -> int:
        try:
            return self._edge_pos[edge_id]
        except KeyError:
            raise NotFoundError(f"unknown edge {edge_id!r}", field="edge") from None

    @cached_property
    def _main_component(self) -> np.ndarray:
        """Nodes of the largest strongly connected component (boolean mask)."""
        from scipy.sparse.csgraph import connected_components

        # canonical structure: scipy's strong components go wrong on duplicate entries (our
        # parallel arcs; scipy/scipy#4409): on the Liechtenstein extract the largest came out
        # as 933 of 13,905 nodes instead of 13,849
        adj = csr_matrix(
            (np.ones(self.n_arcs), self.head, self.indptr),
            shape=(self.n_nodes, self.n_nodes),
            copy=True,  # sum_duplicates sorts in place: it must not reorder our arcs
        )
        adj.sum_duplicates()
        n, labels = connected_components(adj, directed=True, connection="strong")
        if n <= 1:
            return np.ones(self.n_nodes, dtype=bool)
        return np.asarray(labels == np.argmax(np.bincount(labels)))

    def nearest_node(self, lon: float, lat: float, *, connected: bool = True) -> tuple[int, float]:
        """The node closest to ``(lon, lat)`` (great-circle) and its distance in metres.

        With ``connected`` (the default) only nodes of the largest strongly connected component
        count, so that a point snapped to a stray piece of road (a private driveway, a one-way
        stub cut off at the extract's border) still has a route to and from the rest.
        """
        if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValidationError(f"not a WGS84 position: {lon}, {lat}", field="position")
        if self.n_nodes == 0:
            raise NotFoundError("the road graph has no nodes", field="position")
        cand = np.nonzero(self._main_component)[0] if connected else np.arange(self.n_nodes)
        d = haversine_m(lon, lat, self.lon[cand], self.lat[cand])
        k = int(np.argmin(d))
        return int(cand[k]), float(d[k])

    # --- weights --------------------------------------------------------------------------

    def weights(self, weight: Weight = "time") -> np.ndarray:
        """Per-arc weights: ``"time"`` (s), ``"length"`` (m) or an (m,) array."""
        if isinstance(weight, str):
            if weight == "time":
                return self.time_s
            if weight == "length":
                return self.length_m
            raise ValidationError(f"unknown weight {weight!r}", field="weight")
        w = np.asarray(weight, dtype=np.float64)
        if w.shape != (self.n_arcs,):
            raise ValidationError(f"weight array must have shape ({self.n_arcs},)", field="weight")
        if w.size and not (np.isfinite(w).all() and w.min() >= 0):
            raise ValidationError("arc weights must be finite and >= 0", field="weight")
        return w

    def edge_values_to_arcs(self, values: np.ndarray) -> np.ndarray:
        """Spread a per-edge array onto arcs (both directions get the edge's value)."""
        return np.asarray(values, dtype=np.float64)[self.edge]

    def matrix(self, weight: Weight = "time") -> csr_matrix:
        """The weighted adjacency as a SciPy CSR matrix (parallel arcs kept; Dijkstra takes
        the cheapest)."""
        w = self.weights(weight)
        return csr_matrix((w, self.head, self.indptr), shape=(self.n_nodes, self.n_nodes))

    @cached_property
    def _time_matrix(self) -> csr_matrix:
        return self.matrix("time")

    @cached_property
    def _length_matrix(self) -> csr_matrix:
        return self.matrix("length")

    def _cached_matrix(self, weight: Weight) -> csr_matrix:
        if isinstance(weight, str) and weight == "time":
            return self._time_matrix
        if isinstance(weight, str) and weight == "length":
            return self._length_matrix
        return self.matrix(weight)

    @cached_property
    def reverse(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Reverse CSR: (indptr, tail of each reversed arc, original arc index)."""
        order = np.argsort(self.head, kind="quicksort")
        counts = np.bincount(self.head, minlength=self.n_nodes)
        indptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return indptr, self.tail[order], order.astype(np.int64)

    # --- shortest paths -------------------------------------------------------------------

    def distances(
        self,
        sources: int | Sequence[int] | np.ndarray,
        *,
        weight: Weight = "time",
        targets: Sequence[int] | np.ndarray | None = None,
        limit: float = np.inf,
        reverse: bool = False,
        predecessors: bool = False,
    ) -> Any:
        """One-to-all or many-to-many shortest-path costs.

        Returns an array ``(len(sources), n)`` (or ``(len(sources), len(targets))``), with
        ``inf`` for unreachable nodes and for costs above ``limit``; a 1-D array for a single
        int source. ``reverse=True`` gives costs *to* the sources. With ``predecessors=True``
        returns ``(dist, pred)`` (SciPy csgraph Dijkstra). Otherwise our compiled Dijkstra on
        the contracted graph (:mod:`corridorguard.routing._sssp`) answers; SciPy is the
        fallback without numba.
        """
        single = np.ndim(sources) == 0
        src = np.atleast_1d(np.asarray(sources, dtype=np.int64))
        if src.size and (src.min() < 0 or src.max() >= self.n_nodes):
            raise NotFoundError("source node outside the graph", field="sources")
        tgt = None
        if targets is not None:
            tgt = np.atleast_1d(np.asarray(targets, dtype=np.int64))
            if tgt.size and (tgt.min() < 0 or tgt.max() >= self.n_nodes):
                raise NotFoundError("target node outside the graph", field="targets")
        limit = float(limit)
        if not limit >= 0:
            raise ValidationError("limit must be >= 0", field="limit")
        from corridorguard.routing import _sssp

        if _sssp.AVAILABLE and not predecessors:
            con, w, cum, total = self._contracted(weight, reverse=reverse)
            dist = _sssp.many_to_all(con, w, cum, total, src, targets=tgt, limit=limit)
            return dist[0] if single else dist
        mat = self._cached_matrix(weight)
        if reverse:
            mat = mat.T.tocsr()
        out = dijkstra(
            mat, directed=True, indices=src, limit=limit, return_predecessors=predecessors
        )
        dist, pred = out if predecessors else (out, None)
        if tgt is not None:
            dist = dist[:, tgt]
        if single:
            dist = dist[0]
            pred = None if pred is None else pred[0]
        return (dist, pred) if predecessors else dist

    @cached_property
    def _contraction(self) -> Any:
        from corridorguard.routing import _sssp

        return _sssp.contract(self.indptr, self.head, self.tail)

    @cached_property
    def _reverse_contraction(self) -> Any:
        from corridorguard.routing import _sssp

        rptr, rtail, rarc = self.reverse
        return _sssp.contract(rptr, rtail, self.head[rarc])

    def _contracted(self, weight: Weight, *, reverse: bool) -> tuple[Any, Any, Any, Any]:
        """Contraction, arc weights in its arc order, chain prefix sums and chain totals;
        cached for the named weights."""
        key = (weight, reverse) if isinstance(weight, str) else None
        cache: dict[Any, Any] = self.__dict__.setdefault("_prefix_cache", {})
        if key is not None and key in cache:
            return cache[key]
        w = self.weights(weight)
        con = self._reverse_contraction if reverse else self._contraction
        w = w[self.reverse[2]] if reverse else np.ascontiguousarray(w)
        cum, total = con.prefix(w)
        hit = (con, w, cum, total)
        if key is not None:
            cache[key] = hit
        return hit

    def shortest_path(
        self,
        source: int,
        target: int,
        *,
        weight: Weight = "time",
        method: Literal["bidirectional", "astar", "bounded"] = "bidirectional",
    ) -> Path:
        """Point-to-point shortest path with early exit.

        ``bidirectional``: our compiled bidirectional Dijkstra on the contracted graph
        (:mod:`corridorguard.routing._p2p`; chains of degree-2 nodes are single arcs there),
        path unpacked to the original arcs; without numba, a ``heapq`` bidirectional search.
        ``astar``: A* with a great-circle lower bound scaled by the smallest weight per
        great-circle metre over all arcs (so it stays admissible for any weights).
        ``bounded``: compiled csgraph Dijkstra cut at a growing distance limit, then a
        predecessor walk. All three are exact. :class:`NotFoundError` when unreachable.
        """
        from corridorguard.routing import _search

        for end, v in (("source", source), ("target", target)):
            if not 0 <= int(v) < self.n_nodes:
                raise NotFoundError(f"{end} node {v} outside the graph", field=end)
        from corridorguard.routing import _p2p, _sssp

        if method == "bidirectional" and _sssp.AVAILABLE:
            con, w, cum, total = self._contracted(weight, reverse=False)
            cost, arc_arr = _p2p.shortest(con, w, cum, total, int(source), int(target))
            if not np.isfinite(cost):
                raise _search._unreachable(self, int(source), int(target))
            return self.path_from_arcs(int(source), arc_arr, cost)
        w = self.weights(weight)
        if method == "bidirectional":
            cost, arcs = _search.bidirectional(self, int(source), int(target), w)
        elif method == "astar":
            cost, arcs = _search.astar(self, int(source), int(target), w, weight)
        elif method == "bounded":
            cost, arcs = _search.bounded(self, int(source), int(target), weight)
        else:
            raise ValidationError(f"unknown method {method!r}", field="method")
        return self.path_from_arcs(int(source), arcs, cost)

    def path_from_arcs(self, source: int, arcs: Sequence[int] | np.ndarray, cost: float) -> Path:
        a = np.asarray(arcs, dtype=np.int64)
        nodes = (source, *self.head[a].tolist())
        return Path(
            nodes=nodes,
            arcs=tuple(a.tolist()),
            cost=float(cost),
            length_m=float(self.length_m[a].sum()),
            time_s=float(self.time_s[a].sum()),
        )

    # --- conversions ----------------------------------------------------------------------

    _NPZ_VERSION = 1
    _NPZ_ARRAYS = ("indptr", "head", "tail", "length_m", "time_s", "edge", "lon", "lat")

    def save_npz(self, path: str | FsPath) -> None:
        """Write the graph to one ``.npz`` file (no pickles; atomic: a temporary file renamed
        into place). Ids must be all integers or all strings (OSM and GeoJSON graphs are)."""
        import os
        import tempfile

        arrays: dict[str, np.ndarray] = {k: getattr(self, k) for k in self._NPZ_ARRAYS}
        arrays["version"] = np.array(self._NPZ_VERSION)
        arrays["label"] = np.array(self.label)
        for name in ("node_ids", "edge_ids"):
            ids = getattr(self, name)
            if isinstance(ids, range):
                arrays[name + "_range"] = np.array([ids.start, ids.stop, ids.step])
            else:
                arrays[name] = _id_array(ids, name)
        for k, v in self.edge_attrs.items():
            v = np.asarray(v)
            arrays["attr:" + k] = v.astype(str) if v.dtype == object else v
        target = FsPath(path)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)  # type: ignore[arg-type]
            os.replace(tmp, target)
        except BaseException:
            FsPath(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load_npz(cls, path: str | FsPath) -> RoadGraph:
        """Read a graph written by :meth:`save_npz`."""
        with np.load(path, allow_pickle=False) as z:
            if "version" not in z or int(z["version"]) != cls._NPZ_VERSION:
                raise ValidationError("not a corridorguard road graph file", file=str(path))
            ids: dict[str, Sequence[Any]] = {}
            for name in ("node_ids", "edge_ids"):
                if name + "_range" in z:
                    ids[name] = range(*(int(v) for v in z[name + "_range"]))
                else:
                    ids[name] = z[name].tolist()
            return cls(
                **{k: z[k] for k in cls._NPZ_ARRAYS},
                node_ids=ids["node_ids"],
                edge_ids=ids["edge_ids"],
                edge_attrs={k[5:]: z[k] for k in z.files if k.startswith("attr:")},
                label=str(z["label"]),
            )

    def to_networkx(self, weight: Weight = "time") -> Any:
        """A ``networkx.DiGraph`` (cheapest of parallel arcs) for interop and checks."""
        import networkx as nx

        w = self.weights(weight)
        g = nx.DiGraph()
        g.add_nodes_from(range(self.n_nodes))
        for u, v, c in zip(self.tail.tolist(), self.head.tolist(), w.tolist(), strict=True):
            if not g.has_edge(u, v) or g[u][v]["weight"] > c:
                g.add_edge(u, v, weight=c)
        return g

    def arc_lookup(self, u: int, v: int, weight: Weight = "time") -> int:
        """The cheapest arc from ``u`` to ``v``; :class:`NotFoundError` if none."""
        w = self.weights(weight)
        lo, hi = int(self.indptr[u]), int(self.indptr[u + 1])
        cand = [a for a in range(lo, hi) if int(self.head[a]) == v]
        if not cand:
            raise NotFoundError(f"no arc {u}->{v}", field="arc")
        return min(cand, key=lambda a: w[a])


def _id_array(ids: Sequence[Any], name: str) -> np.ndarray:
    values = list(ids)
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    if all(isinstance(v, str) for v in values):
        return np.asarray(values, dtype=str)
    raise ValidationError(f"{name} must be all integers or all strings to save", field=name)


def edge_risk_array(graph: RoadGraph, risk: Mapping[Any, float] | None) -> np.ndarray:
    """Per-edge risk rate from an optional ``{edge_id: risk}`` mapping; 1.0 (uniform) where
    absent. Negative or non-finite values are rejected."""
    out = np.ones(graph.n_edges, dtype=np.float64)
    if not risk:
        return out
    for eid, r in risk.items():
        val = float(r)
        if not np.isfinite(val) or val < 0:
            raise ValidationError(f"risk must be finite and >= 0, got {r!r}", field=f"risk.{eid}")
        out[graph.edge_index(eid)] = val
    return out
