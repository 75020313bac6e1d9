"""Record validation and STIX import edge cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from corridorguard.errors import ImportRejected, ValidationError
from corridorguard.sharing.policy import TLP, Actor, Role
from corridorguard.sharing.records import IncidentRecord, RouteRecord, SiteRecord, parse_time
from corridorguard.sharing.stix import export_stix, import_stix

BOB = Actor("bob", "ORG-B", Role.ANALYST)
BASE = {
    "id": "1",
    "source": "csv",
    "source_id": None,
    "time": "2026-01-01T00:00:00Z",
    "lon": 70.0,
    "lat": 30.0,
    "type": "raid",
    "tlp": "green",
    "originator": "ORG-A",
}


def test_times_are_utc() -> None:
    assert parse_time("2026-01-01T05:00:00+05:00") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_time(datetime(2026, 1, 1)).tzinfo is not None
    local = datetime(2026, 1, 1, 5, tzinfo=timezone(timedelta(hours=5)))
    assert parse_time(local) == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError):
        parse_time("yesterday")
    with pytest.raises(ValidationError):
        parse_time(12)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lon": 181.0}, "lon/lat"),
        ({"lat": -91.0}, "lon/lat"),
        ({"fatalities": -1}, "fatalities"),
        ({"originator": ""}, "originator"),
        ({"tlp": "ultra"}, "tlp"),
    ],
)
def test_incident_validation(change: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        IncidentRecord(**{**BASE, **change})
    assert err.value.field == field


def test_site_and_route_validation() -> None:
    with pytest.raises(ValidationError):
        SiteRecord(id="s", name="n", kind="k", lon=0, lat=95, tlp=TLP.GREEN, originator="A")
    with pytest.raises(ValidationError) as err:
        RouteRecord(id="r", name="n", points=((0, 0), (0, 100)), tlp=TLP.GREEN, originator="A")
    assert err.value.field == "points[1]"
    route = RouteRecord(id="r", name="n", points=[(0, 0), (1, 1)], tlp=TLP.GREEN, originator="A")
    assert route.start is None and route.points == ((0.0, 0.0), (1.0, 1.0))


def test_import_accepts_a_bundle_object_and_reports_missing_places() -> None:
    inc = IncidentRecord(**BASE)
    site = SiteRecord(id="s", name="n", kind="k", lon=1, lat=2, tlp=TLP.GREEN, originator="ORG-A")
    bundle = export_stix(BOB, incidents=[inc], sites=[site])
    got = import_stix(bundle, BOB)
    assert len(got.incidents) == 1 and len(got.sites) == 1
    objs = json.loads(bundle.serialize())["objects"]
    no_places = [o for o in objs if o["type"] not in ("location",)]
    with pytest.raises(ImportRejected) as err:
        import_stix({"type": "bundle", "id": bundle.id, "objects": no_places}, BOB)
    assert sorted(r.field for r in err.value.rows) == ["relationship", "where_sighted_refs"]
    unmarked = [
        {**o, "object_marking_refs": []} if o["type"] == "infrastructure" else o for o in objs
    ]
    with pytest.raises(ImportRejected) as err:
        import_stix({"type": "bundle", "id": bundle.id, "objects": unmarked}, BOB)
    assert [r.field for r in err.value.rows] == ["object_marking_refs"]
