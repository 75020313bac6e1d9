"""Plans' public parts (STIX ``course-of-action``), their routes for CoT, and import hardening."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, date, datetime, time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corridorguard.errors import ImportRejected
from corridorguard.sharing.plans import plan_routes, plan_summary
from corridorguard.sharing.policy import TLP, Actor, Role, may_pass_on, visible_to
from corridorguard.sharing.records import PlanRecord
from corridorguard.sharing.stix import TLP_MARKING_IDS, export_stix, import_stix

A, B, C = "ORG-A", "ORG-B", "ORG-C"
bob = Actor("bob", B, Role.ANALYST)
MARK = {"originator": A, "tlp": TLP.AMBER, "rel_to": frozenset({B})}


def _plan(i: int, tlp: TLP, **kw: object) -> PlanRecord:
    base: dict[str, object] = {
        "id": str(i), "title": f"plan {i}", "status": "approved", "version": 1,
        "lineage": f"l{i}", "forces": (A,), "created": "2025-01-01T00:00:00Z",
        "decided": "2025-01-02T00:00:00Z", "approvals": ((A, "approve", "2025-01-02T00:00:00Z"),),
        "patrols": 2, "checkpoints": 1, "sensors": 0, "bbox": (62.0, 25.0, 62.5, 25.2),
        "tlp": tlp, "originator": A,
    }  # fmt: skip
    base.update(kw)
    return PlanRecord(**base)  # type: ignore[arg-type]


def test_plan_public_parts_in_stix_validate_and_carry_their_marking() -> None:
    plans = [
        _plan(1, TLP.AMBER, rel_to=frozenset({B})),
        _plan(2, TLP.AMBER_STRICT, rel_to=frozenset({B})),
    ]
    bundle = export_stix(bob, plans=plans)
    objs = [o for o in json.loads(bundle.serialize())["objects"] if o["type"] == "course-of-action"]
    assert len(objs) == 2
    assert objs[0]["object_marking_refs"] == [TLP_MARKING_IDS[TLP.AMBER]]
    assert objs[0]["x_corridorguard_summary"]["bbox"] == [62.0, 25.0, 62.5, 25.2]
    assert objs[0]["x_corridorguard_approvals"] == [
        {"org": A, "decision": "approve", "time": "2025-01-02T00:00:00Z"}
    ]
    # to ORG-C: AMBER passes, AMBER+STRICT does not (bob is not its originator)
    to_c = json.loads(export_stix(bob, plans=plans, to_org=C).serialize())["objects"]
    assert [o["name"] for o in to_c if o["type"] == "course-of-action"] == ["plan 1"]
    import stix2validator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stix2validator.validate_string(
            bundle.serialize(), stix2validator.ValidationOptions(version="2.1")
        )
    assert result.is_valid, [str(e) for e in result.errors]


def test_routes_from_lists_and_from_patrol_geojson() -> None:
    content = {
        "routes": [
            {"name": "r1", "callsign": "A1", "start": "2025-01-01T06:00:00Z",
             "points": [[62.0, 25.0], [62.1, 25.1]]},
            {"name": "bad", "points": [[62.0, 25.0], [500, 25.1]]},  # one valid point: skipped
            "not a route",
        ],
        "checkpoints": [{"lon": 61.0, "lat": 24.0}, {"name": "no place"}],
    }  # fmt: skip
    routes = plan_routes(content, plan_id="7", title="T", marking=MARK)
    assert [(r.id, r.name, r.callsign) for r in routes] == [("7.0", "T: r1", "A1")]
    assert routes[0].start == datetime(2025, 1, 1, 6, tzinfo=UTC) and routes[0].tlp is TLP.AMBER
    assert plan_summary(content) == {
        "patrols": 1, "checkpoints": 2, "sensors": 0, "bbox": (61.0, 24.0, 62.1, 25.1),
    }  # fmt: skip
    # the patrol planner's GeoJSON: LineString legs joined per unit, waits ignored
    from corridorguard.patrol.export import route_geojson
    from corridorguard.patrol.schedule import Leg, Route
    from corridorguard.scenario import load_scenario

    sc = load_scenario("cpec")
    e0 = sc.edges[0]
    nxt = next(e for e in sc.edges if e.source == e0.target and e.target != e0.source)
    t0 = datetime.combine(date(2025, 1, 1), time(6), tzinfo=UTC)
    legs = (
        Leg(kind="move", from_node=e0.source, to_node=e0.target, edge=e0.id, start=t0, end=t0),
        Leg(kind="wait", from_node=e0.target, to_node=e0.target, edge=None, start=t0, end=t0),
        Leg(kind="move", from_node=nxt.source, to_node=nxt.target, edge=nxt.id, start=t0, end=t0),
    )
    route = Route(
        force_id="F", unit_id="U1", resource=0, day=0, layer="ground", path_index=0,
        arcs=np.zeros(0, dtype=np.int64), legs=legs,
    )  # fmt: skip
    fc = route_geojson(sc, [route])
    got = plan_routes({"routes": fc}, plan_id="9", title="P", marking=MARK)
    assert len(got) == 1 and len(got[0].points) == 3
    assert got[0].points[0] == (sc.node(e0.source).lon, sc.node(e0.source).lat)


@settings(max_examples=60, deadline=None)
@given(
    tlp=st.sampled_from(list(TLP)),
    rel=st.frozensets(st.sampled_from([A, B, C])),
    to_org=st.sampled_from([A, B, C, "*"]),
)
def test_plan_export_is_exactly_the_passable(tlp: TLP, rel: frozenset[str], to_org: str) -> None:
    p = _plan(1, tlp, rel_to=rel)
    objs = json.loads(export_stix(bob, plans=[p], to_org=to_org).serialize()).get("objects", [])
    shown = any(o["type"] == "course-of-action" for o in objs)
    assert shown == may_pass_on(bob, p, to_org)
    seen = json.loads(export_stix(bob, plans=[p]).serialize()).get("objects", [])
    assert any(o["type"] == "course-of-action" for o in seen) == visible_to(bob, p)


def _bundle_with(**override: object) -> dict:
    from corridorguard.sharing.records import SiteRecord

    site = SiteRecord(
        id="s1", name="Dam", kind="dam", lon=62.0, lat=25.0, tlp=TLP.GREEN, originator=A
    )
    objs = json.loads(export_stix(bob, sites=[site]).serialize())["objects"]
    for o in objs:
        if o["type"] == "infrastructure":
            o.update(override)
    return {"type": "bundle", "id": "bundle--6b1f3c4e-2a57-4f0e-9d43-8f0c2f5e7a11", "objects": objs}


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"x_corridorguard_rel_to": "ORG-B"}, "x_corridorguard_rel_to"),
        ({"x_corridorguard_rel_to": [1, 2]}, "x_corridorguard_rel_to"),
        ({"x_corridorguard_red_recipients": [""]}, "x_corridorguard_red_recipients"),
        ({"x_corridorguard_kind": ["dam"]}, "x_corridorguard_kind"),
        ({"name": "x" * 201}, "name"),
        ({"spec_version": "2.0"}, "spec_version"),
    ],
)
def test_bad_custom_properties_are_rejected_naming_object_and_field(
    override: dict, field: str
) -> None:
    bundle = _bundle_with(**override)
    with pytest.raises(ImportRejected) as err:
        import_stix(bundle, bob)
    k = next(i for i, o in enumerate(bundle["objects"]) if o["type"] == "infrastructure")
    assert [(r.line, r.field) for r in err.value.rows] == [(k, field)]


@pytest.mark.parametrize(
    "objects", [[{"no": "type"}], [{"type": "incident", "id": "incident--x", "name": 3}], "nope"]
)
def test_malformed_objects_are_rejected_not_crashes(objects: object) -> None:
    with pytest.raises(ImportRejected):
        import_stix({"type": "bundle", "id": "bundle--1", "objects": objects}, bob)
