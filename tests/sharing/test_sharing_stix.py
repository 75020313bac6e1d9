"""STIX 2.1 export/import: TLP 2.0 markings, policy on every object, idempotent import."""

from __future__ import annotations

import json
import warnings

import pytest
import stix2
from hypothesis import given, settings
from hypothesis import strategies as st

from corridorguard.errors import ImportRejected
from corridorguard.sharing.policy import TLP, Actor, Role, visible_to
from corridorguard.sharing.records import IncidentRecord, SiteRecord
from corridorguard.sharing.stix import (
    TLP2_EXTENSION_ID,
    TLP_MARKING_IDS,
    export_stix,
    identity_id,
    import_stix,
)

A, B, C = "ORG-A", "ORG-B", "ORG-C"
alice = Actor("alice", A, Role.ANALYST)
bob = Actor("bob", B, Role.ANALYST)
carol = Actor("carol", C, Role.ANALYST)
olga = Actor("olga", C, Role.OVERSIGHT)


def _incident(i: int, tlp: TLP, *, rel_to: frozenset[str] = frozenset(), **kw) -> IncidentRecord:
    base = {
        "id": str(i),
        "source": "ucdp-ged",
        "source_id": f"ged-{i}",
        "time": f"2024-03-0{1 + i % 9}T10:00:00Z",
        "lon": 73.0 + i / 100,
        "lat": 33.6 + i / 100,
        "type": "ied",
        "description": f"schematic test incident {i}",
        "fatalities": i % 3,
        "tlp": tlp,
        "originator": A,
        "rel_to": rel_to,
    }
    base.update(kw)
    return IncidentRecord(**base)


INCIDENTS = [
    _incident(1, TLP.CLEAR),
    _incident(2, TLP.GREEN),
    _incident(3, TLP.AMBER, rel_to=frozenset({B})),
    _incident(4, TLP.AMBER_STRICT, rel_to=frozenset({B})),
    _incident(5, TLP.RED, red_recipients=frozenset({"bob"})),
]
SITES = [
    SiteRecord(
        id="s1",
        name="Karakoram bridge (schematic)",
        kind="bridge",
        lon=74.5,
        lat=35.9,
        tlp=TLP.GREEN,
        originator=A,
    ),
    SiteRecord(
        id="s2",
        name="Substation (schematic)",
        kind="power",
        lon=73.2,
        lat=33.9,
        tlp=TLP.AMBER,
        originator=B,
    ),
]


def _objects(bundle: stix2.Bundle, kind: str) -> list[dict]:
    return [o for o in json.loads(bundle.serialize()).get("objects", []) if o["type"] == kind]


def test_official_tlp2_marking_ids() -> None:
    assert TLP_MARKING_IDS[TLP.CLEAR] == "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
    assert (
        TLP_MARKING_IDS[TLP.AMBER_STRICT]
        == "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
    )
    assert TLP2_EXTENSION_ID == "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"


def test_export_applies_the_policy_per_object() -> None:
    names = {
        who.user_id: {
            o["external_references"][0]["external_id"]
            for o in _objects(export_stix(who, incidents=INCIDENTS), "incident")
        }
        for who in (alice, bob, carol, olga)
    }
    assert names["alice"] == {"ged-1", "ged-2", "ged-3", "ged-4"}  # RED: only named recipients
    assert names["bob"] == {"ged-1", "ged-2", "ged-3", "ged-4", "ged-5"}
    assert names["carol"] == {"ged-1", "ged-2"}
    assert names["olga"] == set()
    # passing on to ORG-C: AMBER yes, AMBER+STRICT and RED no
    passed = _objects(export_stix(bob, incidents=INCIDENTS, to_org=C), "incident")
    assert {o["external_references"][0]["external_id"] for o in passed} == {
        "ged-1",
        "ged-2",
        "ged-3",
    }
    public = _objects(export_stix(bob, incidents=INCIDENTS, to_org="*"), "incident")
    assert [o["name"] for o in public] == ["ied"] and len(public) == 1


def test_export_shape_markings_and_validator() -> None:
    bundle = export_stix(bob, incidents=INCIDENTS, sites=SITES)
    objs = json.loads(bundle.serialize())["objects"]
    used = {m for o in objs for m in o.get("object_marking_refs", [])}
    defs = {o["id"]: o for o in objs if o["type"] == "marking-definition"}
    assert used == set(defs)  # every referenced marking is defined in the bundle
    for d in defs.values():
        assert (
            d["extensions"][TLP2_EXTENSION_ID]["tlp_2_0"] == d["name"].removeprefix("TLP:").lower()
        )
    for o in objs:
        if o["type"] not in ("marking-definition", "identity"):
            assert len(o["object_marking_refs"]) == 1
            assert o["created_by_ref"] in {identity_id(A), identity_id(B)}
    amber = next(
        o
        for o in objs
        if o["type"] == "incident" and o["external_references"][0]["external_id"] == "ged-3"
    )
    assert amber["x_corridorguard_rel_to"] == [B]
    sighting = next(
        o for o in objs if o["type"] == "sighting" and o["sighting_of_ref"] == amber["id"]
    )
    loc = next(o for o in objs if o["id"] == sighting["where_sighted_refs"][0])
    assert (loc["longitude"], loc["latitude"]) == (73.03, 33.63)
    assert sighting["first_seen"] == "2024-03-04T10:00:00Z"
    assert {o["relationship_type"] for o in objs if o["type"] == "relationship"} == {"located-at"}
    import stix2validator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the validator's own dependencies warn on import paths
        result = stix2validator.validate_string(
            bundle.serialize(), stix2validator.ValidationOptions(version="2.1")
        )
    assert result.is_valid, [str(e) for e in result.errors]


def test_export_is_deterministic_and_import_idempotent() -> None:
    one = export_stix(bob, incidents=INCIDENTS, sites=SITES).serialize()
    two = export_stix(bob, incidents=INCIDENTS, sites=SITES).serialize()
    assert one == two
    first = import_stix(one, carol, trust_originator=True)
    assert len(first.created) == 7 and not first.updated
    held = {**first.incidents, **first.sites}
    again = import_stix(one, carol, trust_originator=True, existing=held)
    assert sorted(again.unchanged) == sorted(held) and not again.created and not again.updated
    # markings and originators kept
    by_src = {r.source_id: r for r in first.incidents.values()}
    assert by_src["ged-3"].tlp is TLP.AMBER and by_src["ged-3"].rel_to == {B}
    assert by_src["ged-4"].tlp is TLP.AMBER_STRICT and by_src["ged-5"].red_recipients == {"bob"}
    assert {r.originator for r in first.incidents.values()} == {A}
    assert (
        by_src["ged-2"].fatalities == 2
        and by_src["ged-2"].time.isoformat() == "2024-03-03T10:00:00+00:00"
    )
    # a re-export of imported records keeps the partner's STIX ids (sync chains do not fork)
    re = export_stix(bob, incidents=first.incidents.values(), sites=first.sites.values())
    assert {o["id"] for o in _objects(re, "incident")} == {
        o["id"] for o in _objects(stix2.parse(one, allow_custom=True), "incident")
    }
    # a changed record is reported as updated
    changed = dict(held)
    k = next(iter(first.incidents))
    changed[k] = _incident(99, TLP.GREEN)
    assert import_stix(one, carol, trust_originator=True, existing=changed).updated == [k]


def _objects_of(bundle_json: str) -> list[dict]:
    return json.loads(bundle_json)["objects"]


def test_uploaded_provenance_is_the_importer() -> None:
    one = export_stix(bob, incidents=INCIDENTS[:2]).serialize()
    got = import_stix(one, carol)
    assert {r.originator for r in got.incidents.values()} == {C}
    assert {r.tlp for r in got.incidents.values()} == {TLP.CLEAR, TLP.GREEN}


def test_bad_bundles_are_rejected_whole() -> None:
    with pytest.raises(ImportRejected):
        import_stix("not json", carol)
    with pytest.raises(ImportRejected):
        import_stix({"type": "indicator"}, carol)
    with pytest.raises(ImportRejected):
        import_stix({"type": "bundle", "id": "bundle--x", "objects": [{"type": "nonsense"}]}, carol)
    objs = _objects_of(export_stix(bob, incidents=INCIDENTS[:3]).serialize())
    for o in objs:
        if o["type"] == "incident":
            o["object_marking_refs"] = []  # unmarked: refused, never guessed
    objs = [o for o in objs if not (o["type"] == "sighting" and o is objs[-1])]
    bundle = {
        "type": "bundle",
        "id": "bundle--6f8671f2-db55-50fc-9a16-438c18596405",
        "objects": objs,
    }
    with pytest.raises(ImportRejected) as err:
        import_stix(bundle, carol)
    fields = [r.field for r in err.value.rows]
    assert fields.count("object_marking_refs") == 3 and "sighting" in fields
    no_ident = [
        o
        for o in _objects_of(export_stix(bob, incidents=INCIDENTS[:1]).serialize())
        if o["type"] != "identity"
    ]
    with pytest.raises(ImportRejected) as err:
        import_stix(
            {"type": "bundle", "id": bundle["id"], "objects": no_ident},
            carol,
            trust_originator=True,
        )
    assert err.value.rows[0].field == "created_by_ref"


def test_tlp1_markings_are_understood_on_import() -> None:
    objs = _objects_of(export_stix(bob, incidents=INCIDENTS[:1]).serialize())
    for o in objs:
        if o.get("object_marking_refs"):
            o["object_marking_refs"] = [stix2.TLP_WHITE.id]
    objs = [o for o in objs if o["type"] != "marking-definition"]
    got = import_stix(
        {"type": "bundle", "id": "bundle--6f8671f2-db55-50fc-9a16-438c18596405", "objects": objs},
        carol,
    )
    assert [r.tlp for r in got.incidents.values()] == [TLP.CLEAR]


ORGS = [A, B, C, "ORG-D"]
ACTORS = [
    Actor(f"u{k}", org, role)
    for k, (org, role) in enumerate((o, r) for o in ORGS for r in (Role.REPORTER, Role.OVERSIGHT))
]


@settings(max_examples=30, deadline=None)
@given(
    recs=st.lists(
        st.tuples(
            st.sampled_from(ORGS),
            st.sampled_from(list(TLP)),
            st.frozensets(st.sampled_from(ORGS), max_size=2),
            st.frozensets(st.sampled_from([a.user_id for a in ACTORS]), max_size=2),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_random_worlds_export_exactly_the_visible(recs) -> None:
    incidents = [
        _incident(i, tlp, rel_to=rel, originator=org, red_recipients=red)
        for i, (org, tlp, rel, red) in enumerate(recs)
    ]
    for actor in ACTORS:
        got = {
            o["external_references"][0]["external_id"]
            for o in _objects(export_stix(actor, incidents=incidents), "incident")
        }
        assert got == {r.source_id for r in incidents if visible_to(actor, r)}
