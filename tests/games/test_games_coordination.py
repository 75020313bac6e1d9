"""Partner forces (joint vs uncoordinated), civilian burden, games from the corridor scenario."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from corridorguard.errors import ValidationError
from corridorguard.games import (
    Burden,
    Game,
    MultipleLP,
    ResourceType,
    burden_frontier,
    coordination_value,
    game_from_scenario,
    sample_plans,
    solve,
)
from corridorguard.scenario import Edge, Force, Jurisdiction, Node, Scenario, Site, Unit


def shared_target_game() -> Game:
    base = Game.from_arrays(
        [0, 0, 0], [-10, -1, -1], [10, 1, 1], [0, 0, 0], resources=2, ids=["A", "B", "C"]
    )
    types = (
        ResourceType("police", 1, eligible=(0, 1), agency="police"),
        ResourceType("army", 1, eligible=(0, 2), agency="army"),
    )
    return base.replace(resource_types=types)


def test_value_of_coordination_closed_form() -> None:
    res = coordination_value(shared_target_game())
    # joint: zero-sum level L with sum(1 - L/v) = 2 -> L = 1/2.1
    assert res.joint.defender_utility == pytest.approx(-1 / 2.1, abs=1e-9)
    # alone, each force puts 10/11 on A and 1/11 on its own target
    assert res.per_agency["police"].coverage == pytest.approx([10 / 11, 1 / 11], abs=1e-9)
    assert res.uncoordinated.coverage == pytest.approx([1 - (1 / 11) ** 2, 1 / 11, 1 / 11])
    assert res.uncoordinated.defender_utility == pytest.approx(-10 / 11, abs=1e-9)
    assert res.value_of_coordination == pytest.approx(10 / 11 - 1 / 2.1, abs=1e-9)
    assert set(res.to_dict()) == {"joint", "uncoordinated", "per_agency", "value_of_coordination"}


@pytest.mark.parametrize("seed", range(4))
def test_coordination_never_hurts(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 7
    base = Game.from_arrays(
        rng.integers(1, 11, n), -rng.integers(1, 11, n), rng.integers(1, 11, n),
        -rng.integers(1, 11, n), resources=3,
    )  # fmt: skip
    types = (
        ResourceType("p", 2, eligible=tuple(range(0, 5)), agency="police"),
        ResourceType("a", 1, eligible=tuple(range(3, 7)), agency="army"),
    )
    res = coordination_value(base.replace(resource_types=types))
    assert res.value_of_coordination >= -1e-9


def burden_game() -> Game:
    rng = np.random.default_rng(2)
    n = 8
    g = Game.from_arrays(
        rng.integers(1, 11, n), -rng.integers(1, 11, n), rng.integers(1, 11, n),
        -rng.integers(1, 11, n), resources=3,
    )  # fmt: skip
    return g.replace(burden=Burden(rng.integers(0, 5, n).astype(float)))


def test_burden_frontier_is_monotone_with_at_least_ten_points() -> None:
    points, _sols = burden_frontier(burden_game(), points=12)
    assert len(points) >= 10
    caps = [p.cap for p in points]
    assert caps == sorted(caps) and caps[0] == 0.0
    for p in points:
        assert p.burden <= p.cap + 1e-6
    losses = [p.expected_loss for p in points]
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(losses))
    free = MultipleLP(burden_game()).solve()
    assert points[-1].defender_utility == pytest.approx(free.defender_utility_, abs=1e-7)
    assert losses[0] > losses[-1]


def test_burden_weight_trades_security_for_burden() -> None:
    g = burden_game()
    light = solve(g.replace(burden=Burden(g.burden.per_target, weight=0.0)))
    heavy = solve(g.replace(burden=Burden(g.burden.per_target, weight=5.0)))
    assert heavy.burden <= light.burden + 1e-9
    assert heavy.defender_utility <= light.defender_utility + 1e-9


def corridor() -> Scenario:
    """A tiny notional corridor (schematic places, notional numbers)."""
    nodes = (
        Node(id="n1", name="Port town", lon=66.0, lat=25.0, province="south"),
        Node(id="n2", name="Junction", lon=67.0, lat=27.0, province="south"),
        Node(id="n3", name="Pass", lon=68.0, lat=30.0, province="north"),
    )
    edges = (
        Edge(id="e1", source="n1", target="n2", route="N-0", length_m=2e5, speed_kmh=80,
             traffic_vph=400),
        Edge(id="e2", source="n2", target="n3", route="N-0", length_m=3e5, speed_kmh=60,
             traffic_vph=100),
    )  # fmt: skip
    sites = (
        Site(id="port", name="Port", type="port", lon=66.0, lat=25.0, criticality=5,
             workers=2000, province="south", node="n1"),
        Site(id="plant", name="Plant", type="power", lon=67.0, lat=27.0, criticality=4,
             workers=300, province="south", node="n2"),
        Site(id="dam", name="Dam", type="dam", lon=68.0, lat=30.0, criticality=4,
             workers=800, province="north", node="n3"),
        Site(id="camp", name="Camp", type="camp", lon=68.1, lat=30.1, criticality=2,
             workers=150, province="north"),
    )  # fmt: skip
    forces = (
        Force(id="police", name="Police", jurisdiction=Jurisdiction(provinces=("south",)),
              units=(Unit(id="pp", kind="patrol", count=1, base="n1"),
                     Unit(id="pc", kind="checkpoint", count=1, base="n2"))),
        Force(id="army", name="Army", jurisdiction=Jurisdiction(provinces=("north", "south")),
              units=(Unit(id="ap", kind="patrol", count=1, base="n3",
                          detection_prob=0.8, interdiction_prob=0.7),)),
    )  # fmt: skip
    return Scenario(name="tiny", nodes=nodes, edges=edges, sites=sites, forces=forces)


def test_game_from_scenario_payoffs_and_solution() -> None:
    sc = corridor()
    g = game_from_scenario(sc, site_risk={"port": 2.0, "dam": 4.0, "plant": 0.0})
    assert g.ids == ("port", "plant", "dam", "camp")
    assert g.is_typed and g.burden is not None
    elig = g.eligibility()
    assert elig[0].tolist() == [True, True, False, False]  # police patrol: south only
    assert elig[2].all()  # army: both provinces
    p = g.payoffs
    assert np.all(p.pd <= p.rd) and np.all(p.pa < p.ra)
    # dam has the highest risk: its attacker reward is its full value
    assert p.ra[2] == pytest.approx(-p.pd[2], rel=1e-9)
    # plant has zero forecast risk: floored weight 0.1
    assert p.ra[1] == pytest.approx(0.1 * -p.pd[1], rel=1e-6)
    # checkpoint burden: traffic at the site's node x 60 s x 12 h; camp has no node
    assert g.burden.per_target.tolist() == pytest.approx([400 * 0.2, 500 * 0.2, 100 * 0.2, 0])
    sol = solve(g)
    assert sol.solver == "hetero" and sol.coverage.sum() <= 3 + 1e-9
    plans = sample_plans(g, sol, days=20, seed=3)
    for day in plans.days:
        assert set(day["assignments"]["pp"]) <= {"port", "plant"}
    assert coordination_value(g).value_of_coordination >= -1e-9


def test_game_from_scenario_rejects_bad_risk() -> None:
    with pytest.raises(ValidationError) as info:
        game_from_scenario(corridor(), site_risk={"nowhere": 1.0})
    assert info.value.field == "site_risk"
    with pytest.raises(ValidationError):
        game_from_scenario(corridor(), site_risk={"port": -1.0})
