"""The releasability oracle over the API.

Hypothesis builds random worlds of marked incidents (three agencies, every TLP marking, REL-TO
lists, RED recipients, different creators) through ``POST /incidents``; then, for every actor
and every read path (get, list, search, STIX export, TAXII objects, CoT export), the returned
ids must equal what the pure reference :func:`visible_to` allows. A record the caller may not
see must answer byte for byte like one that does not exist.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from api_world import (
    AGENCIES,
    PG_URL,
    Template,
    World,
    copy_world,
    incident,
    make_template,
    open_world,
    pg_schema,
    user_name,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridorguard.api.routes.taxii import ALL_COLLECTION
from corridorguard.sharing.policy import Marking, visible_to
from corridorguard.sharing.stix import _sid

TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
CREATORS = [user_name(o, r) for o in AGENCIES for r in ("reporter", "analyst", "planner")]
READERS = [user_name(o, r) for o in AGENCIES for r in ("reporter", "analyst", "commander", "admin")]
ALL_USERS = [
    user_name(o, r)
    for o in AGENCIES
    for r in ("reporter", "analyst", "planner", "commander", "admin")
]

marked = st.fixed_dictionaries(
    {
        "creator": st.sampled_from(CREATORS),
        "tlp": st.sampled_from(TLPS),
        "rel_to": st.lists(st.sampled_from(AGENCIES), max_size=3, unique=True),
        "red": st.lists(st.sampled_from(ALL_USERS), max_size=3, unique=True),
        "type": st.sampled_from(["raid", "ied", "ambush"]),
    }
)


def _create(w: World, spec: dict[str, Any]) -> tuple[int, Marking]:
    red = spec["red"] if spec["tlp"] == "RED" else []
    body = incident(spec["tlp"], rel_to=spec["rel_to"], red_recipients=red, type=spec["type"])
    r = w.post(spec["creator"], "/api/v1/incidents", body)
    assert r.status_code == 201, r.text
    actor = w.actors[spec["creator"]]
    m = Marking(
        originator=actor.org,
        tlp=spec["tlp"],
        rel_to=frozenset(spec["rel_to"]),
        red_recipients=frozenset(red),
        created_by=actor.user_id,
    )
    return r.json()["id"], m


def _stix_ids(bundle: dict[str, Any]) -> set[str]:
    return {o["id"] for o in bundle.get("objects", []) if o["type"] == "incident"}


def check_world(w: World, world: dict[int, Marking], missing: int) -> None:
    stix_of = {_sid("incident", m.originator, str(i)): i for i, m in world.items()}
    for user in READERS:
        actor = w.actors[user]
        expected = {i for i, m in world.items() if visible_to(actor, m)}
        # list
        listed = w.get(user, "/api/v1/incidents", limit=500).json()
        assert {it["id"] for it in listed["items"]} == expected, user
        assert listed["total"] == len(expected)
        # search (a filter on top of the policy)
        raids = w.get(user, "/api/v1/incidents", type="raid", limit=500).json()
        raid_ids = {it["id"] for it in raids["items"]}
        assert raid_ids <= expected and all(it["type"] == "raid" for it in raids["items"])
        # get: visible ones answer; invisible ones answer exactly like a missing id
        for i in world:
            r = w.get(user, f"/api/v1/incidents/{i}")
            if i in expected:
                assert r.status_code == 200
            else:
                ghost = w.get(user, f"/api/v1/incidents/{missing}")
                assert r.status_code == ghost.status_code == 404
                assert r.content == ghost.content.replace(str(missing).encode(), str(i).encode())
                assert dict(r.headers) == {
                    **dict(ghost.headers),
                    "content-length": r.headers["content-length"],
                }
        # STIX export
        bundle = json.loads(w.get(user, "/api/v1/export/stix").content)
        assert {stix_of[s] for s in _stix_ids(bundle)} == expected
        # TAXII (all pages)
        got: set[int] = set()
        nxt = None
        while True:
            params: dict[str, Any] = {"limit": 10}
            if nxt:
                params["next"] = nxt
            env = w.get(user, f"/taxii2/api1/collections/{ALL_COLLECTION}/objects/", **params)
            assert env.headers["content-type"].startswith("application/taxii+json")
            page = env.json()
            got |= {stix_of[s] for s in _stix_ids(page)}
            if not page["more"]:
                break
            nxt = page["next"]
        assert got == expected
        # CoT
        xml = w.get(user, "/api/v1/export/cot").text
        uids = re.findall(r'uid="corridorguard\.incident\.([0-9]+)"', xml)
        assert sorted(int(u) for u in uids) == sorted(expected)


def _one_world(template: Template, tmp: Path, specs: list[dict[str, Any]]) -> None:
    w = copy_world(template, tmp)
    try:
        known = dict(_create(w, spec) for spec in specs)
        check_world(w, known, missing=10_000_000)
    finally:
        w.client.close()
        w.store.close()


_SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


@settings(max_examples=6, **_SETTINGS)  # type: ignore[arg-type]
@given(specs=st.lists(marked, min_size=1, max_size=8))
def test_every_read_path_returns_exactly_the_visible_ids(
    template: Template, tmp_path_factory: pytest.TempPathFactory, specs: list[dict]
) -> None:
    _one_world(template, tmp_path_factory.mktemp("world"), specs)


@pytest.mark.slow
@settings(max_examples=100, **_SETTINGS)  # type: ignore[arg-type]
@given(specs=st.lists(marked, min_size=1, max_size=12))
def test_every_read_path_returns_exactly_the_visible_ids_slow(
    template: Template, tmp_path_factory: pytest.TempPathFactory, specs: list[dict]
) -> None:
    _one_world(template, tmp_path_factory.mktemp("world"), specs)


FIXED = [
    {"creator": c, "tlp": t, "rel_to": r, "red": red, "type": "raid"}
    for c, t, r, red in [
        ("reporter-org-a", "CLEAR", [], []),
        ("analyst-org-b", "GREEN", [], []),
        ("planner-org-a", "AMBER", ["ORG-B"], []),
        ("reporter-org-c", "AMBER+STRICT", ["ORG-A"], []),
        ("analyst-org-a", "AMBER", [], []),
        ("reporter-org-b", "RED", [], ["commander-org-c"]),
        ("planner-org-c", "RED", [], []),
    ]
]


@pytest.mark.postgres
@pytest.mark.skipif(
    not PG_URL and os.environ.get("CORRIDORGUARD_REQUIRE_PG") != "1",
    reason="needs CORRIDORGUARD_TEST_PG_URL (set by .ci/run, which also sets REQUIRE_PG=1)",
)
def test_every_read_path_on_postgresql(tmp_path: Path) -> None:
    with pg_schema() as url:
        t = make_template(tmp_path, url)
        w = open_world(t, url)
        try:
            known = dict(_create(w, spec) for spec in FIXED)
            check_world(w, known, missing=10_000_000)
        finally:
            w.client.close()
            w.store.close()
