"""Incidents over the API: roles, provenance, idempotency, the error shape, audit entries."""

from __future__ import annotations

import json

from api_world import World, incident
from sqlalchemy import func, select, text

from corridorguard.store.audit_sql import SqlLogStore
from corridorguard.store.models import IncidentRow

URL = "/api/v1/incidents"


def entries(w: World) -> list[dict]:
    sql = SqlLogStore(w.store.engine)
    return [r.entry() for r in sql.read(0, sql.size())]


def test_create_sets_provenance_from_the_caller(world: World) -> None:
    r = world.post("reporter-org-a", URL, incident("AMBER", rel_to=["ORG-B"]))
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["originator"], body["created_by"], body["source"]) == (
        "ORG-A",
        "reporter-org-a",
        "api",
    )
    assert body["rel_to"] == ["ORG-B"]
    got = world.get("analyst-org-b", f"{URL}/{body['id']}")
    assert got.status_code == 200 and got.json() == body


def test_provenance_cannot_be_spoofed(world: World) -> None:
    for field, value in [
        ("originator", "ORG-B"),
        ("created_by", "admin-org-b"),
        ("created_at", "2020-01-01T00:00:00Z"),
        ("source", "ucdp"),
        ("id", 7),
    ]:
        r = world.post("analyst-org-a", URL, incident(**{field: value}))
        assert r.status_code == 422, field
        assert r.json()["field"] == field and r.json()["error"] == "invalid"
    with world.store.read() as conn:
        assert conn.execute(select(func.count()).select_from(IncidentRow)).scalar_one() == 0


def test_roles_that_may_report(world: World) -> None:
    for role, status in [
        ("reporter", 201),
        ("analyst", 201),
        ("planner", 201),
        ("commander", 403),
        ("admin", 403),
    ]:
        r = world.post(f"{role}-org-a", URL, incident())
        assert r.status_code == status, role
    r = world.post("oversight-board", URL, incident())
    assert r.status_code == 403 and r.json()["error"] == "forbidden"


def test_oversight_sees_aggregates_not_contents(world: World) -> None:
    world.post("reporter-org-a", URL, incident("RED"))
    world.post("reporter-org-b", URL, incident("GREEN"))
    assert world.get("oversight-board", URL).status_code == 403
    assert world.get("oversight-board", f"{URL}/1").status_code == 403
    assert world.get("oversight-board", "/api/v1/export/stix").status_code == 403
    stats = world.get("oversight-board", "/api/v1/stats").json()
    assert stats["incidents"]["total"] == 2 and stats["incidents"]["by_tlp"] == {
        "GREEN": 1,
        "RED": 1,
    }
    # an agency's figures cover only what it may see
    assert world.get("analyst-org-c", "/api/v1/stats").json()["incidents"]["total"] == 1


def test_anonymous_and_bad_tokens_get_401_in_the_error_shape(world: World) -> None:
    for headers in ({}, {"Authorization": "Bearer cg_nope"}, {"Authorization": "Basic eDp5"}):
        r = world.client.get(URL, headers=headers)
        assert r.status_code == 401
        assert r.json() == {
            "ok": False,
            "status": 401,
            "error": "unauthorized",
            "message": "a valid bearer token is required",
            "file": None,
            "line": None,
            "field": None,
        }
    denied = [e for e in entries(world) if e["action"] == "auth.token"]
    assert len(denied) == 3 and all(e["outcome"] == "denied" for e in denied)


def test_idempotency_key_replays_the_first_answer(world: World) -> None:
    key = {"Idempotency-Key": "retry-1"}
    first = world.post("reporter-org-a", URL, incident(), **key)
    again = world.post("reporter-org-a", URL, incident(), **key)
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert again.headers["Idempotency-Replayed"] == "true"
    with world.store.read() as conn:
        assert conn.execute(select(func.count()).select_from(IncidentRow)).scalar_one() == 1
    other = world.post("reporter-org-a", URL, incident(type="other"), **key)
    assert other.status_code == 409 and other.json()["field"] == "Idempotency-Key"
    # keys are per user: another user's same key is a new request
    assert world.post("analyst-org-a", URL, incident(), **key).json()["id"] != first.json()["id"]


def test_writes_and_denials_are_audited(world: World) -> None:
    created = world.post("reporter-org-a", URL, incident("AMBER")).json()
    world.get("analyst-org-b", f"{URL}/{created['id']}")  # not visible: denied
    world.get("analyst-org-b", f"{URL}/99999")  # missing: denied the same way
    world.post("commander-org-a", URL, incident())  # role may not report
    log = entries(world)
    actions = [(e["action"], e["actor"], e["outcome"], e["target"]) for e in log]
    assert ("incident.create", "reporter-org-a", "ok", f"incident/{created['id']}") in actions
    assert ("incident.read", "analyst-org-b", "denied", f"incident/{created['id']}") in actions
    assert ("incident.read", "analyst-org-b", "denied", "incident/99999") in actions
    assert any(a[0] == "request.denied" and a[1] == "commander-org-a" for a in actions)
    assert [e["seq"] for e in log] == list(range(len(log)))
    assert "notional test report" not in json.dumps(log)  # no record contents in the log


def test_visible_is_not_editable(world: World) -> None:
    inc = world.post("reporter-org-a", URL, incident("AMBER", rel_to=["ORG-B"])).json()
    path = f"{URL}/{inc['id']}"
    r = world.client.patch(path, json={"description": "x"}, headers=world.h("analyst-org-b"))
    assert r.status_code == 403
    r = world.client.patch(path, json={"description": "x"}, headers=world.h("analyst-org-c"))
    assert r.status_code == 404
    r = world.client.patch(path, json={"description": "x"}, headers=world.h("reporter-org-a"))
    assert r.status_code == 200 and r.json()["description"] == "x"
    other = world.client.patch(path, json={"fatalities": 2}, headers=world.h("reporter-org-a"))
    assert other.json()["fatalities"] == 2
    r = world.client.patch(path, json={"originator": "ORG-C"}, headers=world.h("analyst-org-a"))
    assert r.status_code == 422


def test_rel_to_names_must_exist_and_red_recipients_need_red(world: World) -> None:
    r = world.post("reporter-org-a", URL, incident("AMBER", rel_to=["NOPE"]))
    assert r.status_code == 422 and r.json()["field"] == "rel_to"
    r = world.post("reporter-org-a", URL, incident("AMBER", red_recipients=["analyst-org-b"]))
    assert r.status_code == 422 and r.json()["field"] == "red_recipients"
    r = world.post("reporter-org-a", URL, incident("RED", red_recipients=["analyst-org-b"]))
    assert r.status_code == 201
    assert world.get("analyst-org-b", f"{URL}/{r.json()['id']}").status_code == 200
    assert world.get("admin-org-a", f"{URL}/{r.json()['id']}").status_code == 404


def test_search_filters_and_pagination(world: World) -> None:
    for i in range(5):
        world.post(
            "reporter-org-a",
            URL,
            incident(time=f"2024-01-0{i + 1}T00:00:00Z", type="ied" if i % 2 else "raid"),
        )
    page = world.get("analyst-org-b", URL, limit=2, offset=1).json()
    assert page["total"] == 5 and len(page["items"]) == 2
    assert world.get("analyst-org-b", URL, type="ied").json()["total"] == 2
    got = world.get("analyst-org-b", URL, since="2024-01-03T00:00:00Z", q="RAI").json()
    assert got["total"] == 2
    assert world.get("analyst-org-b", URL, bbox="0,0,1,1").json()["total"] == 0
    assert world.get("analyst-org-b", URL, bbox="nope").status_code == 422


def test_unknown_routes_and_methods_use_the_error_shape(world: World) -> None:
    r = world.get("analyst-org-a", "/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = world.client.delete(URL, headers=world.h("analyst-org-a"))
    assert r.status_code == 405 and r.json()["ok"] is False


def test_incident_rel_to_follows_the_store_column(world: World) -> None:
    """Records imported by the store's own path (CLI) get their REL-TO rows from the trigger."""
    from corridorguard.incidents import builtin_incidents

    recs = [
        r._replace(tlp="AMBER", originator="ORG-C", rel_to=("ORG-B",))
        for r in builtin_incidents("cpec")
    ]
    world.store.incidents.add_many(recs)
    n = len(recs)
    assert world.get("analyst-org-b", URL).json()["total"] == n
    assert world.get("analyst-org-a", URL).json()["total"] == 0
    with world.store.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM incident_rel_to")).scalar_one() == n
