"""The built-in CPEC scenario: valid, real anchors, named routes connected, one component."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from corridorguard.scenario import (
    builtin_scenarios,
    haversine_m,
    load_scenario,
    validate_scenario_folder,
)
from corridorguard.scenario.geo import DEFAULT_CIRCUITY, DEFAULT_SPEED_KMH
from corridorguard.scenario.graph import adjacency, component_count
from corridorguard.scenario.loader import BUILTIN_DIR
from corridorguard.scenario.model import Edge, Scenario

# route -> stops that must be joined along edges of that route, in order
ROUTES: dict[str, list[str]] = {
    "N-35": [
        "khunjerab", "sost", "karimabad", "aliabad", "gilgit", "chilas", "dasu", "besham",
        "thakot", "mansehra", "abbottabad", "havelian",
    ],
    "E-35": ["havelian", "burhan"],
    "M-1": ["islamabad", "peshawar"],
    "M-2": ["islamabad", "lahore"],
    "M-4": ["pindi_bhattian", "faisalabad", "multan"],
    "M-5": ["multan", "sukkur"],
    "M-6/N-5": ["sukkur", "hyderabad"],
    "M-9": ["hyderabad", "karachi"],
    "N-50": ["dera_ismail_khan", "zhob", "quetta"],
    "N-25": ["quetta", "surab"],
    "N-85": ["surab", "hoshab"],
    "M-8": ["hoshab", "gwadar"],
    "N-10": ["hub", "ormara", "pasni", "gwadar"],
}  # fmt: skip
HAND_ENTERED = ["sost", "khunjerab", "besham", "thakot", "hoshab"]
REQUIRED_SITES = [
    "gwadar_port", "gwadar_airport", "dasu_hpp", "diamer_bhasha", "karot_hpp", "suki_kinari_hpp",
    "port_qasim_coal", "sahiwal_coal", "thar_block2", "sost_dry_port", "havelian_dry_port",
    "orange_line_depot", "hub_coal", "gwadar_east_bay", "rashakai_sez", "dhabeji_sez",
]  # fmt: skip


@pytest.fixture(scope="module")
def cpec() -> Scenario:
    return load_scenario("cpec")


def test_builtin_listed_and_valid() -> None:
    assert "cpec" in builtin_scenarios()
    assert validate_scenario_folder(BUILTIN_DIR / "cpec") == []


def test_sizes(cpec: Scenario) -> None:
    assert len(cpec.nodes) >= 60
    assert len(cpec.sites) >= 15
    assert len(cpec.forces) == 2
    assert all(f.units for f in cpec.forces)
    kinds = {u.kind for _, u in cpec.units()}
    assert kinds == {"patrol", "checkpoint", "qrf", "drone", "camera"}


def _graph(edges: list[Edge], index: dict[str, int], n: int) -> coo_matrix:
    rows = [index[e.source] for e in edges] + [index[e.target] for e in edges]
    cols = [index[e.target] for e in edges] + [index[e.source] for e in edges]
    return coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def test_one_connected_component(cpec: Scenario) -> None:
    graph = _graph(list(cpec.edges), cpec.node_index, len(cpec.nodes))
    n_comp, labels = connected_components(graph, directed=False)
    assert n_comp == 1, f"components: {np.bincount(labels)}"
    assert component_count(cpec) == 1


def test_component_check_catches_a_split(cpec: Scenario) -> None:
    # Dropping the only road to Kotli isolates it: the checker must see two components.
    edges = [e for e in cpec.edges if "kotli" not in (e.source, e.target)]
    n_comp, _ = connected_components(
        _graph(edges, cpec.node_index, len(cpec.nodes)), directed=False
    )
    assert n_comp == 2


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_named_route_connected_along_itself(cpec: Scenario, route: str) -> None:
    edges = [e for e in cpec.edges if e.route == route]
    assert edges, f"route {route} missing"
    graph = _graph(edges, cpec.node_index, len(cpec.nodes))
    dist = dijkstra(graph, directed=False, indices=[cpec.node_index[s] for s in ROUTES[route]])
    stops = ROUTES[route]
    for k, (a, b) in enumerate(itertools.pairwise(stops)):
        assert np.isfinite(dist[k, cpec.node_index[b]]), f"{route}: {a} !-> {b}"


def test_route_stops_in_order(cpec: Scenario) -> None:
    # Along N-35 the hop count from Khunjerab grows monotonically over the listed stops.
    edges = [e for e in cpec.edges if e.route == "N-35"]
    graph = _graph(edges, cpec.node_index, len(cpec.nodes))
    hops = dijkstra(graph, directed=False, indices=cpec.node_index["khunjerab"], unweighted=True)
    seq = [hops[cpec.node_index[s]] for s in ROUTES["N-35"]]
    assert seq == sorted(seq)
    assert len(set(seq)) == len(seq)


def test_hand_entered_points_are_approximate(cpec: Scenario) -> None:
    for nid in HAND_ENTERED:
        node = cpec.node(nid)
        assert node.approximate and node.source == "hand-entered", nid
    for node in cpec.nodes:
        assert node.approximate == (not (node.source or "").startswith("geonames:")), node.id


def test_geonames_nodes_match_shared_gazetteer(cpec: Scenario, shared_data: Path) -> None:
    fc = json.loads((shared_data / "geo" / "pakistan_places_geonames.geojson").read_text("utf-8"))
    places = {f["properties"]["geonameid"]: f for f in fc["features"]}
    real = [n for n in cpec.nodes if not n.approximate]
    assert len(real) >= 60
    for node in real:
        place = places[int((node.source or "").split(":")[1])]
        assert [node.lon, node.lat] == place["geometry"]["coordinates"], node.id
        assert node.province == place["properties"]["admin1"], node.id
        assert node.name == place["properties"]["name"], node.id


def test_edge_length_is_haversine_times_circuity(cpec: Scenario) -> None:
    assert cpec.circuity == DEFAULT_CIRCUITY
    for e in cpec.edges:
        a, b = cpec.node(e.source), cpec.node(e.target)
        expected = haversine_m(a.lon, a.lat, b.lon, b.lat) * cpec.circuity[e.terrain]
        assert abs(e.length_m - expected) <= 0.5, e.id
        assert e.speed_kmh == DEFAULT_SPEED_KMH[e.road_class][e.terrain], e.id
        assert e.traffic_vph > 0


def test_haversine_known_distance() -> None:
    # One degree of latitude on the mean sphere: 6371.0088 km * pi / 180.
    assert haversine_m(70.0, 30.0, 70.0, 31.0) == pytest.approx(111_195.08, abs=0.5)
    assert haversine_m(0.0, 0.0, 0.0, 0.0) == 0.0


def test_lengths_are_plausible_against_published_distances(cpec: Scenario) -> None:
    # Schematic lengths within ~20% of published motorway lengths (M-2 about 375 km,
    # M-1 about 155 km, M-4 Pindi Bhattian-Multan about 309 km).
    dist = dijkstra(adjacency(cpec), directed=False)
    ix = cpec.node_index
    for a, b, km in [("islamabad", "lahore", 375), ("islamabad", "peshawar", 155),
                     ("pindi_bhattian", "multan", 309)]:  # fmt: skip
        got = dist[ix[a], ix[b]] / 1000
        assert 0.85 * km <= got <= 1.2 * km, (a, b, got)


def test_sites(cpec: Scenario) -> None:
    ids = {s.id for s in cpec.sites}
    assert set(REQUIRED_SITES) <= ids
    assert any(s.id.startswith("karachi") for s in cpec.sites)
    for s in cpec.sites:
        assert s.approximate
        assert {"criticality", "workers"} <= set(s.notional_fields)
        assert s.node is not None and s.province
        assert s.operator
        assert ("operator" in s.notional_fields) == ("notional" in s.operator)
        access = cpec.node(s.node)
        assert haversine_m(s.lon, s.lat, access.lon, access.lat) < 120_000, s.id


def test_forces_notional_with_different_jurisdictions(cpec: Scenario) -> None:
    a, b = cpec.forces
    assert a.notional and b.notional
    assert all(u.notional for _, u in cpec.units())
    assert not set(a.jurisdiction.provinces) & set(b.jurisdiction.provinces)
    provinces = {n.province for n in cpec.nodes}
    assert provinces <= set(a.jurisdiction.provinces) | set(b.jurisdiction.provinces)
    for force, unit in cpec.units():
        assert cpec.node_in_jurisdiction(force.id, unit.base), unit.id
        if unit.kind == "drone":
            assert unit.range_km and unit.endurance_min


def test_movements_reachable(cpec: Scenario) -> None:
    ids = {m.id for m in cpec.movements}
    assert {"dasu_islamabad", "gwadar_karachi", "karot_islamabad", "thar_karachi"} <= ids
    dist = dijkstra(adjacency(cpec), directed=False)
    for m in cpec.movements:
        assert m.notional
        assert np.isfinite(dist[cpec.node_index[m.origin], cpec.node_index[m.destination]])


def test_labels_and_attribution(cpec: Scenario) -> None:
    assert cpec.labels["roads"] == "schematic"
    assert cpec.labels["nodes"] == "real"
    assert cpec.labels["sites"] == "approximate"
    assert cpec.labels["forces"] == "notional"
    assert cpec.labels["movements"] == "notional"
    text = " ".join(cpec.attribution)
    assert "GeoNames" in text and "CC BY 4.0" in text and "Natural Earth" in text
    source = (BUILTIN_DIR / "cpec" / "SOURCE.md").read_text("utf-8")
    assert "CC BY 4.0" in source and "Public domain" in source and "schematic" in source


def test_boundary_is_the_shared_outline(cpec: Scenario, shared_data: Path) -> None:
    fc = json.loads((shared_data / "geo" / "pakistan_boundary_ne10m.geojson").read_text("utf-8"))
    assert cpec.boundary == fc["features"][0]["geometry"]


def test_build_script_reproduces_shipped_files(tmp_path: Path, shared_data: Path) -> None:
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "scripts" / "build_cpec_scenario.py"
    spec = importlib.util.spec_from_file_location("build_cpec_scenario", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build(shared_data / "geo")
    assert built == load_scenario("cpec")
