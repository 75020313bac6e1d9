"""Snapping positions to a road graph, and ``route convoy --roads`` on real OSM extracts."""

from __future__ import annotations

import json
from pathlib import Path

import gpxpy
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from corridorguard.cli import app
from corridorguard.errors import ValidationError
from corridorguard.routing.graph import RoadGraph, haversine_m

OSM = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real" / "osm"
runner = CliRunner()


@pytest.mark.parametrize("name", ["andorra", "liechtenstein"])
def test_main_component_is_networkx_largest_scc(name: str, request: pytest.FixtureRequest) -> None:
    """Parallel arcs (duplicate CSR entries) must not split strong components."""
    g: RoadGraph = request.getfixturevalue(name)
    want = max(nx.strongly_connected_components(g.to_networkx()), key=len)
    assert set(np.nonzero(g._main_component)[0].tolist()) == want
    assert len(want) > 0.9 * g.n_nodes  # a real road network is mostly one piece


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 15),
    arcs=st.lists(st.tuples(st.integers(0, 14), st.integers(0, 14)), max_size=50),
)
def test_main_component_on_any_digraph(n: int, arcs: list[tuple[int, int]]) -> None:
    """Parallel arcs and self-loops included; the graph's arrays are left as they were."""
    arcs = [(u % n, v % n) for u, v in arcs]
    tail = np.array([u for u, _ in arcs], dtype=np.int64)
    head = np.array([v for _, v in arcs], dtype=np.int64)
    g = RoadGraph.from_arcs(tail, head, np.ones(len(arcs)), np.ones(len(arcs)), n_nodes=n)
    before = (g.head.copy(), g.tail.copy(), g.indptr.copy())
    nxg = nx.DiGraph()
    nxg.add_nodes_from(range(n))
    nxg.add_edges_from(arcs)
    sizes = sorted((len(c) for c in nx.strongly_connected_components(nxg)), reverse=True)
    got = np.nonzero(g._main_component)[0].tolist()
    if len(sizes) > 1:  # one component: every node counts
        assert set(got) in [c for c in nx.strongly_connected_components(nxg) if len(c) == sizes[0]]
    else:
        assert got == list(range(n))
    for a, b in zip(before, (g.head, g.tail, g.indptr), strict=True):
        assert np.array_equal(a, b)


@settings(max_examples=60, deadline=None)
@given(
    lon=st.floats(1.3, 1.9, allow_nan=False),
    lat=st.floats(42.3, 42.8, allow_nan=False),
    connected=st.booleans(),
)
def test_nearest_node_is_the_closest(lon: float, lat: float, connected: bool) -> None:
    g = _andorra()
    i, d = g.nearest_node(lon, lat, connected=connected)
    allowed = g._main_component if connected else np.ones(g.n_nodes, bool)
    dist = haversine_m(lon, lat, g.lon, g.lat)
    assert allowed[i]
    assert d == pytest.approx(float(dist[i]))
    assert d <= float(dist[allowed].min()) + 1e-9


_CACHE: dict[str, RoadGraph] = {}


def _andorra() -> RoadGraph:
    if "a" not in _CACHE:
        from corridorguard.routing.osm import read_osm_pbf

        _CACHE["a"] = read_osm_pbf(OSM / "andorra-latest.osm.pbf")
    return _CACHE["a"]


def test_nearest_node_rejects_bad_positions() -> None:
    g = _andorra()
    for lon, lat in ((181.0, 0.0), (0.0, 91.0), (float("nan"), 42.5)):
        with pytest.raises(ValidationError):
            g.nearest_node(lon, lat)


def test_route_convoy_on_osm_roads(tmp_path: Path) -> None:
    """Andorra la Vella -> Pas de la Casa on the real Andorra extract, positions snapped."""
    gpx, gj, png = tmp_path / "r.gpx", tmp_path / "r.geojson", tmp_path / "r.png"
    args = ["route", "convoy", "--roads", str(OSM / "andorra-latest.osm.pbf")]
    args += ["--from", "1.5218,42.5063", "--to", "1.7334,42.5400", "--alternatives", "3"]
    res = runner.invoke(
        app, [*args, "--gpx", str(gpx), "--geojson", str(gj), "--png", str(png), "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    g = _andorra()
    snap = out["snapped"]
    for end, (lon, lat) in (("from", (1.5218, 42.5063)), ("to", (1.7334, 42.5400))):
        i = g.node_index(snap[end]["node"])
        assert (snap[end]["lon"], snap[end]["lat"]) == (g.lon[i], g.lat[i])
        assert snap[end]["distance_m"] == pytest.approx(
            float(haversine_m(lon, lat, g.lon[i], g.lat[i]))
        )
        assert snap[end]["distance_m"] < 100  # both points lie on the main road
    routes = out["routes"]
    assert len(routes) >= 2 and out["data_label"] == "real"
    best = g.shortest_path(g.node_index(snap["from"]["node"]), g.node_index(snap["to"]["node"]))
    # uniform risk: cost = time + lambda * km, so the best route is no longer than the
    # fastest in cost and at least as long in time
    assert routes[0]["eta_s"] >= best.time_s - 1e-6
    assert routes[0]["cost"] <= best.time_s + 60.0 * best.length_m / 1000 + 1e-6
    assert 20 < routes[0]["distance_m"] / 1000 < 50
    assert routes[0]["nodes"][0] == snap["from"]["node"]
    assert routes[0]["nodes"][-1] == snap["to"]["node"]
    ways = set(g.edge_attrs["osm_way_id"][[g.edge_index(e) for e in out["chokepoints"]]].tolist())
    assert set(out["chokepoint_osm_ways"]) == ways and ways
    assert len(gpxpy.parse(gpx.read_text()).routes) == len(routes)
    assert len(json.loads(gj.read_text())["features"]) == len(routes)
    assert png.read_bytes()[:4] == b"\x89PNG"
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    assert "snapped to node" in text.stdout and "OSM ways" in text.stdout


def test_route_convoy_on_a_geojson_layer(tmp_path: Path) -> None:
    """A GeoJSON line layer (notional, three roads) routes between snapped positions."""
    layer = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"highway": "primary"},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[70, 30], [70.2, 30], [70.4, 30]],
                },
            },
            {
                "type": "Feature",
                "properties": {"highway": "secondary"},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[70, 30], [70.2, 30.1], [70.4, 30]],
                },
            },
        ],
    }
    path = tmp_path / "roads.geojson"
    path.write_text(json.dumps(layer))
    res = runner.invoke(
        app,
        [
            "route",
            "convoy",
            "--roads",
            str(path),
            "--from",
            "69.99,30",
            "--to",
            "70.41,30.001",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert len(out["routes"]) == 2  # the primary road and the secondary detour
    assert out["routes"][0]["distance_m"] < out["routes"][1]["distance_m"]
    assert "chokepoint_osm_ways" not in out


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--scenario", "cpec"], "exactly one of --scenario and --roads"),
        (["--movement", "m1"], "--movement needs --scenario"),
    ],
)
def test_route_convoy_roads_user_errors(extra: list[str], needle: str) -> None:
    args = ["route", "convoy", "--roads", str(OSM / "liechtenstein-latest.osm.pbf")]
    res = runner.invoke(app, [*args, "--from", "9.52,47.14", "--to", "9.51,47.20", *extra])
    assert res.exit_code == 2 and needle in res.stderr and "Traceback" not in res.output


def test_route_convoy_roads_bad_ends(tmp_path: Path) -> None:
    pbf = str(OSM / "liechtenstein-latest.osm.pbf")
    base = ["route", "convoy", "--roads", pbf, "--to", "9.51,47.20"]
    res = runner.invoke(app, [*base, "--from", "999,1"])
    assert res.exit_code == 2 and "--from: not a WGS84 position" in res.stderr
    res = runner.invoke(app, [*base, "--from", "dasu"])
    assert res.exit_code == 2 and "--from: unknown node 'dasu'" in res.stderr
    other = tmp_path / "roads.txt"
    other.write_text("x")
    res = runner.invoke(
        app, ["route", "convoy", "--roads", str(other), "--from", "1,2", "--to", "3,4"]
    )
    assert res.exit_code == 2 and "road files are .osm.pbf" in res.stderr


def test_npz_round_trip(andorra: RoadGraph, tmp_path: Path) -> None:
    path = tmp_path / "g.npz"
    andorra.save_npz(path)
    back = RoadGraph.load_npz(path)
    for name in ("indptr", "head", "tail", "length_m", "time_s", "edge", "lon", "lat"):
        assert np.array_equal(getattr(back, name), getattr(andorra, name)), name
    assert list(back.node_ids) == list(andorra.node_ids)
    assert list(back.edge_ids) == list(andorra.edge_ids)
    assert back.label == andorra.label
    assert set(back.edge_attrs) == set(andorra.edge_attrs)
    for k, v in andorra.edge_attrs.items():
        assert np.asarray(back.edge_attrs[k]).tolist() == np.asarray(v).tolist(), k
    src = np.arange(0, andorra.n_nodes, 997)
    assert np.array_equal(back.distances(src), andorra.distances(src))
    with pytest.raises(ValidationError):
        RoadGraph.from_arcs([0], [1], [1.0], [1.0], n_nodes=2, node_ids=["a", 2]).save_npz(
            tmp_path / "mixed.npz"
        )


def test_read_roads_caches_the_parsed_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from corridorguard._cli import route as route_cli
    from corridorguard.routing import osm

    monkeypatch.setenv("CORRIDORGUARD_CACHE_DIR", str(tmp_path / "cache"))
    pbf = tmp_path / "li.osm.pbf"
    pbf.write_bytes((OSM / "liechtenstein-latest.osm.pbf").read_bytes())
    first = route_cli.read_roads(pbf)
    cached = list((tmp_path / "cache" / "roads").glob("*.npz"))
    assert len(cached) == 1

    def no_parse(*_a: object, **_k: object) -> RoadGraph:
        raise AssertionError("parsed again")

    monkeypatch.setattr(osm, "read_osm_pbf", no_parse)
    second = route_cli.read_roads(pbf)
    assert np.array_equal(second.head, first.head) and second.n_nodes == first.n_nodes
    cached[0].write_bytes(b"not a zip")  # damaged: ignored, parsed again, rewritten
    monkeypatch.undo()
    monkeypatch.setenv("CORRIDORGUARD_CACHE_DIR", str(tmp_path / "cache"))
    third = route_cli.read_roads(pbf)
    assert third.n_arcs == first.n_arcs and cached[0].read_bytes()[:2] == b"PK"
    pbf.touch()  # a changed file is a new key
    import os

    os.utime(pbf, ns=(1, 1))
    route_cli.read_roads(pbf)
    assert len(list((tmp_path / "cache" / "roads").glob("*.npz"))) == 2


def test_scenario_convoy_from_positions_finds_the_movement() -> None:
    """Positions a few km from Dasu and Islamabad snap to those nodes, so the scenario's worker
    movement between them (day-only) applies."""
    from corridorguard.scenario import load_scenario

    sc = load_scenario("cpec")
    dasu, isb = sc.node("dasu"), sc.node("islamabad")
    res = runner.invoke(
        app,
        [
            "route",
            "convoy",
            "--scenario",
            "cpec",
            "--json",
            "--from",
            f"{dasu.lon + 0.02},{dasu.lat}",
            "--to",
            f"{isb.lon},{isb.lat - 0.03}",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["movement"] == "dasu_islamabad" and out["day_only"] is True
    assert out["snapped"]["from"]["node"] == "dasu" and out["snapped"]["to"]["node"] == "islamabad"
    assert 1_000 < out["snapped"]["from"]["distance_m"] < 3_000
    plain = runner.invoke(
        app,
        ["route", "convoy", "--scenario", "cpec", "--from", "dasu", "--to", "islamabad", "--json"],
    )
    assert "snapped" not in json.loads(plain.stdout)
    assert json.loads(plain.stdout)["routes"] == out["routes"]
