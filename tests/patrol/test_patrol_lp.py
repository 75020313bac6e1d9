"""The compact flow LP against explicit path enumeration, and column generation against both."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridorguard.errors import SolverError
from corridorguard.patrol.colgen import (
    ColumnGenerationSolver,
    RouteRules,
    route_obeys,
    usable_arcs,
)
from corridorguard.patrol.graph import build_patrol_graph
from corridorguard.patrol.schedule import raw_coverage
from corridorguard.patrol.solvers import (
    FlowPatrolSolver,
    HandOff,
    PathEnumerationSolver,
    enumerate_paths,
)
from corridorguard.patrol.synthetic import grid_scenario
from corridorguard.patrol.targets import TargetSet, TargetWeights, build_targets


def _graph(
    seed: int,
    *,
    rows: int = 2,
    cols: int = 3,
    slot: float = 120,
    shift: float = 6,
    units: int = 3,
    alpha: float = 0.3,
):
    sc = grid_scenario(rows, cols, units_per_force=units, seed=seed, n_movements=0)
    tg = build_targets(sc, slot_minutes=slot, weights=TargetWeights(alpha=alpha))
    return sc, build_patrol_graph(sc, tg, shift_hours=shift)


def _random_payoffs(tg: TargetSet, seed: int) -> TargetSet:
    """General-sum payoffs (Ra > Pa, Rd > Pd) so the SSE differs from maximin."""
    rng = np.random.default_rng(seed)
    n = tg.n
    ra = rng.uniform(1, 10, n)
    pa = -rng.uniform(0, 10, n)
    rd = rng.uniform(0, 5, n)
    pd = -rng.uniform(1, 10, n)
    return dataclasses.replace(
        tg, attacker_reward=ra, attacker_penalty=pa, defender_reward=rd, defender_penalty=pd
    )


def _z_floor(g) -> float:
    """What the attacker gets whatever the defender does (uncoverable targets, penalties)."""
    t = g.targets
    cov = g.coverable()
    return float(max(t.attacker_penalty.max(), t.attacker_reward[~cov].max(initial=-np.inf)))


@pytest.mark.parametrize("seed", [0, 1, 4, 5, 6])
@pytest.mark.parametrize("method", ["maximin", "sse"])
def test_flow_lp_equals_path_enumeration(seed: int, method: str) -> None:
    _, g = _graph(seed)
    flow = FlowPatrolSolver(g, method=method, spread=False).solve()
    paths = PathEnumerationSolver(g, method=method).solve()
    assert flow.exact_ and paths.exact_
    assert flow.attacker_utility_ == pytest.approx(paths.attacker_utility_, abs=1e-6)
    assert flow.maximin_value_ == pytest.approx(paths.maximin_value_, abs=1e-6)
    if method == "sse":
        assert flow.defender_utility_ == pytest.approx(paths.defender_utility_, abs=1e-6)
    # the instance is not degenerate: patrols decide the value, not an uncoverable target
    assert flow.maximin_value_ > _z_floor(g) + 1e-3


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_sse_with_general_sum_payoffs_matches_enumeration(seed: int) -> None:
    sc = grid_scenario(2, 3, units_per_force=2, seed=seed % 7, n_movements=0)
    tg = _random_payoffs(build_targets(sc, slot_minutes=180), seed)
    g = build_patrol_graph(sc, tg, shift_hours=6)
    flow = FlowPatrolSolver(g, method="sse", spread=False).solve()
    paths = PathEnumerationSolver(g, method="sse").solve()
    assert flow.defender_utility_ == pytest.approx(paths.defender_utility_, abs=1e-6)
    # SSE is at least as good for the defender as its maximin strategy
    maximin = FlowPatrolSolver(g, method="maximin", spread=False).solve()
    assert flow.defender_utility_ >= maximin.defender_utility_ - 1e-7
    # the attacked target is a best response to the coverage
    ua = tg.attacker_reward - (tg.attacker_reward - tg.attacker_penalty) * flow.coverage_
    assert ua[flow.attacked_target_] >= ua.max() - 1e-6


def test_spread_keeps_the_value_and_randomises_more() -> None:
    sc = grid_scenario(4, 5, units_per_force=5, seed=1)
    g = build_patrol_graph(sc, build_targets(sc, slot_minutes=60), shift_hours=8)
    vertex = FlowPatrolSolver(g, method="maximin", spread=False).solve()
    inner = FlowPatrolSolver(g, method="maximin", spread=True).solve()
    assert inner.attacker_utility_ == pytest.approx(vertex.attacker_utility_, rel=1e-6, abs=1e-6)
    n_vertex = sum(len(s.paths) for s in vertex.strategies_)
    n_inner = sum(len(s.paths) for s in inner.strategies_)
    assert n_inner > n_vertex


def test_flow_decomposition_reproduces_the_flows() -> None:
    _, g = _graph(2)
    sol = FlowPatrolSolver(g).solve()
    for ly, flow, strat in zip(g.layers, sol.flows_, sol.strategies_, strict=True):
        rebuilt = np.zeros(ly.n_arcs)
        for path, w in zip(strat.paths, strat.weights, strict=True):
            np.add.at(rebuilt, path, w)
        np.testing.assert_allclose(rebuilt, flow, atol=1e-6)
        assert strat.weights.sum() == pytest.approx(ly.count)


@pytest.mark.parametrize("method", ["maximin", "sse"])
def test_column_generation_without_rules_equals_flow_lp(method: str) -> None:
    _, g = _graph(0, units=2)
    flow = FlowPatrolSolver(g, method=method, spread=False).solve()
    cg = ColumnGenerationSolver(g, method=method).solve()
    assert cg.attacker_utility_ == pytest.approx(flow.attacker_utility_, abs=1e-6)
    if method == "sse":
        assert cg.defender_utility_ == pytest.approx(flow.defender_utility_, abs=1e-6)
    assert cg.n_columns_ < sum(len(enumerate_paths(ly)) for ly in g.layers)
    # the route strategies reproduce the LP's coverage
    np.testing.assert_allclose(
        np.clip(raw_coverage(g, cg.strategies_), 0, 1), cg.coverage_, atol=1e-6
    )


class _RulePaths(PathEnumerationSolver):
    """Oracle: enumerate every route and keep those obeying the rules."""

    def __init__(self, graph, rules, **kw):
        super().__init__(graph, **kw)
        self.rules = rules

    def _paths(self):
        return [
            [p for p in enumerate_paths(ly) if route_obeys(ly, p, self.rules)]
            for ly in self.graph.layers
        ]


@pytest.mark.parametrize("rules", [RouteRules(max_away_slots=1), RouteRules(2, 1)])
def test_column_generation_with_rules_equals_filtered_enumeration(rules: RouteRules) -> None:
    _, g = _graph(3, slot=60, shift=4, units=2)
    cg = ColumnGenerationSolver(g, rules=rules, method="sse").solve()
    oracle = _RulePaths(g, rules, method="sse").solve()
    assert cg.defender_utility_ == pytest.approx(oracle.defender_utility_, abs=1e-6)
    assert cg.attacker_utility_ == pytest.approx(oracle.attacker_utility_, abs=1e-6)
    for ly, strat in zip(g.layers, cg.strategies_, strict=True):
        assert all(route_obeys(ly, p, rules) for p in strat.paths)
    # rules cost the defender something here (they bind)
    free = FlowPatrolSolver(g, method="sse", spread=False).solve()
    assert free.defender_utility_ >= cg.defender_utility_ - 1e-9


def test_route_rules_from_hours() -> None:
    r = RouteRules.from_hours(slot_minutes=30, max_consecutive_hours=2, min_rest_hours=0.75)
    assert (r.max_away_slots, r.min_rest_slots) == (4, 2)


def test_handoffs_hold_in_flow_and_column_generation() -> None:
    sc, g = _graph(1, slot=60, shift=6, units=2)
    node = "n0_1"  # in the shared middle province
    ho = (HandOff(node=node, slot=3, forces=("west", "east"), min_presence=0.5),)
    flow = FlowPatrolSolver(g, method="maximin", handoffs=ho, spread=False).solve()
    cg = ColumnGenerationSolver(g, method="maximin", handoffs=ho).solve()
    assert cg.attacker_utility_ == pytest.approx(flow.attacker_utility_, abs=1e-6)
    key = sc.node_index[node] * g.targets.n_slots + 3
    for sol in (flow, cg):
        for force in ("west", "east"):
            present = 0.0
            for ly, strat in zip(g.layers, sol.strategies_, strict=True):
                if ly.force_id != force:
                    continue
                for p, w in zip(strat.paths, strat.weights, strict=True):
                    present += w * float(ly.presence[p, key].sum())
            assert present >= 0.5 - 1e-6
    free = FlowPatrolSolver(g, method="maximin", spread=False).solve()
    assert free.attacker_utility_ <= flow.attacker_utility_ + 1e-9


def test_enumeration_refuses_too_many_paths() -> None:
    _, g = _graph(0, slot=60, shift=8)
    with pytest.raises(SolverError):
        enumerate_paths(g.layers[0], max_paths=10)


def test_unknown_method_is_a_solver_error() -> None:
    _, g = _graph(0)
    with pytest.raises(SolverError):
        FlowPatrolSolver(g, method="nope").solve()


@pytest.mark.parametrize("rules", [RouteRules(max_away_slots=1), RouteRules(2, 2)])
def test_usable_arcs_are_exactly_those_on_rule_abiding_routes(rules: RouteRules) -> None:
    _, g = _graph(3, slot=60, shift=5, units=2)
    for ly in g.layers[:6]:
        on_route = np.zeros(ly.n_arcs, dtype=bool)
        for p in enumerate_paths(ly):
            if route_obeys(ly, p, rules):
                on_route[p] = True
        np.testing.assert_array_equal(usable_arcs(ly, rules), on_route)


def test_unreachable_target_does_not_leave_the_rest_to_chance() -> None:
    """A precious site nobody can reach fixes the attacker's value; the plan still protects
    everything else as well as if that site did not exist."""
    sc, _ = _graph(1, slot=60, shift=6, units=2)
    far = sc.nodes[0].model_copy(update={"id": "far", "name": "far", "province": "X"})
    site = sc.sites[0].model_copy(update={"id": "jewel", "node": "far", "criticality": 5.0})
    edge = sc.edges[0].model_copy(update={"id": "spur", "source": sc.nodes[0].id, "target": "far"})
    sc2 = sc.model_copy(
        update={"nodes": (*sc.nodes, far), "sites": (*sc.sites, site), "edges": (*sc.edges, edge)}
    )
    sc2 = type(sc2).model_validate(sc2.model_dump())
    tg = build_targets(sc2, slot_minutes=60, weights=TargetWeights(alpha=0.3))
    g = build_patrol_graph(sc2, tg, shift_hours=6)
    sol = FlowPatrolSolver(g, method="sse", spread=False).solve()
    assert sol.protects_reachable_
    assert tg.describe(sol.attacked_target_)["id"] == "jewel"
    reach = g.coverable()
    ref = FlowPatrolSolver(
        build_patrol_graph(sc2, tg.restricted(reach), shift_hours=6), method="maximin", spread=False
    ).solve()
    ua = tg.attacker_reward - (tg.attacker_reward - tg.attacker_penalty) * sol.coverage_
    assert ua[reach].max() == pytest.approx(ref.maximin_value_, abs=1e-6)
    rules = RouteRules(max_away_slots=3)
    cg = ColumnGenerationSolver(g, rules=rules, method="maximin").solve()
    assert cg.protects_reachable_ and cg.exact_
