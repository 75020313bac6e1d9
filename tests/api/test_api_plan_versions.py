"""A plan version's public part over TAXII: every change (edit, proposal, each decision) is a
new STIX version with a later ``modified`` and date added, so a partner polling with
``added_after`` sees a draft become proposed and a joint plan's first approval; the earlier
versions' contents stay available to ``match[version]`` and ``/versions/``. A denied change
is no version."""

from __future__ import annotations

from typing import Any

from api_world import World
from test_api_plans import decide, plan

from corridorguard.api.routes.taxii import ALL_COLLECTION

ALL = f"/taxii2/api1/collections/{ALL_COLLECTION}"
P = "/api/v1/plans"


def _coas(w: World, user: str, **params: Any) -> list[dict[str, Any]]:
    objs = w.get(user, f"{ALL}/objects/", **params).json().get("objects", [])
    return [o for o in objs if o["type"] == "course-of-action"]


def test_each_change_of_a_joint_plan_reaches_a_partner_as_a_version(world: World) -> None:
    w = world
    pid = w.post("planner-org-a", P, plan(forces=["ORG-A", "ORG-B"])).json()["id"]
    seen: list[tuple[str, str, int]] = []  # (modified, status, approvals) as ORG-B polls

    def poll(after: str | None) -> str:
        got = _coas(w, "analyst-org-b", **({"added_after": after} if after else {}))
        assert len(got) == 1, got  # the newest version, once
        o = got[0]
        seen.append(
            (
                o["modified"],
                o["x_corridorguard_status"],
                len(o.get("x_corridorguard_approvals", [])),
            )
        )
        return w.get("analyst-org-b", f"{ALL}/objects/").headers["X-TAXII-Date-Added-Last"]

    mark = poll(None)
    w.client.patch(f"{P}/{pid}", json={"title": "v1b"}, headers=w.h("planner-org-a"))
    mark = poll(mark)
    w.post("planner-org-a", f"{P}/{pid}/propose", {})
    mark = poll(mark)
    assert decide(w, "commander-org-a", pid).json()["status"] == "proposed"
    mark = poll(mark)
    # a denied change is not a version: nothing new after ``mark``
    assert decide(w, "commander-org-a", pid).status_code == 409
    assert _coas(w, "analyst-org-b", added_after=mark) == []
    assert decide(w, "commander-org-b", pid).json()["status"] == "approved"
    poll(mark)

    stamps = [s[0] for s in seen]
    assert stamps == sorted(stamps) and len(set(stamps)) == 5
    assert [s[1:] for s in seen] == [
        ("draft", 0),
        ("draft", 0),
        ("proposed", 0),
        ("proposed", 1),
        ("approved", 2),
    ]
    coa_id = _coas(w, "analyst-org-b")[0]["id"]
    listed = w.get("analyst-org-b", f"{ALL}/objects/{coa_id}/versions/").json()["versions"]
    assert listed == stamps
    every = _coas(w, "analyst-org-b", **{"match[version]": "all"})
    assert [(o["modified"], o["name"]) for o in every] == list(
        zip(stamps, ["Night patrols, N-10 coastal road"] + ["v1b"] * 4, strict=True)
    )


def test_a_new_plan_version_is_another_object(world: World) -> None:
    w = world
    pid = w.post("planner-org-a", P, plan(tlp="GREEN")).json()["id"]
    w.post("planner-org-a", f"{P}/{pid}/propose", {})
    decide(w, "commander-org-a", pid)
    w.post("planner-org-a", f"{P}/{pid}/versions", {"title": "v2"})
    got = sorted((o["x_corridorguard_version"], o["name"]) for o in _coas(w, "analyst-org-c"))
    assert got == [(1, "Night patrols, N-10 coastal road"), (2, "v2")]
    # the approved version 1 keeps its three versions (draft, proposed, approved)
    v1 = next(o for o in _coas(w, "analyst-org-c") if o["x_corridorguard_version"] == 1)
    listed = w.get("analyst-org-c", f"{ALL}/objects/{v1['id']}/versions/").json()["versions"]
    assert len(listed) == 3 and listed[-1] == v1["modified"]
