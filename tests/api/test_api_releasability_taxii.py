"""The releasability oracle over the TAXII paths of sites and plans' public parts (and the
shared plan summaries' own list and get).

Hypothesis builds worlds of marked sites, plans and shared plan summaries (plans uploaded over
STIX), every TLP marking, REL-TO lists, RED recipients, different creators. Then for every
reader and every TAXII path (the ``all`` collection in pages, ``match[type]``, ``match[id]``,
``added_after``, each ``to-<org>`` collection, one object, its versions) the returned records
must equal what the pure reference (:func:`visible_to`, :func:`may_pass_on`) allows; a record
the caller may not see answers byte for byte like one that does not exist.
"""

from __future__ import annotations

import itertools
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
from corridorguard.sharing.policy import Actor, Marking, Role, may_pass_on, visible_to
from corridorguard.sharing.records import PlanRecord
from corridorguard.sharing.stix import export_stix, sid

TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
READERS = [user_name(o, r) for o in AGENCIES for r in ("reporter", "analyst", "commander", "admin")]
ALL_USERS = [user_name(o, r) for o in AGENCIES for r in ("reporter", "analyst", "planner")]
CREATORS = {"sites": ("analyst", "planner"), "plans": ("planner", "commander")}
CREATORS["shared"] = CREATORS["plans"]
STIX_TYPE = {"sites": "infrastructure", "plans": "course-of-action", "shared": "course-of-action"}
_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
_COUNTER = itertools.count()

spec_st = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(sorted(CREATORS)),
        "org": st.sampled_from(AGENCIES),
        "role_pick": st.integers(0, 1),
        "tlp": st.sampled_from(TLPS),
        "rel_to": st.lists(st.sampled_from(AGENCIES), max_size=3, unique=True),
        "red": st.lists(st.sampled_from(ALL_USERS), max_size=3, unique=True),
    }
)


def _shared_bundle(spec: dict[str, Any], red: list[str]) -> tuple[str, dict[str, Any]]:
    """A plan's public parts from outside, as a STIX bundle (a fresh STIX id each time)."""
    rec = PlanRecord(
        id=f"course-of-action--{uuid.uuid4()}",
        title=f"shared {next(_COUNTER)}",
        status="approved",
        version=1,
        lineage="l",
        forces=("PARTNER-X",),
        created="2025-01-01T00:00:00Z",  # type: ignore[arg-type]
        originator="PARTNER-X",
        tlp=spec["tlp"],
        rel_to=frozenset(spec["rel_to"]),
        red_recipients=frozenset(red),
        created_by="x",
    )
    actor = Actor(user_id="x", org="PARTNER-X", role=Role.PLANNER)
    return rec.id, json.loads(export_stix(actor, plans=[rec]).serialize())


_SHARED_ROWS: dict[str, int] = {}  # STIX id -> shared_plans row id


def _create(w: World, spec: dict[str, Any]) -> tuple[str, Marking]:
    """Create the record; returns its STIX id and its marking (the reference's input)."""
    kind = spec["kind"]
    creator = user_name(spec["org"], CREATORS[kind][spec["role_pick"]])
    red = spec["red"] if spec["tlp"] == "RED" else []
    marks = {"tlp": spec["tlp"], "rel_to": spec["rel_to"], "red_recipients": red}
    if kind == "shared":
        stix_id, bundle = _shared_bundle(spec, red)
        r = w.post(creator, "/api/v1/stix/bundles", bundle)
        assert r.status_code == 200 and r.json()["created"]["plans"], r.text
        _SHARED_ROWS[stix_id] = r.json()["created"]["plans"][0]
    else:
        body: dict[str, Any] = {"name": "site", "type": "port", "lon": 62.3, "lat": 25.1}
        body["criticality"] = 3
        if kind == "plans":
            body = {"title": "p", "forces": [spec["org"]], "content": {}}
        r = w.post(creator, f"/api/v1/{kind}", {**body, **marks})
        assert r.status_code == 201, r.text
        stix_id = sid(STIX_TYPE[kind], spec["org"], str(r.json()["id"]))
    m = Marking(
        originator=spec["org"],
        tlp=spec["tlp"],
        rel_to=frozenset(spec["rel_to"]),
        red_recipients=frozenset(red),
        created_by=creator,
    )
    return stix_id, m


def _pages(w: World, user: str, cid: str, **params: Any) -> set[str]:
    """Primary STIX ids of every page of a collection."""
    got: set[str] = set()
    nxt = None
    while True:
        query = {"limit": 10, **params, **({"next": nxt} if nxt else {})}
        env = w.get(user, f"/taxii2/api1/collections/{cid}/objects/", **query)
        assert env.status_code == 200 and env.headers["content-type"].startswith(
            "application/taxii+json"
        )
        page = env.json()
        got |= {o["id"] for o in page.get("objects", []) if o["type"] in STIX_TYPE.values()}
        if not page["more"]:
            return got
        nxt = page["next"]


def _same_as_missing(w: World, user: str, path: str, stix_id: str) -> None:
    ghost_id = f"{stix_id.split('--')[0]}--{uuid.UUID(int=7)}"
    r = w.get(user, path.format(stix_id))
    ghost = w.get(user, path.format(ghost_id))
    assert r.status_code == ghost.status_code == 404
    assert r.content == ghost.content.replace(ghost_id.encode(), stix_id.encode())
    assert r.headers["content-type"] == ghost.headers["content-type"]


def _check_shared_plans(w: World, user: str, world: dict[str, Marking], seen: set[str]) -> None:
    """``GET /shared-plans`` and ``/shared-plans/{id}`` through the same policy."""
    rows = {_SHARED_ROWS[s]: s for s in world if s in _SHARED_ROWS}
    listed = w.get(user, "/api/v1/shared-plans", limit=500).json()
    assert {it["id"] for it in listed["items"]} == {i for i, s in rows.items() if s in seen}
    assert listed["total"] == len([s for s in rows.values() if s in seen])
    for i, stix_id in rows.items():
        r = w.get(user, f"/api/v1/shared-plans/{i}")
        if stix_id in seen:
            assert r.status_code == 200 and r.json()["stix_id"] == stix_id
            continue
        ghost = w.get(user, "/api/v1/shared-plans/10000000")
        assert r.status_code == ghost.status_code == 404
        assert r.content == ghost.content.replace(b"10000000", str(i).encode())


def check_taxii(w: World, world: dict[str, Marking]) -> None:
    base = f"/taxii2/api1/collections/{ALL_COLLECTION}"
    for user in READERS:
        actor = w.actors[user]
        seen = {s for s, m in world.items() if visible_to(actor, m)}
        _check_shared_plans(w, user, world, seen)
        assert _pages(w, user, ALL_COLLECTION) == seen, user
        assert _pages(w, user, ALL_COLLECTION, added_after="1970-01-01T00:00:00Z") == seen
        sites = _pages(w, user, ALL_COLLECTION, **{"match[type]": "infrastructure"})
        assert sites == {s for s in seen if s.startswith("infrastructure--")}, user
        for org in AGENCIES:
            passable = {s for s, m in world.items() if may_pass_on(actor, m, org)}
            assert _pages(w, user, collection_id(org)) == passable, (user, org)
        for stix_id in world:
            one = f"{base}/objects/{{}}/"
            versions = f"{base}/objects/{{}}/versions/"
            matched = _pages(w, user, ALL_COLLECTION, **{"match[id]": stix_id})
            if stix_id in seen:
                assert matched == {stix_id}
                got = w.get(user, one.format(stix_id)).json()["objects"]
                assert [o["id"] for o in got] == [stix_id]
                assert len(w.get(user, versions.format(stix_id)).json()["versions"]) == 1
            else:
                assert matched == set()
                _same_as_missing(w, user, one, stix_id)
                _same_as_missing(w, user, versions, stix_id)


def _world(w: World, specs: list[dict[str, Any]]) -> None:
    check_taxii(w, dict(_create(w, spec) for spec in specs))


def _run(template: Template, tmp: Path, specs: list[dict[str, Any]]) -> None:
    w = copy_world(template, tmp)
    try:
        _world(w, specs)
    finally:
        w.client.close()
        w.store.close()


@settings(max_examples=3, **_SETTINGS)
@given(specs=st.lists(spec_st, min_size=1, max_size=6))
def test_taxii_returns_exactly_the_visible_sites_and_plans(
    template: Template, tmp_path_factory: pytest.TempPathFactory, specs: list[dict[str, Any]]
) -> None:
    _run(template, tmp_path_factory.mktemp("world"), specs)


@pytest.mark.slow
@settings(max_examples=60, **_SETTINGS)
@given(specs=st.lists(spec_st, min_size=1, max_size=14))
def test_taxii_returns_exactly_the_visible_sites_and_plans_slow(
    template: Template, tmp_path_factory: pytest.TempPathFactory, specs: list[dict[str, Any]]
) -> None:
    _run(template, tmp_path_factory.mktemp("world"), specs)


FIXED = [
    {"kind": k, "org": o, "role_pick": 0, "tlp": t, "rel_to": r, "red": red}
    for k, o, t, r, red in [
        ("sites", "ORG-A", "AMBER+STRICT", ["ORG-B"], []),
        ("sites", "ORG-C", "RED", [], ["analyst-org-a"]),
        ("plans", "ORG-B", "AMBER", ["ORG-C"], []),
        ("plans", "ORG-A", "CLEAR", [], []),
        ("shared", "ORG-B", "GREEN", [], []),
        ("shared", "ORG-C", "AMBER", ["ORG-A"], []),
        ("shared", "ORG-A", "RED", [], ["reporter-org-b"]),
        ("sites", "ORG-B", "AMBER", [], []),
    ]
]


def test_a_fixed_world_covers_every_marking_and_kind(template: Template, tmp_path: Path) -> None:
    assert {s["kind"] for s in FIXED} == set(CREATORS) and {s["tlp"] for s in FIXED} == set(TLPS)
    _run(template, tmp_path, FIXED)


@pytest.mark.postgres
@NEEDS_PG
def test_taxii_sites_and_plans_on_postgresql(tmp_path: Path) -> None:
    with pg_schema() as url:
        t = make_template(tmp_path, url)
        w = open_world(t, url)
        try:
            _world(w, FIXED)
        finally:
            w.client.close()
            w.store.close()
