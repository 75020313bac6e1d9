"""Sites, forecasts, movements and sensors over the API: roles, provenance, idempotency, audit,
visible-not-editable, invisible = missing, the immutable forecast values, the counts-only rule."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_world import World
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

T0, T1 = "2025-01-01T06:00:00Z", "2025-01-01T09:00:00Z"


def site(tlp: str = "GREEN", **extra: Any) -> dict[str, Any]:
    return {
        "name": "Port",
        "type": "port",
        "lon": 62.3,
        "lat": 25.1,
        "criticality": 4,
        "tlp": tlp,
        **extra,
    }


def forecast(tlp: str = "GREEN", **extra: Any) -> dict[str, Any]:
    values = [
        {"kind": "cell", "key": "c1", "lon": 62.0, "lat": 25.0, "value": 0.25},
        {"kind": "cell", "key": "c2", "lon": 62.1, "lat": 25.0, "value": 1.5},
        {"kind": "segment", "key": "N10-3", "value": 0.75},
    ]
    body = {"name": "weekly", "model": "sepp", "valid_from": T0, "valid_to": T1, "tlp": tlp}
    return {**body, "values": values, **extra}


def movement(tlp: str = "GREEN", **extra: Any) -> dict[str, Any]:
    return {
        "name": "shift change", "origin": "gwadar", "destination": "turbat",
        "window_start": T0, "window_end": T1, "people": 40, "vehicles": 3, "tlp": tlp, **extra,
    }  # fmt: skip


def sensor(tlp: str = "GREEN", **extra: Any) -> dict[str, Any]:
    return {
        "name": "cam 1",
        "kind": "camera",
        "lon": 62.3,
        "lat": 25.1,
        "fov_deg": 60,
        "tlp": tlp,
        **extra,
    }


# resource path, body factory, a user who may create, a role that may not
KINDS = [
    ("sites", site, "analyst-org-a", "reporter-org-a"),
    ("forecasts", forecast, "planner-org-a", "commander-org-a"),
    ("movements", movement, "planner-org-a", "analyst-org-a"),
    ("sensors", sensor, "commander-org-a", "reporter-org-a"),
]


def _audit_actions(w: World) -> list[tuple[str, str]]:
    with w.store.read() as conn:
        rows = conn.execute(text("SELECT data FROM audit_entries ORDER BY seq")).all()
    out = []
    for (data,) in rows:
        d = json.loads(bytes(data))
        out.append((d.get("action"), d.get("outcome")))
    return out


@pytest.mark.parametrize(("path", "body", "creator", "refused"), KINDS)
def test_create_read_update_and_roles(
    world: World, path: str, body: Any, creator: str, refused: str
) -> None:
    w = world
    url = f"/api/v1/{path}"
    # a role that may not create, and oversight, are 403 (audited)
    assert w.post(refused, url, body()).status_code == 403
    assert w.get("oversight-board", url).status_code == 403
    # provenance can never come from the payload
    for spoof in ({"originator": "ORG-B"}, {"created_by": "x"}, {"created_at": T0}):
        assert w.post(creator, url, body(**spoof)).status_code == 422
    r = w.post(creator, url, body("AMBER", rel_to=["ORG-B"]), **{"Idempotency-Key": "k1"})
    assert r.status_code == 201, r.text
    rec = r.json()
    assert (rec["originator"], rec["created_by"], rec["tlp"], rec["rel_to"]) == (
        "ORG-A", creator, "AMBER", ["ORG-B"],
    )  # fmt: skip
    # the same key replays the first answer; nothing new is created
    again = w.post(creator, url, body("AMBER", rel_to=["ORG-B"]), **{"Idempotency-Key": "k1"})
    assert again.json() == rec and again.headers["Idempotency-Replayed"] == "true"
    assert w.post(creator, url, body("GREEN"), **{"Idempotency-Key": "k1"}).status_code == 409
    # visible to ORG-B (REL-TO), not to ORG-C: 404 exactly like a missing id
    assert w.get("reporter-org-b", f"{url}/{rec['id']}").json() == rec
    hidden = w.get("reporter-org-c", f"{url}/{rec['id']}")
    ghost = w.get("reporter-org-c", f"{url}/999999")
    assert hidden.status_code == ghost.status_code == 404
    assert hidden.content == ghost.content.replace(b"999999", str(rec["id"]).encode())
    assert w.get("reporter-org-c", url).json()["total"] == 0
    assert w.get("reporter-org-b", url).json()["total"] == 1
    # visible is not editable (403), invisible is 404, the originator's editor may
    patch = {"name": "renamed"}
    h = w.h
    assert (
        w.client.patch(f"{url}/{rec['id']}", json=patch, headers=h("analyst-org-b")).status_code
        == 403
    )
    assert (
        w.client.patch(f"{url}/{rec['id']}", json=patch, headers=h("analyst-org-c")).status_code
        == 404
    )
    ok = w.client.patch(f"{url}/{rec['id']}", json=patch, headers=h("admin-org-a"))
    assert ok.status_code == 200 and ok.json()["name"] == "renamed" and ok.json()["updated_at"]
    kind = path[:-1]
    actions = _audit_actions(w)
    assert (f"{kind}.create", "ok") in actions
    assert (f"{kind}.read", "denied") in actions
    assert actions.count((f"{kind}.update", "denied")) == 2
    assert (f"{kind}.update", "ok") in actions
    assert ("request.denied", "denied") in actions


def test_red_records_need_named_recipients(world: World) -> None:
    w = world
    r = w.post("analyst-org-a", "/api/v1/sites", site("RED", red_recipients=["planner-org-b"]))
    rid = r.json()["id"]
    assert w.get("planner-org-b", f"/api/v1/sites/{rid}").status_code == 200
    assert (
        w.get("commander-org-a", f"/api/v1/sites/{rid}").status_code == 404
    )  # same org, not named
    assert (
        w.post("analyst-org-a", "/api/v1/sites", site("RED", red_recipients=["nobody"])).status_code
        == 422
    )
    assert (
        w.post(
            "analyst-org-a", "/api/v1/sites", site("GREEN", red_recipients=["planner-org-b"])
        ).status_code
        == 422
    )
    assert (
        w.post("analyst-org-a", "/api/v1/sites", site("AMBER", rel_to=["NOT-AN-ORG"])).status_code
        == 422
    )


def test_forecast_values_are_served_through_the_policy_and_never_change(world: World) -> None:
    w = world
    rid = w.post("analyst-org-a", "/api/v1/forecasts", forecast("AMBER")).json()["id"]
    top = w.get("reporter-org-a", f"/api/v1/forecasts/{rid}/values", order="value").json()
    assert [v["key"] for v in top["items"]] == ["c2", "N10-3", "c1"] and top["total"] == 3
    assert w.get("reporter-org-b", f"/api/v1/forecasts/{rid}/values").status_code == 404
    assert (
        w.get("reporter-org-a", "/api/v1/forecasts", valid_at="2025-01-01T07:00:00Z").json()[
            "total"
        ]
        == 1
    )
    assert (
        w.get("reporter-org-a", "/api/v1/forecasts", valid_at="2025-01-02T07:00:00Z").json()[
            "total"
        ]
        == 0
    )
    for sql in ("UPDATE forecast_values SET value = 0", "DELETE FROM forecast_values"):
        with pytest.raises(DBAPIError, match="immutable"), w.store.write() as conn:
            conn.execute(text(sql))
    bad = forecast(valid_to=T0)
    assert w.post("analyst-org-a", "/api/v1/forecasts", bad).status_code == 422
    dup = forecast()
    dup["values"].append(dict(dup["values"][0]))
    assert w.post("analyst-org-a", "/api/v1/forecasts", dup).status_code == 422


def test_movements_are_counts_only_and_keep_their_window(world: World) -> None:
    w = world
    # red line: nothing about individuals is accepted
    for extra in ({"passengers": ["Ali"]}, {"names": "x"}, {"people": [{"name": "x"}]}):
        assert w.post("planner-org-a", "/api/v1/movements", movement(**extra)).status_code == 422
    assert w.post("planner-org-a", "/api/v1/movements", movement(force="BOARD")).status_code == 422
    r = w.post("planner-org-a", "/api/v1/movements", movement(force="ORG-B"))
    assert (
        r.status_code == 201 and r.json()["force"] == "ORG-B" and r.json()["originator"] == "ORG-A"
    )
    rid = r.json()["id"]
    h = w.h("planner-org-a")
    bad = w.client.patch(f"/api/v1/movements/{rid}", json={"window_end": T0}, headers=h)
    assert bad.status_code == 422 and bad.json()["field"] == "window_end"
    assert w.get("reporter-org-c", "/api/v1/movements", node="turbat").json()["total"] == 1
    assert (
        w.get("reporter-org-c", "/api/v1/movements", since="2025-01-02T00:00:00Z").json()["total"]
        == 0
    )


def test_sensors_need_a_place_and_filter(world: World) -> None:
    w = world
    assert w.post("planner-org-a", "/api/v1/sensors", sensor(lon=None, lat=None)).status_code == 422
    seg = sensor(lon=None, lat=None, segment="N10-3", kind="checkpoint")
    assert w.post("planner-org-a", "/api/v1/sensors", seg).status_code == 201
    assert w.post("planner-org-a", "/api/v1/sensors", sensor(kind="drone")).status_code == 201
    got = w.get("reporter-org-b", "/api/v1/sensors", kind="checkpoint").json()
    assert [s["segment"] for s in got["items"]] == ["N10-3"]
    assert w.get("reporter-org-b", "/api/v1/sensors", bbox="62,25,63,26").json()["total"] == 1
    assert w.get("reporter-org-b", "/api/v1/sensors", bbox="x").status_code == 422


def test_sites_from_a_builtin_scenario_are_idempotent(world: World) -> None:
    w = world
    body = {"scenario": "cpec", "tlp": "GREEN"}
    first = w.post("planner-org-a", "/api/v1/sites/from-scenario", body).json()
    again = w.post("planner-org-a", "/api/v1/sites/from-scenario", body).json()
    assert first["created"] and not first["unchanged"]
    assert again["unchanged"] == first["created"] and not again["created"]
    listed = w.get("reporter-org-c", "/api/v1/sites", scenario="cpec", limit=500).json()
    assert listed["total"] == len(first["created"])
    assert all(s["originator"] == "ORG-A" for s in listed["items"])
    key = listed["items"][0]["key"]
    dup = w.post("planner-org-a", "/api/v1/sites", site(scenario="cpec", key=key))
    assert dup.status_code == 409
    assert (
        w.post("planner-org-b", "/api/v1/sites", site(scenario="cpec", key=key)).status_code == 201
    )
    assert w.get("planner-org-a", "/api/v1/sites", q="x\x00").status_code == 422
    missing = w.post(
        "planner-org-a", "/api/v1/sites/from-scenario", {"scenario": "nope", "tlp": "GREEN"}
    )
    assert missing.status_code == 404


def test_aggregates_for_oversight_cover_the_instance_and_others_what_they_see(world: World) -> None:
    w = world
    w.post("analyst-org-a", "/api/v1/sites", site("AMBER"))
    w.post("analyst-org-b", "/api/v1/sites", site("GREEN", type="dam"))
    w.post("planner-org-a", "/api/v1/movements", movement("RED"))
    w.post("planner-org-b", "/api/v1/movements", movement("GREEN", people=10))
    w.post("planner-org-a", "/api/v1/sensors", sensor("AMBER+STRICT", kind="drone"))
    board = w.get("oversight-board", "/api/v1/stats/resources").json()
    assert board["scope"] == "instance"
    assert board["sites"]["total"] == 2 and board["sites"]["by_type"] == {"dam": 1, "port": 1}
    assert board["movements"]["people"] == 50 and board["sensors"]["by_kind"] == {"drone": 1}
    text_ = json.dumps(board)
    assert "Port" not in text_ and "gwadar" not in text_  # aggregates, never contents
    c = w.get("analyst-org-c", "/api/v1/stats/resources").json()
    assert (
        c["sites"]["total"] == 1 and c["movements"]["people"] == 10 and c["sensors"]["total"] == 0
    )
