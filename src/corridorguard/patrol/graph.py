"""The time-expanded patrol graph: (node) × time slot, per unit and shift.

Each *layer* is one group of identical resources (a scenario :class:`~corridorguard.scenario.Unit`
with ``count`` of them) in one shift (and, for drones, one sortie). Its states are (node, slot
boundary ``t``) pairs with ``0 <= t <= L`` (``L`` slots in the shift); its arcs are

* **wait** at a node for one slot;
* **move** along a road segment inside the force's jurisdiction, taking
  ``ceil(length / min(unit speed, road speed) / slot)`` slots (at least one) — vehicle patrols and
  foot / checkpoint teams;
* **fly** (drones): a straight leg to one of the ``k`` nearest nodes within ``range_km`` of the
  base and inside the jurisdiction, at the drone's speed; drones ignore roads. A shift is cut into
  sorties of ``endurance_min``, each starting and ending at the base.

Every resource leaves its base at the start of its shift (or sortie) and is back at the end. States
that cannot be reached from the base, or from which the base cannot be reached in time, are pruned.

Coverage (which targets an arc covers, see :mod:`corridorguard.patrol.targets`): a move covers its
segment in every slot it spans; a wait covers the sites served by the node, and — for checkpoint
teams and drones — the node's segments in the jurisdiction. A unit's *effectiveness* (detection ×
interdiction probability) scales its coverage; coverage is additive across units and capped at one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra

from corridorguard.errors import ValidationError
from corridorguard.patrol.targets import TargetSet
from corridorguard.scenario import Force, Scenario, Unit

__all__ = ["PATROL_KINDS", "PatrolGraph", "PatrolLayer", "build_patrol_graph", "haversine_km"]

PATROL_KINDS = ("patrol", "checkpoint", "drone")
"""Unit kinds that patrol. Quick-reaction forces and cameras are placed, not patrolled."""

WAIT, FLY = -1, -2
MAX_CREWS = 4
"""With staggering, a unit's resources are split into at most this many crews with their own
shift-change times."""
DRONE_NEIGHBOURS = 6

IntArray = NDArray[np.int64]


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True, eq=False)
class PatrolLayer:
    """One group of identical resources in one shift (or drone sortie), time-expanded."""

    key: str
    force_id: str
    unit_id: str
    kind: str
    shift: int
    sortie: int
    count: int
    effectiveness: float
    base: int
    """Scenario node index of the base."""
    start_slot: int
    n_slots: int
    state_node: IntArray
    state_t: IntArray
    source: int
    sink: int
    arc_tail: IntArray
    arc_head: IntArray
    arc_edge: IntArray
    """Scenario edge index of a move; ``-1`` wait, ``-2`` drone leg."""
    arc_t0: IntArray
    arc_dur: IntArray
    cover: csr_matrix = field(repr=False)
    """Arcs × targets, 1 where the arc covers the target (before effectiveness)."""
    presence: csr_matrix = field(repr=False)
    """Arcs × (node · n_day_slots + slot), 1 where the arc waits at that node in that slot."""

    @property
    def n_arcs(self) -> int:
        return int(self.arc_tail.size)

    @property
    def n_states(self) -> int:
        return int(self.state_node.size)

    def incidence(self) -> csr_matrix:
        """States × arcs: -1 at the tail, +1 at the head."""
        a = np.arange(self.n_arcs)
        data = np.concatenate([-np.ones(self.n_arcs), np.ones(self.n_arcs)])
        rows = np.concatenate([self.arc_tail, self.arc_head])
        return csr_matrix(
            (data, (rows, np.concatenate([a, a]))), shape=(self.n_states, self.n_arcs)
        )

    def supply(self) -> NDArray[np.float64]:
        """Net inflow per state: ``-count`` at the source, ``+count`` at the sink."""
        b = np.zeros(self.n_states)
        b[self.source] = -self.count
        b[self.sink] = self.count
        return b


@dataclass(frozen=True, eq=False)
class PatrolGraph:
    """All layers of one day and the targets they cover."""

    scenario: Scenario
    targets: TargetSet
    layers: tuple[PatrolLayer, ...]
    skipped: tuple[str, ...] = ()
    """Units left out, with the reason (``unit: why``)."""

    @property
    def arc_offsets(self) -> IntArray:
        return np.concatenate([[0], np.cumsum([ly.n_arcs for ly in self.layers])]).astype(np.int64)

    @property
    def n_arcs(self) -> int:
        return int(self.arc_offsets[-1])

    def coverage_matrix(self) -> csr_matrix:
        """Targets × arcs, effectiveness-weighted (coverage = this @ flow, before the cap at 1)."""
        if not self.layers:
            return csr_matrix((self.targets.n, 0))
        from scipy.sparse import hstack

        blocks = [(ly.cover.T * ly.effectiveness).tocsr() for ly in self.layers]
        return hstack(blocks, format="csr")

    def coverable(self) -> NDArray[np.bool_]:
        return np.asarray(self.coverage_matrix().getnnz(axis=1) > 0)


# --- construction -----------------------------------------------------------------------------


def _shift_length(unit: Unit, slot_minutes: float, shift_hours: float | None) -> int:
    hours = shift_hours if shift_hours is not None else unit.shift_hours
    return max(1, round(hours * 60 / slot_minutes))


def _unit_shifts(
    unit: Unit, n_slots: int, slot_minutes: float, shift_hours: float | None, offset: int
) -> list[tuple[int, int, int, int]]:
    """(shift, sortie, first day slot, length) covering the day once, starting at ``offset``."""
    length = _shift_length(unit, slot_minutes, shift_hours)
    shifts = []
    for k, start in enumerate(range(0, n_slots, length)):
        end = min(n_slots, start + length)
        if unit.kind == "drone" and unit.endurance_min is not None:
            sortie = max(1, int(unit.endurance_min // slot_minutes))
            for j, s0 in enumerate(range(start, end, sortie)):
                shifts.append((k, j, (s0 + offset) % n_slots, min(end, s0 + sortie) - s0))
        else:
            shifts.append((k, 0, (start + offset) % n_slots, end - start))
    return shifts


@dataclass
class _ForceArea:
    nodes: NDArray[np.bool_]
    edges: NDArray[np.bool_]


def _force_area(scenario: Scenario, force: Force) -> _ForceArea:
    nodes = np.array([scenario.node_in_jurisdiction(force.id, n.id) for n in scenario.nodes])
    idx = scenario.node_index
    edges = np.array(
        [bool(nodes[idx[e.source]] and nodes[idx[e.target]]) for e in scenario.edges], dtype=bool
    )
    return _ForceArea(nodes.astype(bool), edges)


def _moves(scenario: Scenario, unit: Unit, area: _ForceArea, slot_minutes: float):
    """Allowed nodes (scenario indices) and directed moves (local u, local v, edge, slots)."""
    idx = scenario.node_index
    base = idx[unit.base]
    if unit.kind == "drone":
        home = scenario.nodes[base]
        rng = unit.range_km if unit.range_km is not None else math.inf
        dist = np.array([haversine_km(home.lon, home.lat, n.lon, n.lat) for n in scenario.nodes])
        allowed = np.flatnonzero(area.nodes & (dist <= rng + 1e-9))
    else:
        allowed = np.flatnonzero(area.nodes)
    local = {int(n): i for i, n in enumerate(allowed)}
    mu: list[int] = []
    mv: list[int] = []
    me: list[int] = []
    mt: list[int] = []
    slot_h = slot_minutes / 60
    if unit.kind == "drone":
        pts = [(scenario.nodes[n].lon, scenario.nodes[n].lat) for n in allowed]
        pairs: set[tuple[int, int]] = set()
        for i, (lon, lat) in enumerate(pts):
            d = [haversine_km(lon, lat, x, y) for x, y in pts]
            for j in np.argsort(d)[1 : DRONE_NEIGHBOURS + 1]:
                pairs.add((min(i, int(j)), max(i, int(j))))
        for i, j in sorted(pairs):
            km = haversine_km(*pts[i], *pts[j])
            tau = max(1, math.ceil(km / unit.speed_kmh / slot_h - 1e-9))
            mu += [i, j]
            mv += [j, i]
            me += [FLY, FLY]
            mt += [tau, tau]
    else:
        for e_i, e in enumerate(scenario.edges):
            if not area.edges[e_i]:
                continue
            speed = min(unit.speed_kmh, e.speed_kmh)
            tau = max(1, math.ceil(e.length_m / 1000 / speed / slot_h - 1e-9))
            a, b = local[idx[e.source]], local[idx[e.target]]
            mu += [a, b]
            mv += [b, a]
            me += [e_i, e_i]
            mt += [tau, tau]
    arr = [np.asarray(x, dtype=np.int64) for x in (mu, mv, me, mt)]
    return allowed.astype(np.int64), local.get(base), arr


def _node_lists(scenario: Scenario, area: _ForceArea) -> tuple[list[list[int]], list[list[int]]]:
    idx = scenario.node_index
    sites: list[list[int]] = [[] for _ in scenario.nodes]
    for s_i, s in enumerate(scenario.sites):
        if s.node is not None:
            sites[idx[s.node]].append(s_i)
    edges: list[list[int]] = [[] for _ in scenario.nodes]
    for e_i, e in enumerate(scenario.edges):
        if area.edges[e_i]:
            edges[idx[e.source]].append(e_i)
            edges[idx[e.target]].append(e_i)
    return sites, edges


def _layer(
    key: str,
    force: Force,
    unit: Unit,
    count: int,
    shift: tuple[int, int, int, int],
    geo: tuple[IntArray, int, list[IntArray]],
    lists: tuple[list[list[int]], list[list[int]]],
    targets: TargetSet,
    n_nodes: int,
) -> PatrolLayer:
    k, sortie, start, length = shift
    allowed, base_local, (mu, mv, me, mt) = geo
    n_loc = allowed.size
    # slot distance from the base (moves are symmetric, so it is also the distance back)
    g = csr_matrix((mt.astype(float), (mu, mv)), shape=(n_loc, n_loc))
    dist = dijkstra(g, indices=base_local) if mu.size else np.full(n_loc, np.inf)
    dist[base_local] = 0
    t = np.arange(length + 1)[:, None]
    valid = (dist[None, :] <= t) & (dist[None, :] <= length - t)
    sid = np.full(valid.shape, -1, dtype=np.int64)
    sid[valid] = np.arange(int(valid.sum()))
    st_t, st_l = np.nonzero(valid)
    # waits
    wt, wl = np.nonzero(valid[:-1] & valid[1:])
    tails = [sid[wt, wl]]
    heads = [sid[wt + 1, wl]]
    edge = [np.full(wt.size, WAIT)]
    t0s = [wt]
    durs = [np.ones(wt.size, dtype=np.int64)]
    # moves
    for tau in np.unique(mt):
        sel = np.flatnonzero(mt == tau)
        if tau > length:
            continue
        tt = np.arange(length - tau + 1)
        ok = valid[tt][:, mu[sel]] & valid[tt + tau][:, mv[sel]]
        ti, mi = np.nonzero(ok)
        m = sel[mi]
        tails.append(sid[ti, mu[m]])
        heads.append(sid[ti + tau, mv[m]])
        edge.append(me[m])
        t0s.append(ti)
        durs.append(np.full(ti.size, tau, dtype=np.int64))
    arc_tail, arc_head, arc_edge, arc_t0, arc_dur = (
        np.concatenate(x).astype(np.int64) for x in (tails, heads, edge, t0s, durs)
    )
    state_node = allowed[st_l]
    cover, presence = _arc_cover(
        unit.kind, state_node[arc_tail], arc_edge, arc_t0 + start, arc_dur, lists, targets, n_nodes
    )  # day slots wrap around midnight inside _arc_cover
    return PatrolLayer(
        key=key,
        force_id=force.id,
        unit_id=unit.id,
        kind=unit.kind,
        shift=k,
        sortie=sortie,
        count=count,
        effectiveness=unit.detection_prob * unit.interdiction_prob,
        base=int(allowed[base_local]),
        start_slot=start,
        n_slots=length,
        state_node=state_node.astype(np.int64),
        state_t=st_t.astype(np.int64),
        source=int(sid[0, base_local]),
        sink=int(sid[length, base_local]),
        arc_tail=arc_tail,
        arc_head=arc_head,
        arc_edge=arc_edge,
        arc_t0=arc_t0,
        arc_dur=arc_dur,
        cover=cover,
        presence=presence,
    )


def _arc_cover(kind, node, edge, g0, dur, lists, targets: TargetSet, n_nodes: int):
    n_arcs, T = edge.size, targets.n_slots
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    mv = np.flatnonzero(edge >= 0)
    if mv.size:
        rep = np.repeat(mv, dur[mv])
        off = np.arange(rep.size) - np.repeat(np.cumsum(dur[mv]) - dur[mv], dur[mv])
        rows.append(rep)
        cols.append(edge[rep] * T + (g0[rep] + off) % T)
    wa = np.flatnonzero(edge == WAIT)
    site_lists, edge_lists = lists
    for a in wa:
        v, g = int(node[a]), int(g0[a]) % T
        for s in site_lists[v]:
            rows.append(np.array([a]))
            cols.append(np.array([targets.site_target(s, g)]))
        if kind in ("checkpoint", "drone"):
            es = edge_lists[v]
            if es:
                rows.append(np.full(len(es), a))
                cols.append(np.asarray(es) * T + g)
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    cover = coo_matrix((np.ones(r.size), (r, c)), shape=(n_arcs, targets.n)).tocsr()
    cover.sum_duplicates()
    cover.data[:] = 1.0
    pres = coo_matrix(
        (np.ones(wa.size), (wa, node[wa] * T + g0[wa] % T)), shape=(n_arcs, n_nodes * T)
    ).tocsr()
    return cover, pres


def build_patrol_graph(
    scenario: Scenario,
    targets: TargetSet,
    *,
    forces: tuple[str, ...] | None = None,
    shift_hours: float | None = None,
    stagger: bool = True,
) -> PatrolGraph:
    """Build every layer for the patrolling units of ``forces`` (default: all forces).

    With ``stagger`` a unit's resources are split into up to :data:`MAX_CREWS` crews, and the shift
    changes of all crews of a force are spread evenly over one shift length (wrapping past
    midnight), so the corridor is never left with every resource back at base at the same time.

    Raises
    ------
    ValidationError
        If the shift is shorter than one slot or a requested force does not exist.
    """
    slot = targets.slot_minutes
    if shift_hours is not None and (shift_hours * 60 < slot or shift_hours > 24):
        raise ValidationError("shift must last between one slot and 24 hours", field="shift_hours")
    known = {f.id for f in scenario.forces}
    for f_id in forces or ():
        if f_id not in known:
            raise ValidationError(f"unknown force {f_id!r}", field="forces")
    layers: list[PatrolLayer] = []
    skipped: list[str] = []
    for force in scenario.forces:
        if forces is not None and force.id not in forces:
            continue
        area = _force_area(scenario, force)
        lists = _node_lists(scenario, area)
        patrolling = [u for u in force.units if u.kind in PATROL_KINDS]
        for u_i, unit in enumerate(patrolling):
            if not area.nodes[scenario.node_index[unit.base]]:
                skipped.append(f"{unit.id}: base {unit.base} is outside {force.id}'s jurisdiction")
                continue
            geo = _moves(scenario, unit, area, slot)
            length = _shift_length(unit, slot, shift_hours)
            n_groups = min(unit.count, length, MAX_CREWS) if stagger else 1
            sizes = [
                unit.count // n_groups + (1 if i < unit.count % n_groups else 0)
                for i in range(n_groups)
            ]
            for c_i, size in enumerate(sizes):
                offset = 0
                if stagger:
                    offset = (u_i * length) // (len(patrolling) * n_groups) + (
                        c_i * length
                    ) // n_groups
                for sh in _unit_shifts(unit, targets.n_slots, slot, shift_hours, offset % length):
                    key = f"{unit.id}/c{c_i}/s{sh[0]}" + (
                        f"/r{sh[1]}" if unit.kind == "drone" else ""
                    )
                    layers.append(
                        _layer(key, force, unit, size, sh, geo, lists, targets, len(scenario.nodes))
                    )
    return PatrolGraph(scenario, targets, tuple(layers), tuple(skipped))
