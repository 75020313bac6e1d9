"""STIX export of sites and plans' public parts, STIX upload, CoT of sites and planned routes,
and the TAK push: every path through the one policy, markings kept, provenance the caller's."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from api_world import Template, World, copy_world, incident
from tak_listener import tak_listener
from test_api_resources import sensor, site

from corridorguard.sharing.tak import TakSettings

ROUTE = {
    "name": "north loop", "unit": "QRF-1", "callsign": "ALPHA", "start": "2025-01-01T06:00:00Z",
    "points": [[62.30, 25.10], [62.40, 25.20], [62.50, 25.15]],
}  # fmt: skip
KEY = {"Idempotency-Key": "push-1"}
CONTENT = {"routes": [ROUTE], "checkpoints": [{"lon": 62.2, "lat": 25.0}], "sensors": []}


def plan(
    w: World, tlp: str, *, approve: bool = True, user: str = "planner-org-a", **extra: Any
) -> int:
    body = {"title": f"plan {tlp}", "forces": [w.actors[user].org], "tlp": tlp, "content": CONTENT}
    r = w.post(user, "/api/v1/plans", {**body, **extra})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    if approve:
        org = w.actors[user].org.lower()
        assert w.post(user, f"/api/v1/plans/{pid}/propose", {}).status_code == 200
        assert w.post(f"commander-{org}", f"/api/v1/plans/{pid}/approve", {}).status_code == 200
    return int(pid)


def _objects(r: Any, kind: str) -> list[dict[str, Any]]:
    return [o for o in json.loads(r.content).get("objects", []) if o["type"] == kind]


def test_stix_export_of_sites_and_plans_public_parts(world: World) -> None:
    w = world
    w.post("analyst-org-a", "/api/v1/sites", site("AMBER+STRICT", rel_to=["ORG-B"]))
    w.post("analyst-org-a", "/api/v1/sites", site("GREEN", name="Dam"))
    plan(w, "AMBER", rel_to=["ORG-B"])
    plan(w, "RED", approve=False)
    r = w.get("analyst-org-b", "/api/v1/stix/export")
    assert r.headers["content-type"].startswith("application/stix+json")
    sites = _objects(r, "infrastructure")
    plans = _objects(r, "course-of-action")
    assert sorted(s["name"] for s in sites) == ["Dam", "Port"]
    assert len(plans) == 1  # the RED draft is invisible to ORG-B
    p = plans[0]
    assert p["x_corridorguard_status"] == "approved"
    assert p["x_corridorguard_approvals"][0]["org"] == "ORG-A"
    assert p["x_corridorguard_summary"] == {
        "patrols": 1, "checkpoints": 1, "sensors": 0, "bbox": [62.2, 25.0, 62.5, 25.2],
    }  # fmt: skip
    assert p["object_marking_refs"] == ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]
    text = r.text
    assert "ALPHA" not in text and "QRF-1" not in text and "62.4" not in text  # no schedules
    marks = {o["id"] for o in _objects(r, "marking-definition")}
    assert {m for o in sites + plans for m in o["object_marking_refs"]} <= marks
    # AMBER+STRICT is not passed on by a REL-TO partner to a third organisation
    to_c = w.get("analyst-org-b", "/api/v1/stix/export", to_org="ORG-C")
    assert [s["name"] for s in _objects(to_c, "infrastructure")] == ["Dam"]
    assert len(_objects(to_c, "course-of-action")) == 1  # AMBER may be passed on
    assert (
        w.get("reporter-org-c", "/api/v1/stix/export", include="plans").json().get("objects")
        is None
    )
    import stix2validator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stix2validator.validate_string(
            r.text, stix2validator.ValidationOptions(version="2.1")
        )
    assert result.is_valid, [str(e) for e in result.errors]


def test_stix_upload_keeps_markings_and_sets_provenance_atomically(
    world: World, template: Template, tmp_path: Path
) -> None:
    w = world
    origin = copy_world(template, tmp_path / "origin")  # ORG-B's records come from elsewhere
    try:
        origin.post("analyst-org-b", "/api/v1/sites", site("AMBER", rel_to=["ORG-A"]))
        origin.post("analyst-org-b", "/api/v1/incidents", incident("GREEN"))
        bundle = json.loads(origin.get("analyst-org-b", "/api/v1/stix/export").content)
        # where they were made, ORG-B's own ids are not another organisation's to upload
        here = origin.post("analyst-org-c", "/api/v1/stix/bundles", bundle)
        assert here.status_code == 422 and "already held from ORG-B" in here.text
    finally:
        origin.client.close()
        origin.store.close()
    # a reporter may import incidents but not sites
    assert w.post("reporter-org-c", "/api/v1/stix/bundles", bundle).status_code == 403
    r = w.post("analyst-org-c", "/api/v1/stix/bundles", bundle)
    assert r.status_code == 200, r.text
    created = r.json()["created"]
    assert len(created["incidents"]) == 1 and len(created["sites"]) == 1
    s = w.get("analyst-org-c", f"/api/v1/sites/{created['sites'][0]}").json()
    assert (s["originator"], s["created_by"], s["tlp"], s["rel_to"]) == (
        "ORG-C", "analyst-org-c", "AMBER", ["ORG-A"],
    )  # fmt: skip
    inc = w.get("analyst-org-c", f"/api/v1/incidents/{created['incidents'][0]}").json()
    assert inc["originator"] == "ORG-C" and inc["source"] == "stix"
    # idempotent by STIX id; a re-export keeps the uploaded STIX ids
    again = w.post("analyst-org-c", "/api/v1/stix/bundles", bundle).json()
    assert again["unchanged"] == created
    assert again["created"] == again["updated"] == {"incidents": [], "sites": [], "plans": []}
    mine = json.loads(w.get("analyst-org-c", "/api/v1/stix/export", originator="x").content)
    ids = {o["id"] for o in mine["objects"]}
    assert {
        o["id"] for o in bundle["objects"] if o["type"] in ("incident", "infrastructure")
    } <= ids
    # atomic: one bad object rejects the bundle, naming object and field; nothing is written
    before = w.get("analyst-org-a", "/api/v1/sites").json()["total"]
    bad = json.loads(json.dumps(bundle))
    k = next(i for i, o in enumerate(bad["objects"]) if o["type"] == "incident")
    bad["objects"][k]["x_corridorguard_rel_to"] = ["NO-SUCH-ORG"]
    rej = w.post("analyst-org-c", "/api/v1/stix/bundles", bad)
    assert rej.status_code == 422 and rej.json()["error"] == "import_rejected"
    assert rej.json()["rows"] == [
        {"line": k, "field": "x_corridorguard_rel_to",
         "reason": f"{bad['objects'][k]['id']}: unknown organisation(s) NO-SUCH-ORG"},
    ]  # fmt: skip
    assert w.get("analyst-org-a", "/api/v1/sites").json()["total"] == before
    # a STIX id held from another organisation is refused (ids belong to one originator)
    other = w.post("analyst-org-a", "/api/v1/stix/bundles", bundle)
    assert other.status_code == 422
    assert {(r["field"], r["reason"].split(": ")[1]) for r in other.json()["rows"]} == {
        ("created_by_ref", "already held from ORG-C")
    }
    del bad["objects"][k]["object_marking_refs"]
    rej = w.post("analyst-org-a", "/api/v1/stix/bundles", bad).json()
    assert any(row["field"] == "object_marking_refs" for row in rej["rows"])
    broken = {"type": "bundle", "id": "bundle--1", "objects": [{"type": "incident", "id": "x"}]}
    rej = w.post("analyst-org-a", "/api/v1/stix/bundles", broken).json()
    assert rej["rows"][0]["line"] == 0


def _uids(xml: str) -> list[str]:
    import re

    return re.findall(r'uid="(corridorguard\.[a-z]+\.[^"]+?)"', xml)


def test_cot_export_of_sites_and_planned_routes(world: World) -> None:
    w = world
    sid = w.post("analyst-org-a", "/api/v1/sites", site("GREEN")).json()["id"]
    hidden = w.post("analyst-org-a", "/api/v1/sites", site("AMBER")).json()["id"]
    approved = plan(w, "GREEN")
    draft = plan(w, "GREEN", approve=False)
    secret = plan(w, "AMBER")
    xml = w.get("analyst-org-b", "/api/v1/cot/export", include=["sites", "routes"]).text
    uids = [u for u in _uids(xml) if ".wp" not in u]
    assert uids == [f"corridorguard.site.{sid}", f"corridorguard.route.{approved}.0"]
    assert f"corridorguard.site.{hidden}" not in xml and f"route.{secret}." not in xml
    assert 'type="b-m-r"' in xml and xml.count('type="b-m-p-w"') == 3
    drafts = w.get(
        "analyst-org-a", "/api/v1/cot/export", include="routes", plan_status="draft"
    ).text
    assert [u for u in _uids(drafts) if ".wp" not in u] == [f"corridorguard.route.{draft}.0"]


def test_tak_push_sends_only_what_may_pass_to_the_servers_audience(world: World) -> None:
    w = world
    assert w.post("analyst-org-b", "/api/v1/tak/push", {}).status_code == 409  # not configured
    green = w.post("analyst-org-a", "/api/v1/sites", site("GREEN")).json()["id"]
    strict = w.post(
        "analyst-org-a", "/api/v1/sites", site("AMBER+STRICT", rel_to=["ORG-B"])
    ).json()["id"]
    amber = w.post("analyst-org-a", "/api/v1/sites", site("AMBER", rel_to=["ORG-B"])).json()["id"]
    hidden = w.post("analyst-org-a", "/api/v1/sites", site("AMBER")).json()["id"]
    red = w.post("reporter-org-b", "/api/v1/incidents", incident("RED")).json()["id"]
    routed = plan(w, "GREEN")
    with tak_listener() as (url, got):
        w.client.app.state.tak = TakSettings(url=url, audience="ORG-C")
        r = w.post(
            "analyst-org-b", "/api/v1/tak/push", {"include": ["sites", "routes", "incidents"]}
        )
        assert r.status_code == 200, r.text
        assert r.json() == {
            "audience": "ORG-C",
            "events": 3,
            "incidents": 0,
            "sites": 2,
            "routes": 1,
            "sensors": 0,
        }
        got.wait_for(3)
        uids = got.uids()
        assert uids == [f"corridorguard.site.{green}", f"corridorguard.site.{amber}",
                        f"corridorguard.route.{routed}.0"]  # fmt: skip
        assert (
            f"site.{strict}" not in got.data.decode() and f"site.{hidden}" not in got.data.decode()
        )
        assert f"incident.{red}" not in got.data.decode()
        # a selection by id; an id the caller may not see is simply not sent
        r = w.post(
            "analyst-org-b", "/api/v1/tak/push", {"include": ["sites"], "sites": [hidden, green]}
        )
        assert r.json()["events"] == 1
        assert w.post("reporter-org-b", "/api/v1/tak/push", {}).status_code == 403
        # an Idempotency-Key retry gets the first answer and sends nothing again
        n = len(got.events())
        once = w.post("analyst-org-b", "/api/v1/tak/push", {"include": ["sites"]}, **KEY)
        got.wait_for(n + 2)
        twice = w.post("analyst-org-b", "/api/v1/tak/push", {"include": ["sites"]}, **KEY)
        assert twice.json() == once.json() and twice.headers["Idempotency-Replayed"] == "true"
        got.wait_for(n + 4, timeout=0.5)  # would a second send arrive?
        assert len(got.events()) == n + 2
        other = w.post("analyst-org-b", "/api/v1/tak/push", {"include": ["routes"]}, **KEY)
        assert other.status_code == 409
    w.client.app.state.tak = TakSettings(url="tcp://127.0.0.1:1", audience="ORG-C", timeout=2)
    down = w.post("analyst-org-b", "/api/v1/tak/push", {"include": ["sites"]})
    assert down.status_code == 502 and down.json()["error"] == "tak_unavailable"


def test_cot_of_sensor_placements_draws_the_camera_cone(world: World) -> None:
    from corridorguard.sharing.cot import parse_cot

    w = world
    cam = w.post("planner-org-a", "/api/v1/sensors", sensor("GREEN", azimuth_deg=90, range_m=800))
    seg = sensor("GREEN", lon=None, lat=None, segment="N10-3", kind="checkpoint")
    w.post("planner-org-a", "/api/v1/sensors", seg)
    hidden = w.post("planner-org-a", "/api/v1/sensors", sensor("AMBER", kind="drone")).json()["id"]
    xml = w.get("analyst-org-b", "/api/v1/cot/export", include="sensors").text
    assert f"sensor.{hidden}" not in xml
    uid = f"corridorguard.sensor.{cam.json()['id']}"
    assert _uids(xml) == [uid]  # the segment-only checkpoint has no point to draw
    start = xml.index("<event ")
    ev = parse_cot(xml[start : xml.index("</event>") + len("</event>")].encode())
    assert ev.get("type") == "b-m-p-s-p-loc"
    cone = ev.find("detail/sensor")
    assert cone is not None and cone.attrib == {"azimuth": "90", "fov": "60", "range": "800"}
    mine = w.get("planner-org-a", "/api/v1/cot/export", include="sensors").text
    assert 'type="a-f-A-M-H-Q"' in mine  # the drone, seen by its own organisation
