"""The coverage-gap layer: uncovered road pieces merged into runs, sites as points."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from corridorguard.placement.demand import corridor_demand, gaps_geojson
from corridorguard.routing.graph import RoadGraph
from corridorguard.scenario import load_scenario

_SC = load_scenario("cpec")
_DEMAND = corridor_demand(_SC, RoadGraph.from_scenario(_SC), piece_m=2_000.0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), share=st.floats(0.0, 1.0))
def test_gap_runs_keep_every_uncovered_piece(seed: int, share: float) -> None:
    d = _DEMAND
    covered = np.random.default_rng(seed).random(d.size) < share
    layer = gaps_geojson(d, covered, label="schematic")
    open_ = ~covered & (d.weight > 0)
    feats = layer["features"]
    # the weight and the pieces are all there, once
    assert np.isclose(sum(f["properties"]["weight"] for f in feats), d.weight[open_].sum())
    lines = [f for f in feats if f["geometry"]["type"] == "LineString"]
    road_open = open_ & (d.kind == "road")
    assert sum(f["properties"]["pieces"] for f in lines) == int(road_open.sum())
    assert sum(f["geometry"]["type"] == "Point" for f in feats) == int(
        (open_ & (d.kind == "site")).sum()
    )
    # one feature per maximal run of consecutive uncovered pieces of one segment
    idx = np.nonzero(road_open)[0]
    starts = [
        i
        for k, i in enumerate(idx)
        if k == 0 or not (i == idx[k - 1] + 1 and d.edge[i] == d.edge[i - 1])
    ]
    assert len(lines) == len(starts)
    for f, i in zip(lines, starts, strict=True):
        n = f["properties"]["pieces"]
        assert f["properties"]["ref"] == d.ref[i]
        assert np.allclose(f["geometry"]["coordinates"][0], d.span[i, :2], atol=1e-6)
        assert np.allclose(f["geometry"]["coordinates"][1], d.span[i + n - 1, 2:], atol=1e-6)
        assert np.isclose(f["properties"]["weight"], d.weight[i : i + n].sum())


def test_no_gaps_when_all_covered() -> None:
    assert gaps_geojson(_DEMAND, np.ones(_DEMAND.size, bool), label="x")["features"] == []
