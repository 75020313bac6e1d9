"""Non-additive coverage by column generation over joint schedules, against full enumeration."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix, hstack

from corridorguard.patrol._lp import SSELP, solve_stackelberg
from corridorguard.patrol.colgen import RouteRules, route_obeys
from corridorguard.patrol.graph import PatrolGraph, build_patrol_graph
from corridorguard.patrol.joint import (
    JointScheduleSolver,
    _Block,
    coverage_blocks,
    joint_coverage,
    joint_strategy_coverage,
    sample_joint_day,
)
from corridorguard.patrol.schedule import raw_coverage
from corridorguard.patrol.solvers import FlowPatrolSolver, PathEnumerationSolver
from corridorguard.patrol.synthetic import grid_scenario
from corridorguard.patrol.targets import TargetWeights, build_targets


def _small(seed: int = 0, *, count: int = 2, shifts: int = 2) -> PatrolGraph:
    """A 2×2 notional grid; the first ``shifts`` shifts of the west unit, with ``count``
    resources, plus a second (less effective) west unit on the same shifts: overlapping crews."""
    sc = grid_scenario(2, 2, units_per_force=1, seed=seed, n_movements=0)
    tg = build_targets(sc, slot_minutes=120, weights=TargetWeights(alpha=0.3))
    g = build_patrol_graph(sc, tg, shift_hours=6)
    west = [ly for ly in g.layers if ly.force_id == g.layers[0].force_id][:shifts]
    layers = [dataclasses.replace(ly, count=count) for ly in west]
    layers += [
        dataclasses.replace(ly, key=ly.key + "/b", effectiveness=0.4, count=1) for ly in west
    ]
    return dataclasses.replace(g, layers=tuple(layers))


def _payoffs(g: PatrolGraph, seed: int) -> PatrolGraph:
    """Random general-sum payoffs; targets no crew can reach are worth nothing (otherwise they
    fix the attacker's value and every plan ties)."""
    rng = np.random.default_rng(seed)
    n = g.targets.n
    on = g.coverable().astype(np.float64)
    tg = dataclasses.replace(
        g.targets,
        attacker_reward=rng.uniform(1, 10, n) * on,
        attacker_penalty=-rng.uniform(0, 10, n) * on,
        defender_reward=rng.uniform(0, 5, n) * on,
        defender_penalty=-rng.uniform(1, 10, n) * on,
    )
    return dataclasses.replace(g, targets=tg)


def _oracle(g: PatrolGraph, method: str) -> tuple[float, float]:
    """The game over ALL joint schedules of every block (explicit enumeration): (Ud, Ua)."""
    B_parts, C_parts = [], []
    blocks = coverage_blocks(g)
    for b, layers in enumerate(blocks):
        scheds, mat = _Block(g, layers, RouteRules()).enumerate()
        C_parts.append(csr_matrix(mat.T))
        row = np.zeros((len(blocks), len(scheds)))
        row[b] = 1.0
        B_parts.append(csr_matrix(row))
    t = g.targets
    ones = np.ones(len(blocks))
    lp = SSELP(
        csr_matrix(hstack(C_parts)),
        csr_matrix(hstack(B_parts)),
        ones,
        ones,
        (t.attacker_reward, t.attacker_penalty, t.defender_reward, t.defender_penalty),
        coverable=g.coverable(),
    )
    res = solve_stackelberg(lp, method=method)
    return res.evaluation.defender_utility, res.evaluation.attacker_utility


def test_blocks_and_joint_coverage_are_non_additive():
    g = _small()
    blocks = coverage_blocks(g)
    assert sorted(len(b) for b in blocks) == [2, 2]  # same shift: both units overlap
    layers = blocks[0]
    scheds = _Block(g, layers, RouteRules()).enumerate()[0]
    # two resources of the first unit on the same route: 1 - (1 - p)^2 < 2p
    same = next(s for s in scheds if np.array_equal(s[0], s[1]) and s[0].size)
    idx, val = joint_coverage(g, layers, same)
    p = g.layers[layers[0]].effectiveness
    q = g.layers[layers[1]].effectiveness
    hit_a = set(g.layers[layers[0]].cover[same[0]].indices.tolist())
    hit_b = set(g.layers[layers[1]].cover[same[2]].indices.tolist())
    assert set(idx.tolist()) == hit_a | hit_b
    for j, v in zip(idx.tolist(), val.tolist(), strict=True):
        expect = 1 - (1 - p) ** (2 if j in hit_a else 0) * ((1 - q) if j in hit_b else 1.0)
        assert abs(v - expect) < 1e-12


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["sse", "maximin"]))
def test_column_generation_equals_enumeration(seed, method):
    g = _small(seed % 3)
    g = _payoffs(g, seed)
    sol = JointScheduleSolver(g, method=method, spread=False).solve()
    ud, ua = _oracle(g, method)
    assert sol.exact_ and sol.pricing_proven_
    assert abs(sol.attacker_utility_ - ua) <= 1e-6
    if method == "sse":
        assert abs(sol.defender_utility_ - ud) <= 1e-6
    # the more random interior plan keeps the optimum up to its documented tolerance
    spread = JointScheduleSolver(g, method=method).solve()
    assert abs(spread.attacker_utility_ - ua) <= 1e-6 * (1 + abs(ua))
    if method == "sse":
        assert spread.defender_utility_ >= ud - 1e-6 * (1 + abs(ud))
    # heuristic pricing alone (no enumeration certificate): the dual bound brackets the optimum
    z = ua if method == "maximin" else _oracle(g, "maximin")[1]
    heur = JointScheduleSolver(g, method="maximin", exact_limit=0).solve()
    note(f"seed={seed} method={method} z={z} heur={heur.attacker_utility_}")
    assert heur.attacker_lower_bound_ <= z + 1e-6
    assert heur.attacker_utility_ >= z - 1e-6 * (1 + abs(z))
    if heur.exact_:
        assert abs(heur.attacker_utility_ - z) <= 1e-6 * (1 + abs(z))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_never_better_than_the_additive_bound(seed):
    g = _small(seed % 3)
    g = _payoffs(g, seed)
    na = JointScheduleSolver(g, method="maximin").solve()
    add = FlowPatrolSolver(g, method="maximin").solve()
    # coverage of every joint mix is at most the additive coverage of its marginals
    assert np.all(na.coverage_ <= np.minimum(1, raw_coverage(g, na.strategies_)) + 1e-9)
    # (both plans are interior "spread" points, optimal to 1e-7 relative)
    assert na.attacker_utility_ >= add.attacker_utility_ - 1e-6 * (1 + abs(add.attacker_utility_))


def test_single_resources_without_overlap_match_the_additive_game():
    """With one resource per block, non-additive coverage IS additive: same value as the path LP."""
    sc = grid_scenario(2, 3, units_per_force=1, seed=4, n_movements=0)
    tg = build_targets(sc, slot_minutes=120, weights=TargetWeights(alpha=0.3))
    g = build_patrol_graph(sc, tg, shift_hours=6)
    assert all(len(b) == 1 for b in coverage_blocks(g))
    na = JointScheduleSolver(g).solve()
    path = PathEnumerationSolver(g).solve()
    assert na.exact_
    assert abs(na.defender_utility_ - path.defender_utility_) <= 1e-6


def test_sampled_days_reproduce_the_planned_coverage():
    g = _small(1)
    sol = JointScheduleSolver(g, method="maximin").solve()
    planned = joint_strategy_coverage(g, sol.joint_)
    assert np.allclose(planned, sol.coverage_, atol=1e-9)
    rng = np.random.default_rng(7)
    layer = {ly.key: ly for ly in g.layers}
    days, total = 3000, np.zeros(g.targets.n)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for d in range(days):
        log_miss = np.zeros(g.targets.n)
        routes = sample_joint_day(g, sol.joint_, sol.strategies_, rng, day=d, t0=t0)
        assert len(routes) == sum(ly.count for ly in g.layers)
        for r in routes:
            ly = layer[r.layer]
            hits = np.unique(ly.cover[r.arcs].indices)
            log_miss[hits] += np.log1p(-ly.effectiveness)
            # feasibility: a base-to-base route of the layer (its states are in the jurisdiction)
            assert ly.arc_tail[r.arcs[0]] == ly.source and ly.arc_head[r.arcs[-1]] == ly.sink
            assert np.all(ly.arc_head[r.arcs[:-1]] == ly.arc_tail[r.arcs[1:]])
        total += 1 - np.exp(log_miss)
    assert np.abs(total / days - planned).max() < 0.05


def test_marginals_are_layer_strategies_and_rules_are_kept():
    g = _small(2)
    rules = RouteRules(max_away_slots=1)
    sol = JointScheduleSolver(g, rules=rules, method="maximin").solve()
    for ly, stg in zip(g.layers, sol.strategies_, strict=True):
        assert abs(stg.weights.sum() - ly.count) < 1e-9
        assert all(route_obeys(ly, p, rules) for p in stg.paths)


def _plan_args(out) -> list[str]:
    args = ["patrol", "plan", "--scenario", "grid:2x2:3", "--days", "2", "--shift-hours", "6"]
    return [*args, "--slot-minutes", "60", "--seed", "5", "--out", str(out), "--json"]


def test_independent_plan_from_the_cli(tmp_path):
    import json

    from typer.testing import CliRunner

    from corridorguard.cli import app
    from corridorguard.patrol.plan import PatrolConfig, plan_patrols

    runner = CliRunner()
    res = runner.invoke(app, [*_plan_args(tmp_path), "--coverage", "independent"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["solver"] == "column-generation-joint"
    assert data["coverage_model"] == "independent"
    assert data["attacker_utility_lower_bound"] <= data["attacker_utility"] + 1e-9
    add = json.loads(runner.invoke(app, _plan_args(tmp_path / "add")).stdout)
    assert add["coverage_model"] == "additive"
    assert data["attacker_utility"] >= add["attacker_utility"] - 1e-6  # never better than additive
    bad = runner.invoke(app, [*_plan_args(tmp_path), "--coverage", "quadratic"])
    assert bad.exit_code == 2 and "coverage" in bad.output

    # the same plan in Python: every drawn route is feasible and inside its force's jurisdiction
    sc = grid_scenario(2, 2, seed=3)
    plan = plan_patrols(
        sc, PatrolConfig(days=2, slot_minutes=60, shift_hours=6, seed=5, coverage="independent")
    )
    assert plan.joint.joint is not None
    for routes in plan.schedules:
        assert len(routes) == sum(ly.count for ly in plan.joint.graph.layers)
        for r in routes:
            unit = next(u for u in sc.force(r.force_id).units if u.id == r.unit_id)
            assert r.legs[0].from_node == unit.base and r.legs[-1].to_node == unit.base
            for leg in r.legs:
                assert sc.node_in_jurisdiction(r.force_id, leg.from_node)
                assert sc.node_in_jurisdiction(r.force_id, leg.to_node)
                if leg.kind == "move":
                    edge = next(e for e in sc.edges if e.id == leg.edge)
                    assert sc.edge_in_jurisdiction(r.force_id, edge)
    try:
        plan.apply_edits({})
    except Exception as exc:  # edits of joint plans are refused, not silently wrong
        assert "independent" in str(exc)
    else:
        raise AssertionError("edits of an independent-coverage plan must be refused")


def test_overlap_costs_protection_and_budget_stops_are_reported():
    g = _payoffs(_small(0), 3)
    na = JointScheduleSolver(g, method="maximin").solve()
    add = FlowPatrolSolver(g, method="maximin").solve()
    assert na.exact_
    # two crews on one target are worth less than twice one: the attacker does strictly better
    assert na.attacker_utility_ > add.attacker_utility_ + 1e-3
    stopped = JointScheduleSolver(g, method="maximin", time_budget=0.0).solve()
    assert not stopped.exact_ and not stopped.pricing_proven_
    assert np.isfinite(stopped.attacker_lower_bound_)
    assert stopped.attacker_lower_bound_ <= na.attacker_utility_ + 1e-6
    assert stopped.attacker_utility_ >= na.attacker_utility_ - 1e-6
