"""Which versions of a record a caller is served (``corridorguard.sharing.versions``): random
markings of the current record and of an earlier version, every actor and audience, against
the rules written out in the module docstring."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from corridorguard.sharing.policy import (
    TLP,
    Actor,
    Marking,
    Role,
    may_pass_on,
    releasable,
    visible_to,
)
from corridorguard.sharing.records import IncidentRecord
from corridorguard.sharing.stix import TLP_MARKING_IDS, version_objects
from corridorguard.sharing.versions import (
    HeldVersion,
    listed_versions,
    served_versions,
    stricter,
    version_marking,
)

ORGS = ("ORG-A", "ORG-B", "ORG-C")
V1 = datetime(2026, 1, 1, tzinfo=UTC)
V2 = datetime(2026, 2, 1, tzinfo=UTC)
RANK = {t: n for n, t in enumerate(TLP)}
USERS = [f"{r}-{o.lower()}" for o in ORGS for r in ("analyst", "reporter")]


def _record(tlp: TLP, rel: frozenset[str], red: frozenset[str], modified: datetime, text: str):
    return IncidentRecord(
        id="1", source="api", source_id="x", time=datetime(2025, 6, 1, tzinfo=UTC),
        lon=66.5, lat=25.1, type="raid", description=text, tlp=tlp, originator="ORG-A",
        rel_to=rel, red_recipients=red, created_by="analyst-org-a", modified=modified,
    )  # fmt: skip


markings = st.tuples(
    st.sampled_from(list(TLP)),
    st.frozensets(st.sampled_from(ORGS), max_size=2),
    st.frozensets(st.sampled_from(USERS), max_size=2),
)
actors = st.builds(
    Actor,
    user_id=st.sampled_from(USERS),
    org=st.sampled_from(ORGS),
    role=st.sampled_from([Role.ANALYST, Role.REPORTER, Role.OVERSIGHT]),
)


@settings(max_examples=300, deadline=None)
@given(
    old=markings,
    cur=markings,
    actor=actors,
    to_org=st.sampled_from([None, *ORGS]),
    words=st.sets(st.sampled_from(["last", "first", "all"]), min_size=1),
)
def test_earlier_versions_follow_both_markings(old, cur, actor, to_org, words) -> None:
    v1 = _record(*old, V1, "first")
    v2 = _record(*cur, V2, "second")
    if not releasable(actor, [v2], to_org=to_org):
        return  # the current marking governs: the caller never reaches the versions
    held = [HeldVersion(V1, V1, version_objects(v1)), HeldVersion(V2, V2, version_objects(v2))]
    got = served_versions(actor, v2, held, words=words, stamps=set(), to_org=to_org)
    own = v1.marking
    old_ok = visible_to(actor, own) and (to_org is None or may_pass_on(actor, own, to_org))
    expect = []
    if old_ok and words & {"all", "first"}:
        expect.append(V1)
    if words & {"all", "last"} or ("first" in words and not old_ok):
        expect.append(V2)
    assert [v.modified for v in got] == expect
    for v in got:
        marks = {tuple(o["object_marking_refs"]) for o in v.objects}
        assert marks == {(TLP_MARKING_IDS[v.marking.tlp],)}
        assert all(
            o.get("x_corridorguard_rel_to", []) == sorted(v.marking.rel_to) for o in v.objects
        )
        if v.modified == V1:  # never under a wider TLP than either marking
            assert RANK[v.marking.tlp] >= max(RANK[own.tlp], RANK[v2.tlp])
            assert v.objects[0]["description"] == "first"
    listed = listed_versions(actor, v2, held, to_org=to_org)
    assert listed == ([V1] if old_ok else []) + [V2]


def test_timestamps_added_after_and_versions_without_contents() -> None:
    actor = Actor(user_id="analyst-org-b", org="ORG-B", role=Role.ANALYST)
    v1 = _record(TLP.GREEN, frozenset(), frozenset(), V1, "first")
    v2 = replace(v1, modified=V2, description="second")
    held = [HeldVersion(V1, V1, version_objects(v1)), HeldVersion(V2, V2, None)]
    at = served_versions(actor, v2, held, words=set(), stamps={V1})
    assert [(v.modified, v.objects[0]["description"]) for v in at] == [(V1, "first")]
    # an earlier version added before ``added_after`` is not served again
    late = served_versions(actor, v2, held, words={"all"}, stamps=set(), added_after=V1)
    assert [v.modified for v in late] == [V2]
    # contents not held (received before revision 0005): listed, never served
    blind = [HeldVersion(V1, V1, None)]
    assert listed_versions(actor, v2, blind) == [V1, V2]
    assert [v.modified for v in served_versions(actor, v2, blind, words={"all"}, stamps=set())] == [
        V2
    ]


def test_stricter_and_version_marking() -> None:
    amber = Marking(originator="ORG-A", tlp=TLP.AMBER, rel_to=frozenset({"ORG-B"}))
    green = Marking(originator="ORG-A", tlp=TLP.GREEN)
    assert stricter(green, amber) == amber and stricter(amber, green) == amber
    other = replace(amber, rel_to=frozenset({"ORG-C"}))
    assert stricter(other, amber) == other  # a tie: the current marking
    rec = _record(TLP.AMBER, frozenset({"ORG-B"}), frozenset(), V1, "x")
    assert version_marking(version_objects(rec), green) == amber
    assert version_marking([{"object_marking_refs": []}], green) is None


def test_a_bundle_of_several_versions_imports_the_newest() -> None:
    import json

    from corridorguard.sharing.stix import export_stix, import_stix

    actor = Actor(user_id="analyst-org-a", org="ORG-A", role=Role.ANALYST)
    v1 = _record(TLP.GREEN, frozenset(), frozenset(), V1, "first")
    v2 = replace(v1, modified=V2, description="second")
    old, new = (json.loads(export_stix(actor, incidents=[v]).serialize()) for v in (v1, v2))
    # the newer version first, then the older one (as a page of every version might be read)
    bundle = {**new, "objects": new["objects"] + old["objects"]}
    got = import_stix(bundle, actor)
    (rec,) = got.incidents.values()
    assert (rec.description, rec.modified) == ("second", V2)
