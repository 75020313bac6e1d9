"""Plans: draft -> proposed -> approved/rejected by the forces' commanders; immutability."""

from __future__ import annotations

from typing import Any

import pytest
from api_world import World
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

P = "/api/v1/plans"


def plan(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Night patrols, N-10 coastal road",
        "forces": ["ORG-A"],
        "content": {"patrols": [{"route": ["n1", "n2"], "start": "22:00"}]},
        "tlp": "AMBER",
    }
    body.update(extra)
    return body


def decide(w: World, user: str, pid: int, how: str = "approve") -> Any:
    return w.post(user, f"{P}/{pid}/{how}", {"comment": "ok"})


def test_single_force_approval_and_immutability(world: World) -> None:
    created = world.post("planner-org-a", P, plan())
    assert created.status_code == 201, created.text
    p = created.json()
    assert (p["status"], p["version"], p["originator"], p["created_by"]) == (
        "draft",
        1,
        "ORG-A",
        "planner-org-a",
    )
    pid = p["id"]
    assert decide(world, "commander-org-a", pid).status_code == 409  # not proposed yet
    edited = world.client.patch(
        f"{P}/{pid}", json={"title": "v1b"}, headers=world.h("planner-org-a")
    )
    assert edited.status_code == 200 and edited.json()["title"] == "v1b"
    assert world.post("planner-org-a", f"{P}/{pid}/propose", {}).json()["status"] == "proposed"
    assert decide(world, "planner-org-a", pid).status_code == 403  # not a commander
    assert decide(world, "commander-org-b", pid).status_code == 404  # cannot even see it
    ok = decide(world, "commander-org-a", pid)
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    assert ok.json()["approvals"][0]["username"] == "commander-org-a"
    # approved is immutable: by the API ...
    again = world.client.patch(f"{P}/{pid}", json={"title": "x"}, headers=world.h("planner-org-a"))
    assert again.status_code == 409
    # ... and by the database
    with pytest.raises(DBAPIError), world.store.write() as conn:
        conn.execute(text("UPDATE plans SET title = 'x' WHERE id = :i"), {"i": pid})
    # a change is a new version of the same lineage
    v2 = world.post("planner-org-a", f"{P}/{pid}/versions", {"title": "v2"})
    assert v2.status_code == 201
    assert (v2.json()["lineage"], v2.json()["version"], v2.json()["status"]) == (
        p["lineage"],
        2,
        "draft",
    )
    assert world.get("planner-org-a", f"{P}/{pid}").json()["title"] == "v1b"


def test_joint_plan_needs_both_commanders(world: World) -> None:
    p = world.post("planner-org-a", P, plan(forces=["ORG-A", "ORG-B"])).json()
    assert p["rel_to"] == ["ORG-B"]  # released to the other force so it can decide
    pid = p["id"]
    world.post("planner-org-a", f"{P}/{pid}/propose", {})
    first = decide(world, "commander-org-a", pid)
    assert first.json()["status"] == "proposed"
    assert decide(world, "commander-org-a", pid).status_code == 409  # a force decides once
    assert decide(world, "commander-org-c", pid).status_code == 404
    both = decide(world, "commander-org-b", pid)
    assert both.json()["status"] == "approved"
    assert {a["org"] for a in both.json()["approvals"]} == {"ORG-A", "ORG-B"}


def test_one_rejection_rejects(world: World) -> None:
    p = world.post("planner-org-a", P, plan(forces=["ORG-A", "ORG-B"])).json()
    world.post("planner-org-a", f"{P}/{p['id']}/propose", {})
    r = decide(world, "commander-org-b", p["id"], "reject")
    assert r.json()["status"] == "rejected"
    assert decide(world, "commander-org-a", p["id"]).status_code == 409


def test_plan_rules(world: World) -> None:
    assert world.post("analyst-org-a", P, plan()).status_code == 403
    assert world.post("planner-org-a", P, plan(forces=["ORG-B"])).status_code == 422
    assert world.post("planner-org-a", P, plan(forces=["ORG-A", "BOARD"])).status_code == 422
    red = plan(forces=["ORG-A", "ORG-B"], tlp="RED")
    assert world.post("planner-org-a", P, red).status_code == 422
    assert world.post("planner-org-a", P, plan(originator="ORG-B")).status_code == 422
    p = world.post("planner-org-a", P, plan(tlp="AMBER", rel_to=["ORG-C"])).json()
    # ORG-C can read it but not change it
    assert world.get("analyst-org-c", f"{P}/{p['id']}").status_code == 200
    r = world.client.patch(f"{P}/{p['id']}", json={"title": "x"}, headers=world.h("planner-org-c"))
    assert r.status_code == 403
    assert world.get("analyst-org-b", f"{P}/{p['id']}").status_code == 404
    assert world.get("oversight-board", P).status_code == 403
    stats = world.get("oversight-board", "/api/v1/stats").json()
    assert stats["plans"]["by_status"] == {"draft": 1}


def test_plan_decisions_are_idempotent(world: World) -> None:
    p = world.post("planner-org-a", P, plan()).json()
    world.post("planner-org-a", f"{P}/{p['id']}/propose", {})
    key = {"Idempotency-Key": "approve-1"}
    a = world.post("commander-org-a", f"{P}/{p['id']}/approve", {"comment": ""}, **key)
    b = world.post("commander-org-a", f"{P}/{p['id']}/approve", {"comment": ""}, **key)
    assert a.status_code == b.status_code == 200 and a.content == b.content
