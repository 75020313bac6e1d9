"""The time-expanded patrol graph and the target values."""

from __future__ import annotations

from datetime import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridorguard.errors import ValidationError
from corridorguard.patrol.graph import FLY, WAIT, build_patrol_graph, haversine_km
from corridorguard.patrol.synthetic import grid_scenario
from corridorguard.patrol.targets import build_targets
from corridorguard.scenario import Edge, Force, Jurisdiction, Movement, Node, Scenario, Site, Unit


def _line(n: int = 4, **unit_kw) -> Scenario:
    """A straight road of ``n`` nodes 60 km apart (by length); one force, one unit at n0."""
    nodes = tuple(
        Node(id=f"n{i}", name=f"n{i}", lon=70 + 0.6 * i, lat=30.0, province="P") for i in range(n)
    )
    edges = tuple(
        Edge(
            id=f"e{i}",
            source=f"n{i}",
            target=f"n{i + 1}",
            route="N-1",
            length_m=60_000,
            speed_kmh=60,
            traffic_vph=100.0 * (i + 1),
        )
        for i in range(n - 1)
    )
    unit = Unit(id="u", base="n0", **{"kind": "patrol", "speed_kmh": 60.0, **unit_kw})
    force = Force(id="F", name="F", jurisdiction=Jurisdiction(provinces=("P",)), units=(unit,))
    sites = (Site(id="s", name="s", type="dam", lon=70.6, lat=30, criticality=5, node="n1"),)
    return Scenario(name="line", nodes=nodes, edges=edges, sites=sites, forces=(force,))


def test_move_durations_follow_the_unit_speed() -> None:
    fast = build_patrol_graph(_line(), build_targets(_line(), slot_minutes=30), shift_hours=4)
    slow_sc = _line(speed_kmh=30.0)
    slow = build_patrol_graph(slow_sc, build_targets(slow_sc, slot_minutes=30), shift_hours=4)
    f, s = fast.layers[0], slow.layers[0]
    assert set(f.arc_dur[f.arc_edge >= 0]) == {2}  # 60 km at 60 km/h = 1 h = 2 slots
    assert set(s.arc_dur[s.arc_edge >= 0]) == {4}  # 60 km at 30 km/h = 2 h = 4 slots
    # with 4-hour shifts the slow team can reach n1 only (2 h out, 2 h back)
    assert set(s.state_node.tolist()) == {0, 1}
    assert set(f.state_node.tolist()) == {0, 1, 2}


def test_road_speed_caps_the_unit() -> None:
    sc = _line(speed_kmh=120.0)
    ly = build_patrol_graph(sc, build_targets(sc, slot_minutes=30), shift_hours=4).layers[0]
    assert set(ly.arc_dur[ly.arc_edge >= 0]) == {2}  # road is 60 km/h


def test_states_start_and_end_at_base_and_arcs_go_forward() -> None:
    sc = _line()
    g = build_patrol_graph(sc, build_targets(sc, slot_minutes=60), shift_hours=6)
    assert len(g.layers) == 4  # 24 h / 6 h
    for ly in g.layers:
        assert ly.state_node[ly.source] == ly.base == ly.state_node[ly.sink]
        assert ly.state_t[ly.source] == 0 and ly.state_t[ly.sink] == ly.n_slots
        assert np.all(ly.state_t[ly.arc_head] - ly.state_t[ly.arc_tail] == ly.arc_dur)
        inc = ly.incidence()
        assert inc.shape == (ly.n_states, ly.n_arcs)
        assert ly.supply().sum() == 0


def test_coverage_of_moves_and_waits() -> None:
    sc = _line()
    tg = build_targets(sc, slot_minutes=60)
    ly = build_patrol_graph(sc, tg, shift_hours=6).layers[0]
    for a in range(ly.n_arcs):
        covered = set(ly.cover[a].indices.tolist())
        if ly.arc_edge[a] >= 0:
            slots = range(
                ly.start_slot + ly.arc_t0[a], ly.start_slot + ly.arc_t0[a] + ly.arc_dur[a]
            )
            assert covered == {tg.segment_target(int(ly.arc_edge[a]), g % 24) for g in slots}
        elif ly.state_node[ly.arc_tail[a]] == 1:  # waiting at the dam's node covers the dam
            assert covered == {tg.site_target(0, int(ly.start_slot + ly.arc_t0[a]) % 24)}
        else:
            assert covered == set()


def test_checkpoint_waiting_covers_incident_segments() -> None:
    sc = _line(kind="checkpoint", speed_kmh=5.0)
    tg = build_targets(sc, slot_minutes=60)
    ly = build_patrol_graph(sc, tg, shift_hours=6).layers[0]
    waits = np.flatnonzero(ly.arc_edge == WAIT)
    a = waits[0]
    assert tg.segment_target(0, int(ly.start_slot + ly.arc_t0[a])) in ly.cover[a].indices


def test_drones_respect_range_and_endurance() -> None:
    sc = _line(n=6, kind="drone", speed_kmh=120.0, range_km=70.0, endurance_min=120.0)
    g = build_patrol_graph(sc, build_targets(sc, slot_minutes=30), shift_hours=8)
    assert len(g.layers) == 3 * 4  # 3 shifts × 4 two-hour sorties
    base = sc.node("n0")
    for ly in g.layers:
        assert ly.n_slots == 4
        assert set(ly.arc_edge.tolist()) <= {WAIT, FLY}
        for v in set(ly.state_node.tolist()):
            n = sc.nodes[v]
            assert haversine_km(base.lon, base.lat, n.lon, n.lat) <= 70.0


def test_units_outside_jurisdiction_are_skipped_and_bad_shift_rejected() -> None:
    sc = _line()
    force = sc.forces[0].model_copy(update={"jurisdiction": Jurisdiction(provinces=("Q",))})
    sc2 = sc.model_copy(update={"forces": (force,)})
    g = build_patrol_graph(sc2, build_targets(sc2, slot_minutes=60))
    assert g.layers == () and "outside" in g.skipped[0]
    with pytest.raises(ValidationError):
        build_patrol_graph(sc, build_targets(sc, slot_minutes=60), shift_hours=0.25)
    with pytest.raises(ValidationError):
        build_targets(sc, slot_minutes=7)
    with pytest.raises(ValidationError):
        build_patrol_graph(sc, build_targets(sc, slot_minutes=60), forces=("nobody",))


def test_shift_changes_are_staggered() -> None:
    sc = grid_scenario(2, 3, units_per_force=4, seed=0)
    g = build_patrol_graph(sc, build_targets(sc, slot_minutes=60), shift_hours=8)
    starts = {ly.unit_id: ly.start_slot for ly in g.layers if ly.shift == 0 and ly.sortie == 0}
    west = sorted(v for k, v in starts.items() if k.startswith("west"))
    assert west == [0, 2, 4, 6]
    flat = build_patrol_graph(sc, build_targets(sc, slot_minutes=60), shift_hours=8, stagger=False)
    assert {ly.start_slot for ly in flat.layers if ly.shift == 0} == {0}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(2, 4),
    cols=st.integers(3, 6),
    seed=st.integers(0, 1000),
    drop=st.floats(0.0, 0.4),
)
def test_no_arc_leaves_the_force_jurisdiction(rows: int, cols: int, seed: int, drop: float) -> None:
    sc = grid_scenario(rows, cols, units_per_force=5, seed=seed, drop=drop)
    g = build_patrol_graph(sc, build_targets(sc, slot_minutes=60), shift_hours=6)
    for ly in g.layers:
        for v in np.unique(ly.state_node):
            assert sc.node_in_jurisdiction(ly.force_id, sc.nodes[int(v)].id)
        for e in np.unique(ly.arc_edge[ly.arc_edge >= 0]):
            assert sc.edge_in_jurisdiction(ly.force_id, sc.edges[int(e)])
        # and its coverage stays there too
        seg = ly.cover.indices[ly.cover.indices < g.targets.n_segment_targets] // 24
        for e in np.unique(seg):
            assert sc.edge_in_jurisdiction(ly.force_id, sc.edges[int(e)])


def test_target_values_traffic_sites_convoys_and_risk() -> None:
    sc = _line()
    convoy = Movement(
        id="c",
        name="c",
        origin="n0",
        destination="n3",
        window_start=time(8, 0),
        window_end=time(9, 0),
        people=40,
    )
    sc = sc.model_copy(update={"movements": (convoy,)})
    tg = build_targets(sc, slot_minutes=60, risk={"e2": 2.0, "s": [0.0] * 12 + [1.0] * 12})
    people = tg.convoy_people[: tg.n_segment_targets].reshape(3, 24)
    # 60 km at 60 km/h: e0 from 8:00-10:00, e1 9:00-11:00, e2 10:00-12:00
    assert np.flatnonzero(people[0]).tolist() == [8, 9]
    assert np.flatnonzero(people[1]).tolist() == [9, 10]
    assert np.flatnonzero(people[2]).tolist() == [10, 11]
    v = tg.value[: tg.n_segment_targets].reshape(3, 24)
    assert v[2, 10] == pytest.approx(2 * (0.3 * 1.0 + 1.0))  # busiest road, convoy, risk ×2
    assert v[0, 0] == pytest.approx(0.3 / 3)
    site = tg.value[tg.n_segment_targets :]
    assert site[:12].max() == 0 and site[12] == pytest.approx(0.5)  # criticality 5, no workers
    assert np.all(tg.attacker_penalty == -0.5 * tg.value)
    assert set(tg.classes()) == {"segment", "convoy_segment", "site"}
    assert tg.describe(tg.site_target(0, 5)) == {"kind": "site", "id": "s", "slot": 5}
    with pytest.raises(ValidationError):
        build_targets(sc, slot_minutes=60, risk={"e0": [1.0, 2.0]})
