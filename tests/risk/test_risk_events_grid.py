"""Events (validation, precision policy, record adapter) and the masked grid."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corridorguard.errors import ValidationError
from corridorguard.incidents import Incident
from corridorguard.risk import (
    Events,
    Grid,
    PrecisionPolicy,
    apply_precision,
    events_from_records,
    laea_crs,
)
from corridorguard.risk.events import DAY, to_seconds
from corridorguard.scenario.model import Edge, Node, Scenario, Site


def _events(n: int = 5) -> Events:
    return Events.from_arrays(
        np.linspace(70, 70.1, n),
        np.full(n, 30.0),
        np.arange(n)[::-1] * DAY,
        where_prec=[1, 2, 3, 1, 6][:n],
        date_prec=[1, 1, 1, 4, 1][:n],
    )


def test_events_sorted_and_validated() -> None:
    ev = _events()
    assert np.all(np.diff(ev.t) >= 0)
    assert ev.lon[0] == pytest.approx(70.1)  # the latest time came first in the input
    with pytest.raises(ValidationError, match="lat"):
        Events.from_arrays([70.0], [95.0], [0.0])
    with pytest.raises(ValidationError, match="weight"):
        Events.from_arrays([70.0], [30.0], [0.0], weight=[-1.0])
    with pytest.raises(ValidationError):
        Events.from_arrays([70.0, 71.0], [30.0], [0.0, 1.0])


def test_times_from_datetimes_strings_and_datetime64() -> None:
    t = datetime(2016, 10, 1, tzinfo=UTC)
    assert to_seconds("2016-10-01") == t.timestamp()
    assert to_seconds(np.datetime64("2016-10-01T00:00")) == t.timestamp()
    ev = Events.from_arrays([1.0], [2.0], np.array(["2016-10-01"], dtype="datetime64[D]"))
    assert ev.t[0] == t.timestamp()
    with pytest.raises(ValidationError):
        to_seconds("not a date")


def test_before_is_strict_and_between_half_open() -> None:
    ev = Events.from_arrays([1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [0.0, DAY, 2 * DAY])
    assert len(ev.before(DAY)) == 1
    assert len(ev.between(DAY, 2 * DAY)) == 1


def test_precision_policy_drop_and_downweight() -> None:
    ev = _events()
    # imprecise: where_prec 3 and 6, date_prec 4 -> three events
    assert len(apply_precision(ev, PrecisionPolicy(mode="drop"))) == 2
    dw = apply_precision(ev, PrecisionPolicy(mode="downweight", factor=0.5))
    assert sorted(dw.weight.tolist()) == [0.5, 0.5, 0.5, 1.0, 1.0]
    assert apply_precision(ev, PrecisionPolicy(mode="keep")) is ev
    with pytest.raises(ValidationError):
        PrecisionPolicy(mode="bogus")  # type: ignore[arg-type]


def test_records_adapter_with_stand_ins_and_incidents() -> None:
    t = datetime(2019, 1, 2, tzinfo=UTC)
    recs = [
        SimpleNamespace(lon=70.0, lat=30.0, time=t, location_precision=4, time_precision=1),
        {"longitude": 71.0, "latitude": 31.0, "time": "2019-01-01"},
        Incident(
            source="x", source_id="1", time=t, lon=72.0, lat=32.0, type="a", location_precision=2
        ),
    ]
    ev = events_from_records(recs)
    assert len(ev) == 3
    assert ev.lon[0] == 71.0  # earliest first
    assert ev.where_prec is not None and sorted(ev.where_prec.tolist()) == [0, 2, 4]
    with pytest.raises(ValidationError):
        events_from_records([{"lon": 1.0}])


def test_grid_around_events_mask_and_lookup() -> None:
    ev = Events.from_arrays([70.0, 70.2], [30.0, 30.0], [0.0, 1.0])
    g = Grid.around_events(ev, cell_m=1000, buffer_m=2500)
    x, y = g.project(ev.lon, ev.lat)
    pos = g.locate(x, y)
    assert np.all(pos >= 0)
    cx, cy = g.centres()
    # every active cell centre is within the buffer of an event, and there are two blobs
    d = np.min(np.hypot(cx[:, None] - x[None, :], cy[:, None] - y[None, :]), axis=1)
    assert d.max() <= 2500 + 1e-6
    assert 30 <= g.n_active <= 2 * 25  # ~ pi * 2.5^2 cells per blob
    # far away points are outside
    assert g.locate(np.array([x[0] + 1e6]), np.array([y[0]]))[0] == -1
    full = g.to_full(np.arange(g.n_active, dtype=float))
    np.testing.assert_array_equal(g.to_active(full), np.arange(g.n_active))


def test_grid_from_geojson_polygon_and_geojson_out() -> None:
    poly = {
        "type": "Polygon",
        "coordinates": [[[70, 30], [70.1, 30], [70.1, 30.1], [70, 30.1], [70, 30]]],
    }
    g = Grid.from_geojson(json.dumps({"type": "Feature", "geometry": poly}), cell_m=1000)
    # ~ 9.6 km x 11.1 km
    assert 90 <= g.n_active <= 125
    gj = g.to_geojson(np.ones(g.n_active))
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == g.n_active
    ring = gj["features"][0]["geometry"]["coordinates"][0]
    assert len(ring) == 5 and ring[0] == ring[-1]
    assert 69.9 < ring[0][0] < 70.2 and 29.9 < ring[0][1] < 30.2
    with pytest.raises(ValidationError):
        Grid.from_geojson({"type": "Point", "coordinates": [70, 30]}, cell_m=1000)


def test_grid_around_scenario_corridor() -> None:
    sc = Scenario(
        name="t",
        nodes=(
            Node(id="a", name="A", lon=70.0, lat=30.0),
            Node(id="b", name="B", lon=70.5, lat=30.0),
        ),
        edges=(Edge(id="e", source="a", target="b", route="N-1", length_m=48000, speed_kmh=60),),
        sites=(Site(id="s", name="S", type="dam", lon=70.25, lat=30.2, criticality=3),),
    )
    g = Grid.around_scenario(sc, cell_m=2000, buffer_m=4000)
    # band ~48 km x 8 km (~96 cells + end caps) plus a disc round the site (~13 cells)
    assert 100 <= g.n_active <= 160
    with pytest.raises(ValidationError):
        Grid.around_events(_events(), cell_m=-1)


@settings(max_examples=40, deadline=None)
@given(
    st.floats(50.0, 5000.0),
    st.lists(st.tuples(st.floats(0.0, 0.999), st.floats(0.0, 0.999)), min_size=1, max_size=30),
)
def test_locate_finds_the_cell_whose_centre_is_nearest(
    cell: float, fracs: list[tuple[float, float]]
) -> None:
    g = Grid(laea_crs(70.0, 30.0), -3.0 * cell, 7.0 * cell, cell, 9, 6, np.ones((6, 9), bool))
    f = np.array(fracs)
    x = g.x0 + f[:, 0] * g.nx * cell
    y = g.y0 + f[:, 1] * g.ny * cell
    pos = g.locate(x, y)
    cx, cy = g.centres()
    assert np.all(pos >= 0)
    assert np.all(np.abs(cx[pos] - x) <= cell / 2 + 1e-6)
    assert np.all(np.abs(cy[pos] - y) <= cell / 2 + 1e-6)
