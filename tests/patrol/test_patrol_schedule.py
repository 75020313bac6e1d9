"""Sampled schedules: feasibility, convergence to the planned coverage, predictability, edits."""

from __future__ import annotations

import itertools
import math
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corridorguard.errors import ValidationError
from corridorguard.patrol.graph import build_patrol_graph, haversine_km
from corridorguard.patrol.plan import PatrolConfig, plan_patrols
from corridorguard.patrol.schedule import (
    Route,
    check_edits,
    comb_sample,
    day_start,
    entropy_bits,
    route_from_waypoints,
    sample_day,
    strategy_entropy,
)
from corridorguard.patrol.solvers import FlowPatrolSolver
from corridorguard.patrol.synthetic import grid_scenario
from corridorguard.patrol.targets import build_targets
from corridorguard.scenario import Scenario


@pytest.fixture(scope="module")
def plan():
    sc = grid_scenario(3, 5, units_per_force=5, seed=2, n_sites=5)
    cfg = PatrolConfig(days=3, slot_minutes=60, shift_hours=6, seed=11)
    return plan_patrols(sc, cfg)


def _check_route(sc: Scenario, r: Route, slot_min: float, shift_h: float) -> None:
    force = sc.force(r.force_id)
    unit = next(u for u in force.units if u.id == r.unit_id)
    legs = r.legs
    assert legs, "a route has legs"
    # starts and ends at the base
    assert legs[0].from_node == unit.base and legs[-1].to_node == unit.base
    # contiguous in space and time
    for a, b in itertools.pairwise(legs):
        assert a.to_node == b.from_node and a.end == b.start
    # within one shift (drone sorties are shorter)
    span = (legs[-1].end - legs[0].start).total_seconds() / 3600
    assert span <= shift_h + 1e-9
    if unit.kind == "drone" and unit.endurance_min is not None:
        assert span * 60 <= unit.endurance_min + 1e-9
    for leg in legs:
        hours = (leg.end - leg.start).total_seconds() / 3600
        assert hours > 0 and math.isclose(hours * 60 % slot_min, 0, abs_tol=1e-6)
        # never outside the force's jurisdiction
        assert sc.node_in_jurisdiction(force.id, leg.from_node)
        assert sc.node_in_jurisdiction(force.id, leg.to_node)
        if leg.kind == "move":
            edge = next(e for e in sc.edges if e.id == leg.edge)
            assert {edge.source, edge.target} == {leg.from_node, leg.to_node}
            assert sc.edge_in_jurisdiction(force.id, edge)
            # no faster than the unit (or the road) allows
            need = edge.length_m / 1000 / min(unit.speed_kmh, edge.speed_kmh)
            assert hours >= need - 1e-9
        elif leg.kind == "fly":
            assert unit.kind == "drone"
            a, b = sc.node(leg.from_node), sc.node(leg.to_node)
            assert hours >= haversine_km(a.lon, a.lat, b.lon, b.lat) / unit.speed_kmh - 1e-9
            home = sc.node(unit.base)
            for n in (a, b):
                assert haversine_km(home.lon, home.lat, n.lon, n.lat) <= unit.range_km + 1e-9


def test_sampled_schedules_are_feasible(plan) -> None:
    sc = plan.scenario
    kinds = set()
    for day in plan.schedules:
        assert day
        for r in day:
            _check_route(sc, r, 60, 6)
            kinds.add(next(u.kind for f in sc.forces for u in f.units if u.id == r.unit_id))
    assert {"patrol", "checkpoint", "drone"} <= kinds


def test_every_resource_gets_a_route_in_every_shift(plan) -> None:
    g = plan.joint.graph
    expected = sum(ly.count for ly in g.layers)
    for day in plan.schedules:
        assert len(day) == expected
        assert len({(r.layer, r.resource) for r in day}) == expected


def test_same_seed_same_schedules_and_seed_recorded(plan) -> None:
    again = plan_patrols(plan.scenario, plan.config)
    first = [[leg.to_dict() for leg in r.legs] for r in plan.schedules[1]]
    second = [[leg.to_dict() for leg in r.legs] for r in again.schedules[1]]
    assert first == second
    assert plan.to_dict()["seed"] == 11
    other = plan_patrols(plan.scenario, PatrolConfig(**{**plan.config.__dict__, "seed": 12}))
    assert [r.path_index for d in other.schedules for r in d] != [
        r.path_index for d in plan.schedules for r in d
    ]


def test_empirical_coverage_converges_to_planned_coverage() -> None:
    sc = grid_scenario(2, 4, units_per_force=3, seed=5, n_movements=0)
    tg = build_targets(sc, slot_minutes=120)
    g = build_patrol_graph(sc, tg, shift_hours=6)
    sol = FlowPatrolSolver(g).solve()
    planned = np.zeros(tg.n)
    for ly, strat in zip(g.layers, sol.strategies_, strict=True):
        for p, w in zip(strat.paths, strat.weights, strict=True):
            planned += ly.effectiveness * w * np.asarray(ly.cover[p].sum(axis=0)).ravel()
    rng = np.random.default_rng(0)
    t0 = day_start(date(2026, 1, 1), 0, 0.0)
    idx = {ly.key: ly for ly in g.layers}
    cache: dict[tuple[str, int], np.ndarray] = {}
    errors = []
    emp = np.zeros(tg.n)
    for d in range(1, 1201):
        for r in sample_day(g, sol.strategies_, rng, day=d, t0=t0):
            key = (r.layer, r.path_index)
            if key not in cache:
                ly = idx[r.layer]
                cache[key] = ly.effectiveness * np.asarray(ly.cover[r.arcs].sum(axis=0)).ravel()
            emp += cache[key]
        if d in (50, 1200):
            errors.append(np.abs(emp / d - planned).max())
    assert errors[1] < 0.05
    assert errors[1] < errors[0]


@settings(max_examples=40, deadline=None)
@given(
    w=st.lists(st.floats(0.0, 5.0), min_size=1, max_size=12).filter(lambda x: sum(x) > 0.1),
    n=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_comb_sampling_is_exact_in_expectation(w: list[float], n: int, seed: int) -> None:
    weights = np.asarray(w) * (n / sum(w))
    rng = np.random.default_rng(seed)
    picks = comb_sample(weights, n, rng)
    assert picks.size == n and picks.min() >= 0 and picks.max() < weights.size
    # each index is drawn floor(w) or ceil(w) times: systematic sampling's hallmark
    counts = np.bincount(picks, minlength=weights.size)
    assert np.all(counts >= np.floor(weights - 1e-9)) and np.all(counts <= np.ceil(weights + 1e-9))


def test_entropy() -> None:
    assert entropy_bits(np.array([1.0])) == 0.0
    assert entropy_bits(np.array([1.0, 1.0, 1.0, 1.0])) == pytest.approx(2.0)
    assert entropy_bits(np.array([2.0, 0.0, 2.0])) == pytest.approx(1.0)


def test_plan_report(plan) -> None:
    d = plan.to_dict()
    assert d["predictability"]["entropy_bits_per_day"] == pytest.approx(
        strategy_entropy(plan.joint.strategies)
    )
    assert d["predictability"]["entropy_bits_per_day"] > 1.0
    assert d["value_of_coordination"] == pytest.approx(
        d["defender_utility"] - d["uncoordinated"]["defender_utility"]
    )
    # coordination does not hurt here: the joint optimum can reproduce the forces' separate plans
    assert d["value_of_coordination"] >= -1e-6
    assert set(d["coverage"]) >= {"segment", "site"}
    for c in d["coverage"].values():
        assert 0 <= c["mean_coverage"] <= 1
    west = d["forces"]["west"]["units"]
    assert len(next(iter(west.values()))["days"]) == 3
    day0 = next(iter(west.values()))["days"][0]
    assert day0["date"] == "2026-01-01" and day0["routes"][0]["legs"]
    assert d["civilian_burden"]["checkpoint_vehicles_per_day"] >= 0


def test_joint_plan_beats_uncoordinated_on_a_shared_corridor() -> None:
    sc = grid_scenario(3, 5, units_per_force=4, seed=0, n_movements=0)
    p = plan_patrols(sc, PatrolConfig(days=1, slot_minutes=60, shift_hours=6))
    assert p.value_of_coordination > 1e-4


def test_manual_edit_warns_on_predictability_and_exposure(plan) -> None:
    g = plan.joint.graph
    # pin every layer to its least likely route: entropy drops to zero and exposure rises
    edits = {
        ly.key: st.paths[int(np.argmin(st.weights))]
        for ly, st in zip(g.layers, plan.joint.strategies, strict=True)
    }
    _, check = check_edits(g, plan.joint.strategies, edits, entropy_threshold=5.0)
    assert check.entropy_after == 0.0 < check.entropy_before
    assert check.attacker_utility_after > check.attacker_utility_before
    assert any("predictability" in w for w in check.warnings)
    assert any("exposure" in w for w in check.warnings)
    # no edit, no warning
    _, quiet = check_edits(g, plan.joint.strategies, {}, entropy_threshold=1.0)
    assert quiet.warnings == ()


def test_manual_route_from_waypoints(plan) -> None:
    g = plan.joint.graph
    ly = next(x for x in g.layers if x.kind == "patrol")
    base = g.scenario.nodes[ly.base].id
    stay = [(base, t) for t in range(ly.n_slots + 1)]
    arcs = route_from_waypoints(ly, g, stay)
    assert arcs.size == ly.n_slots
    new, check = check_edits(g, plan.joint.strategies, {ly.key: arcs})
    assert len(new[g.layers.index(ly)].paths) == 1
    assert check.entropy_after <= check.entropy_before
    with pytest.raises(ValidationError):
        route_from_waypoints(ly, g, [(base, 0), ("nowhere", 1)])
    with pytest.raises(ValidationError):
        check_edits(g, plan.joint.strategies, {"no-such-layer": arcs})


def test_times_are_utc_with_offset() -> None:
    t = day_start(date(2026, 3, 1), 2, 5.0)
    assert t.isoformat() == "2026-03-02T19:00:00+00:00"
    assert t + timedelta(hours=5) == day_start(date(2026, 3, 3), 0, 0.0)


def test_builtin_cpec_joint_plan_is_feasible() -> None:
    from corridorguard.scenario import load_scenario

    sc = load_scenario("cpec")
    p = plan_patrols(sc, PatrolConfig(days=1, slot_minutes=60, shift_hours=8, seed=3))
    assert p.joint.exact
    for r in p.schedules[0]:
        _check_route(sc, r, 60, 8)
    forces = {r.force_id for r in p.schedules[0]}
    assert forces == {f.id for f in sc.forces}
    d = p.to_dict()
    assert d["value_of_coordination"] >= -1e-6
    assert all(g["kind"] in ("segment", "site") for g in d["gaps"])


def test_realised_non_additive_coverage_is_below_the_additive_plan(plan) -> None:
    real = plan.realised_evaluation()
    assert np.all((real.coverage >= 0) & (real.coverage <= 1))
    # over enough days it approaches the additive plan from below (union bound)
    long = plan_patrols(plan.scenario, PatrolConfig(**{**plan.config.__dict__, "days": 60}))
    rc = long.realised_evaluation().coverage
    assert rc.mean() <= long.joint.evaluation.coverage.mean() + 0.02
    assert np.abs(rc - long.joint.evaluation.coverage).mean() < 0.05
    d = plan.to_dict()["realised"]
    assert d["days"] == 3 and "coverage" in d


def test_apply_edits_keeps_the_override_visible(plan) -> None:
    g = plan.joint.graph
    ly = next(x for x in g.layers if x.kind == "patrol")
    base = g.scenario.nodes[ly.base].id
    stay = route_from_waypoints(ly, g, [(base, t) for t in range(ly.n_slots + 1)])
    edited, check = plan.apply_edits({ly.key: stay}, entropy_threshold=1e6)
    assert edited.overrides == (check,) and check.warnings
    d = edited.to_dict()
    assert d["overrides"][0]["warnings"] == list(check.warnings)
    assert d["predictability"]["entropy_bits_per_day"] <= plan.predictability_bits
    # the pinned crew now stays at base every day; the original plan is untouched
    for day in edited.schedules:
        for r in day:
            if r.layer == ly.key:
                assert {leg.kind for leg in r.legs} == {"wait"}
    assert plan.overrides == ()
