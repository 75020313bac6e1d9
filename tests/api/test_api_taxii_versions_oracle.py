"""The releasability oracle over versions: records uploaded in two versions under random
markings (every TLP, REL-TO lists, RED recipients), read by every reader in every TAXII
collection with ``match[version]=all``: the versions served, and the marking each is served
under, equal the pure reference (current marking governs; an earlier version also needs its
own; it is served under the stricter of the two)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from api_world import (
    AGENCIES,
    NEEDS_PG,
    Template,
    World,
    copy_world,
    make_template,
    open_world,
    pg_schema,
    user_name,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridorguard.api.routes.taxii import ALL_COLLECTION, collection_id
from corridorguard.sharing.policy import TLP, Actor, Marking, Role, may_pass_on, visible_to
from corridorguard.sharing.records import IncidentRecord
from corridorguard.sharing.stix import TLP_MARKING_IDS, export_stix

READERS = [user_name(o, r) for o in AGENCIES for r in ("reporter", "analyst", "admin")]
USERS = [user_name(o, r) for o in AGENCIES for r in ("reporter", "analyst")]
COLLECTIONS = [(ALL_COLLECTION, None)] + [(collection_id(o), o) for o in AGENCIES]
V1, V2 = "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"

marking_st = st.fixed_dictionaries(
    {
        "tlp": st.sampled_from(list(TLP)),
        "rel_to": st.frozensets(st.sampled_from(AGENCIES), max_size=2),
        "red": st.frozensets(st.sampled_from(USERS), max_size=2),
    }
)
spec_st = st.fixed_dictionaries(
    {"org": st.sampled_from(AGENCIES), "v1": marking_st, "v2": marking_st}
)


def _bundle(stix_id: str, mark: dict[str, Any], modified: str, text: str) -> dict[str, Any]:
    red = mark["red"] if mark["tlp"] is TLP.RED else frozenset()
    rec = IncidentRecord(
        id=stix_id, source="manual", source_id=None, time="2025-06-01T00:00:00Z", lon=66.5,
        lat=25.1, type="raid", description=text, tlp=mark["tlp"], originator="PARTNER-X",
        rel_to=mark["rel_to"], red_recipients=red, created_by="x", modified=modified,
    )  # type: ignore[arg-type]  # fmt: skip
    actor = Actor(user_id="x", org="PARTNER-X", role=Role.ANALYST)
    return json.loads(export_stix(actor, incidents=[rec]).serialize())  # type: ignore[no-any-return]


def _marking(spec: dict[str, Any], v: str) -> Marking:
    m = spec[v]
    red = m["red"] if m["tlp"] is TLP.RED else frozenset()
    uploader = user_name(spec["org"], "analyst")
    return Marking(spec["org"], m["tlp"], m["rel_to"], red, created_by=uploader)


def _allowed(actor: Actor, m: Marking, to_org: str | None) -> bool:
    return visible_to(actor, m) and (to_org is None or may_pass_on(actor, m, to_org))


def _check(template: Template, tmp: Path, specs: list[dict[str, Any]]) -> None:
    _check_world(copy_world(template, tmp), specs)


def _check_world(w: World, specs: list[dict[str, Any]]) -> None:
    try:
        records = {}
        for k, spec in enumerate(specs):
            stix_id = f"incident--{uuid.uuid4()}"
            uploader = user_name(spec["org"], "analyst")
            for v, when in (("v1", V1), ("v2", V2)):
                r = w.post(uploader, "/api/v1/stix/bundles", _bundle(stix_id, spec[v], when, v))
                assert r.status_code == 200, r.text
            records[stix_id] = (_marking(spec, "v1"), _marking(spec, "v2"))
            assert k == len(records) - 1
        for reader in READERS:
            actor = w.actors[reader]
            for cid, to_org in COLLECTIONS:
                expect = {}
                for stix_id, (m1, m2) in records.items():
                    if not _allowed(actor, m2, to_org):
                        continue
                    expect[(stix_id, V2)] = TLP_MARKING_IDS[m2.tlp]
                    if _allowed(actor, m1, to_org):
                        strict = max(m1.tlp, m2.tlp, key=list(TLP).index)  # the higher TLP
                        expect[(stix_id, V1)] = TLP_MARKING_IDS[strict]
                path = f"/taxii2/api1/collections/{cid}/objects/"
                page = w.get(reader, path, limit=1000, **{"match[version]": "all"}).json()
                assert page["more"] is False
                got = {
                    (o["id"], o["modified"]): o["object_marking_refs"][0]
                    for o in page.get("objects", [])
                    if o["type"] == "incident"
                }
                assert got == expect, (reader, to_org)
                for stix_id in records:
                    listed = w.get(reader, f"{path}{stix_id}/versions/")
                    want = sorted(v for (i, v) in expect if i == stix_id)
                    if not want:
                        assert listed.status_code == 404
                    else:
                        assert listed.json()["versions"] == want
    finally:
        w.client.close()
        w.store.close()


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(spec_st, min_size=2, max_size=6))
def test_every_reader_gets_exactly_the_versions_the_reference_allows(
    template: Template, tmp_path: Path, specs: list[dict[str, Any]]
) -> None:
    _check(template, tmp_path / uuid.uuid4().hex, specs)


def _every_change() -> list[dict[str, Any]]:
    tlps = list(TLP)
    return [
        {
            "org": AGENCIES[(a + b) % 3],
            "v1": {"tlp": t1, "rel_to": frozenset({AGENCIES[a % 3]}), "red": frozenset(USERS[:2])},
            "v2": {"tlp": t2, "rel_to": frozenset({AGENCIES[b % 3]}), "red": frozenset(USERS[1:3])},
        }
        for a, t1 in enumerate(tlps)
        for b, t2 in enumerate(tlps)
    ]


def test_a_fixed_world_of_every_marking_change(template: Template, tmp_path: Path) -> None:
    _check(template, tmp_path, _every_change())


@pytest.mark.postgres
@NEEDS_PG
def test_every_marking_change_on_postgresql(tmp_path: Path) -> None:
    with pg_schema() as url:
        _check_world(open_world(make_template(tmp_path, url), url), _every_change())
