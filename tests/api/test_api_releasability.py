"""The releasability oracle over the API.

Hypothesis builds random worlds of marked incidents (three agencies, every TLP marking, REL-TO
lists, RED recipients, different creators) through ``POST /incidents``; then, for every actor
and every read path (get, list, search, STIX export, TAXII objects, CoT export), the returned
ids must equal what the pure reference :func:`visible_to` allows. A record the caller may not
see must answer byte for byte like one that does not exist.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from api_world import (
    AGENCIES,
    NEEDS_PG,
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
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

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
@NEEDS_PG
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


# ------------------------------------------------------------------ the other marked resources
# Sites, forecasts, movements, sensors and plans: for every reader and every read path (get,
# list, STIX export, CoT export (sites, routes, sensors), TAK push) the ids equal the pure
# reference; invisible = missing.

RESOURCE_CREATORS = {
    "sites": ("analyst", "planner"),
    "forecasts": ("analyst", "planner"),
    "movements": ("planner", "commander"),
    "sensors": ("planner", "commander"),
    "plans": ("planner", "commander"),
}
_T0, _T1 = "2025-01-01T06:00:00Z", "2025-01-01T09:00:00Z"
_BODIES: dict[str, dict[str, Any]] = {
    "sites": {"name": "site", "type": "port", "lon": 62.3, "lat": 25.1, "criticality": 3},
    "forecasts": {
        "name": "f", "model": "kde", "valid_from": _T0, "valid_to": _T1,
        "values": [{"kind": "segment", "key": "s1", "value": 1.0}],
    },
    "movements": {
        "name": "m", "origin": "a", "destination": "b", "window_start": _T0, "window_end": _T1,
        "people": 12,
    },
    "sensors": {"name": "s", "kind": "drone", "lon": 62.3, "lat": 25.1},
    "plans": {
        "title": "p",
        "content": {"routes": [{"name": "r", "points": [[62.3, 25.1], [62.4, 25.2]]}]},
    },
}  # fmt: skip
TAK_AUDIENCE = "ORG-C"
TAK_USERS = {user_name(o, r) for o in AGENCIES for r in ("analyst", "commander")}

resource_spec = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(sorted(RESOURCE_CREATORS)),
        "org": st.sampled_from(AGENCIES),
        "role_pick": st.integers(0, 1),
        "tlp": st.sampled_from(TLPS),
        "rel_to": st.lists(st.sampled_from(AGENCIES), max_size=3, unique=True),
        "red": st.lists(st.sampled_from(ALL_USERS), max_size=3, unique=True),
    }
)


def _create_resource(w: World, spec: dict[str, Any]) -> tuple[str, int, Marking]:
    kind = spec["kind"]
    creator = user_name(spec["org"], RESOURCE_CREATORS[kind][spec["role_pick"]])
    red = spec["red"] if spec["tlp"] == "RED" else []
    body = {**_BODIES[kind], "tlp": spec["tlp"], "rel_to": spec["rel_to"], "red_recipients": red}
    if kind == "plans":
        body["forces"] = [spec["org"]]
    r = w.post(creator, f"/api/v1/{kind}", body)
    assert r.status_code == 201, r.text
    m = Marking(
        originator=spec["org"],
        tlp=spec["tlp"],
        rel_to=frozenset(spec["rel_to"]),
        red_recipients=frozenset(red),
        created_by=creator,
    )
    return kind, r.json()["id"], m


def _ids_of(world: dict[tuple[str, int], Marking], kind: str) -> dict[int, Marking]:
    return {i: m for (k, i), m in world.items() if k == kind}


def _check_gets(w: World, user: str, kind: str, recs: dict[int, Marking], seen: set[int]) -> None:
    for i in recs:
        r = w.get(user, f"/api/v1/{kind}/{i}")
        if i in seen:
            assert r.status_code == 200 and r.json()["id"] == i
            continue
        ghost = w.get(user, f"/api/v1/{kind}/10000000")
        assert r.status_code == ghost.status_code == 404
        assert r.content == ghost.content.replace(b"10000000", str(i).encode())
        assert r.headers["content-length"] == str(len(r.content))


def check_resources(w: World, world: dict[tuple[str, int], Marking]) -> None:
    from tak_listener import tak_listener

    from corridorguard.sharing.policy import may_pass_on
    from corridorguard.sharing.tak import TakSettings

    stix_of = {
        _sid(t, m.originator, str(i)): (k, i)
        for (k, i), m in world.items()
        for t in {"sites": "infrastructure", "plans": "course-of-action"}.get(k, "").split()
    }
    with tak_listener() as (url, got):
        w.client.app.state.tak = TakSettings(url=url, audience=TAK_AUDIENCE)
        for user in READERS:
            actor = w.actors[user]
            seen = {key for key, m in world.items() if visible_to(actor, m)}
            for kind in RESOURCE_CREATORS:
                recs = _ids_of(world, kind)
                expected = {i for i in recs if (kind, i) in seen}
                listed = w.get(user, f"/api/v1/{kind}", limit=500).json()
                assert {it["id"] for it in listed["items"]} == expected, (user, kind)
                assert listed["total"] == len(expected)
                # search: a filter on top of the policy (plans filter by status: all drafts)
                some = ["GREEN", "AMBER", "RED"]
                query: dict[str, Any] = {"status": "draft"} if kind == "plans" else {"tlp": some}
                found = w.get(user, f"/api/v1/{kind}", limit=500, **query).json()["items"]
                want = {i for i in expected if kind == "plans" or recs[i].tlp.value in some}
                assert {it["id"] for it in found} == want, (user, kind)
                _check_gets(w, user, kind, recs, expected)
            # STIX (sites, plans' public parts)
            bundle = json.loads(
                w.get(user, "/api/v1/stix/export", include=["sites", "plans"]).content
            )
            got_stix = {stix_of[o["id"]] for o in bundle.get("objects", []) if o["id"] in stix_of}
            assert got_stix == {key for key in seen if key[0] in ("sites", "plans")}, user
            # CoT (sites, planned routes of plans in every status)
            statuses = ["draft", "proposed", "approved", "rejected"]
            cot_kinds = ["sites", "routes", "sensors"]
            xml = w.get(user, "/api/v1/cot/export", include=cot_kinds, plan_status=statuses).text
            for kind, pattern in (
                ("sites", r'uid="corridorguard\.site\.([0-9]+)"'),
                ("plans", r'uid="corridorguard\.route\.([0-9]+)\.0"'),
                ("sensors", r'uid="corridorguard\.sensor\.([0-9]+)"'),
            ):
                got_ids = {int(u) for u in re.findall(pattern, xml)}
                assert got_ids == {i for k, i in seen if k == kind}, (user, kind)
            # TAK push: only what may pass on to the server's audience
            if user not in TAK_USERS:
                continue
            before = len(got.events())
            body = {"include": cot_kinds, "plan_status": statuses}
            sent = w.post(user, "/api/v1/tak/push", body)
            assert sent.status_code == 200, sent.text
            passable = {
                key
                for key, m in world.items()
                if key[0] in ("sites", "plans", "sensors") and may_pass_on(actor, m, TAK_AUDIENCE)
            }
            assert sent.json()["events"] == len(passable)
            got.wait_for(before + len(passable))
            uids = got.uids()[before:]
            pushed = {("sites", int(u.split(".")[2])) for u in uids if ".site." in u}
            pushed |= {("plans", int(u.split(".")[2])) for u in uids if ".route." in u}
            pushed |= {("sensors", int(u.split(".")[2])) for u in uids if ".sensor." in u}
            assert pushed == passable and pushed <= seen, user


def _resource_world(template: Template, tmp: Path, specs: list[dict[str, Any]]) -> None:
    w = copy_world(template, tmp)
    try:
        made = [_create_resource(w, spec) for spec in specs]
        check_resources(w, {(k, i): m for k, i, m in made})
    finally:
        w.client.close()
        w.store.close()


@settings(max_examples=5, **_SETTINGS)  # type: ignore[arg-type]
@given(specs=st.lists(resource_spec, min_size=1, max_size=8))
def test_every_resource_read_path_returns_exactly_the_visible_ids(
    template: Template, tmp_path_factory: pytest.TempPathFactory, specs: list[dict]
) -> None:
    _resource_world(template, tmp_path_factory.mktemp("world"), specs)


@pytest.mark.slow
@settings(max_examples=100, **_SETTINGS)  # type: ignore[arg-type]
@given(specs=st.lists(resource_spec, min_size=1, max_size=14))
def test_every_resource_read_path_returns_exactly_the_visible_ids_slow(
    template: Template, tmp_path_factory: pytest.TempPathFactory, specs: list[dict]
) -> None:
    _resource_world(template, tmp_path_factory.mktemp("world"), specs)


FIXED_RESOURCES = [
    {"kind": k, "org": o, "role_pick": 0, "tlp": t, "rel_to": r, "red": red}
    for k, o, t, r, red in [
        ("sites", "ORG-A", "AMBER+STRICT", ["ORG-B"], []),
        ("forecasts", "ORG-B", "RED", [], ["analyst-org-c"]),
        ("movements", "ORG-C", "AMBER", ["ORG-A"], []),
        ("sensors", "ORG-A", "GREEN", [], []),
        ("plans", "ORG-B", "AMBER", ["ORG-C"], []),
        ("plans", "ORG-A", "CLEAR", [], []),
        ("sites", "ORG-C", "RED", [], []),
    ]
]


def test_a_fixed_world_covers_every_marking_and_kind(template: Template, tmp_path: Path) -> None:
    kinds = {s["kind"] for s in FIXED_RESOURCES}
    assert kinds == set(RESOURCE_CREATORS) and {s["tlp"] for s in FIXED_RESOURCES} == set(TLPS)
    _resource_world(template, tmp_path, FIXED_RESOURCES)


@pytest.mark.postgres
@NEEDS_PG
def test_every_resource_read_path_on_postgresql(tmp_path: Path) -> None:
    with pg_schema() as url:
        t = make_template(tmp_path, url)
        w = open_world(t, url)
        try:
            made = [_create_resource(w, spec) for spec in FIXED_RESOURCES]
            check_resources(w, {(k, i): m for k, i, m in made})
            for sql in ("UPDATE forecast_values SET value = 0", "DELETE FROM forecast_values"):
                with pytest.raises(DBAPIError, match="immutable"), w.store.write() as conn:
                    conn.execute(text(sql))
        finally:
            w.client.close()
            w.store.close()
