"""Corrections of our own sites as STIX versions: each ``PATCH`` keeps the version it replaces
and the new one in ``stix_versions``, so TAXII ``/versions/`` and ``match[version]`` serve
earlier contents of our sites as they do of incidents (and a partner polling with
``added_after`` gets the correction)."""

from __future__ import annotations

from typing import Any

from api_world import World
from test_api_resources import site

from corridorguard.api.routes.taxii import ALL_COLLECTION

ALL = f"/taxii2/api1/collections/{ALL_COLLECTION}"


def _sites(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objs if o["type"] == "infrastructure"]


def _patch(w: World, sid: int, **body: Any) -> None:
    r = w.client.patch(f"/api/v1/sites/{sid}", json=body, headers=w.h("planner-org-a"))
    assert r.status_code == 200, r.text


def test_site_corrections_are_versions_with_their_contents(world: World) -> None:
    w = world
    sid = w.post("planner-org-a", "/api/v1/sites", site("GREEN", name="Dam")).json()["id"]
    first = _sites(w.get("analyst-org-b", f"{ALL}/objects/").json()["objects"])
    assert [o["name"] for o in first] == ["Dam"]
    stix_id, mark = first[0]["id"], first[0]["modified"]
    _patch(w, sid, name="Dam (spillway)")
    _patch(w, sid, name="Dam (spillway and camp)")

    listed = w.get("analyst-org-b", f"{ALL}/objects/{stix_id}/versions/").json()["versions"]
    assert len(listed) == 3 and listed == sorted(listed) and listed[0] == mark
    every = w.get("analyst-org-b", f"{ALL}/objects/", **{"match[version]": "all"}).json()
    got = [(o["modified"], o["name"]) for o in _sites(every["objects"])]
    assert got == list(
        zip(listed, ["Dam", "Dam (spillway)", "Dam (spillway and camp)"], strict=True)
    )
    firsts = w.get("analyst-org-b", f"{ALL}/objects/", **{"match[version]": "first"}).json()
    assert [o["name"] for o in _sites(firsts["objects"])] == ["Dam"]
    # the newest version is the record as it is now, and the only one without match[version]
    now = _sites(w.get("analyst-org-b", f"{ALL}/objects/").json()["objects"])
    assert [(o["name"], o["modified"]) for o in now] == [("Dam (spillway and camp)", listed[2])]
    # a partner that polled before the corrections gets the site again, once, as its newest
    later = w.get("analyst-org-b", f"{ALL}/objects/", added_after=mark).json()
    assert [o["name"] for o in _sites(later["objects"])] == ["Dam (spillway and camp)"]


def test_a_site_nobody_else_may_see_has_no_versions_for_them(world: World) -> None:
    w = world
    body = site("AMBER", name="Camp", rel_to=["ORG-B"])
    sid = w.post("planner-org-a", "/api/v1/sites", body).json()["id"]
    _patch(w, sid, name="Camp (moved)")
    seen = _sites(w.get("analyst-org-b", f"{ALL}/objects/").json()["objects"])
    assert [o["name"] for o in seen] == ["Camp (moved)"]
    stix_id = seen[0]["id"]
    assert len(w.get("analyst-org-b", f"{ALL}/objects/{stix_id}/versions/").json()["versions"]) == 2
    # ORG-C is not in REL-TO: no version of it exists for them (same answer as a missing id)
    hidden = w.get("analyst-org-c", f"{ALL}/objects/{stix_id}/versions/")
    missing = w.get("analyst-org-c", f"{ALL}/objects/{stix_id[:-4]}ffff/versions/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content.replace(b"ffff", stix_id[-4:].encode())
    every = w.get("analyst-org-c", f"{ALL}/objects/", **{"match[version]": "all"}).json()
    assert _sites(every.get("objects", [])) == []
