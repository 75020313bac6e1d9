"""Incident corrections as STIX versions reaching partners, earlier versions' contents served
by TAXII ``match[version]``, and records of ours that come back through a partner (A -> B -> A)
recognised instead of stored twice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from api_world import (
    NEEDS_PG,
    Template,
    World,
    copy_world,
    incident,
    live_server,
    make_template,
    open_world,
    pg_schema,
)
from test_api_resources import site
from typer.testing import CliRunner

from corridorguard.api.routes.taxii import ALL_COLLECTION, collection_id
from corridorguard.cli import app as cli

ALL = f"/taxii2/api1/collections/{ALL_COLLECTION}"


def _coll(org: str) -> str:
    return f"/taxii2/api1/collections/{collection_id(org)}"


@contextmanager
def _partner(template: Template, tmp: Path) -> Iterator[World]:
    w = copy_world(template, tmp)
    try:
        yield w
    finally:
        w.client.close()
        w.store.close()


def _pull(base: str, to_org: str, token: str, url: str, *extra: str) -> dict[str, Any]:
    args = ["sync", "pull", "--from", base, "--collection", collection_id(to_org)]
    out = CliRunner().invoke(cli, [*args, "--token", token, "--db", url, "--json", *extra])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def _patch(w: World, user: str, incident_id: int, **body: Any) -> Any:
    r = w.client.patch(f"/api/v1/incidents/{incident_id}", json=body, headers=w.h(user))
    assert r.status_code == 200, r.text
    return r.json()


def _audit(w: World, action: str) -> list[dict[str, Any]]:
    entries = w.get("admin-org-a", "/api/v1/audit/entries", limit=1000).json()["entries"]
    return [e["entry"] for e in entries if e["entry"]["action"] == action]


def _incidents(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objs if o["type"] == "incident"]


def test_a_correction_reaches_the_partner_as_a_new_version(
    world: World, template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = world
    monkeypatch.setenv("CORRIDORGUARD_AUDIT_KEY_FILE", str(template.key_file))
    iid = a.post("analyst-org-a", "/api/v1/incidents", incident("GREEN")).json()["id"]
    with _partner(template, tmp_path / "b") as b:
        with live_server(a.client.app) as base:
            token = a.tokens["analyst-org-b"]
            first = _pull(base, "ORG-B", token, b.url)
            assert (first["imported"], first["updated"]) == (1, 0)
            poll = a.get("analyst-org-b", f"{_coll('ORG-B')}/objects/", limit=1000)
            mark = poll.headers["X-TAXII-Date-Added-Last"]
            old = _incidents(poll.json()["objects"])[0]
            assert _pull(base, "ORG-B", token, b.url, "--added-after", mark)["fetched"] == 0
            # A corrects the incident: a newer ``modified``, added again after ``mark``
            _patch(a, "analyst-org-a", iid, description="corrected: two vehicles")
            update = _audit(a, "incident.update")[-1]
            assert update["detail"]["fields"] == ["description"]
            assert update["detail"]["modified"] > update["detail"]["previous"]
            again = a.get("analyst-org-b", f"{_coll('ORG-B')}/objects/", added_after=mark).json()
            new = _incidents(again["objects"])
            assert [(o["id"], o["description"]) for o in new] == [
                (old["id"], "corrected: two vehicles")
            ]
            assert new[0]["modified"] > old["modified"] and new[0]["created"] == old["created"]
            # B's incremental pull takes it as a new version of the same record
            got = _pull(base, "ORG-B", token, b.url, "--added-after", mark)
            assert (got["fetched"], got["imported"], got["updated"]) == (1, 0, 1)
            assert _pull(base, "ORG-B", token, b.url, "--full")["unchanged"] == 1  # idempotent
        items = b.get("analyst-org-b", "/api/v1/incidents").json()["items"]
        assert [(i["description"], i["originator"], i["tlp"]) for i in items] == [
            ("corrected: two vehicles", "ORG-A", "GREEN")
        ]
        versions = [e for e in _audit(b, "stix.version") if e["detail"]["stix_id"] == old["id"]]
        assert len(versions) == 1 and versions[0]["detail"]["modified"].startswith(
            new[0]["modified"][:19]
        )
        # both versions, with their contents, on B and on A (and B re-exports the newest)
        for w in (a, b):
            listed = w.get("analyst-org-b", f"{ALL}/objects/{old['id']}/versions/").json()
            assert listed["versions"] == [old["modified"], new[0]["modified"]]
            every = w.get("analyst-org-b", f"{ALL}/objects/", **{"match[version]": "all"}).json()
            assert [o["description"] for o in _incidents(every["objects"])] == [
                "notional test report",
                "corrected: two vehicles",
            ]
            # the earlier version is served as the instance serves the record (one path)
            srcs = {
                (o["x_corridorguard_source"], o["created"]) for o in _incidents(every["objects"])
            }
            assert len(srcs) == 1
            first_v = w.get(
                "analyst-org-b", f"{ALL}/objects/{old['id']}/", **{"match[version]": "first"}
            )
            assert [o["description"] for o in _incidents(first_v.json()["objects"])] == [
                "notional test report"
            ]
            at = w.get(
                "analyst-org-b", f"{ALL}/objects/", **{"match[version]": old["modified"]}
            ).json()
            sightings = [o for o in at["objects"] if o["type"] == "sighting"]
            assert [o["modified"] for o in sightings] == [old["modified"]]
        exported = json.loads(b.get("analyst-org-b", "/api/v1/export/stix").content)
        assert [(o["id"], o["modified"]) for o in _incidents(exported["objects"])] == [
            (old["id"], new[0]["modified"])
        ]


def test_both_stix_exports_and_taxii_agree_on_modified(world: World) -> None:
    iid = world.post("analyst-org-a", "/api/v1/incidents", incident("GREEN")).json()["id"]
    _patch(world, "analyst-org-a", iid, fatalities=2)
    old_path = json.loads(world.get("analyst-org-b", "/api/v1/export/stix").content)
    new_path = json.loads(world.get("analyst-org-b", "/api/v1/stix/export").content)
    taxii = world.get("analyst-org-b", f"{ALL}/objects/").json()
    got = [
        sorted((o["id"], o["modified"]) for o in objs["objects"] if "modified" in o)
        for objs in (old_path, new_path, taxii)
    ]
    assert got[0] == got[1] == got[2]
    assert _incidents(taxii["objects"])[0]["x_corridorguard_fatalities"] == 2


def test_an_empty_correction_is_no_new_version(world: World) -> None:
    iid = world.post("analyst-org-a", "/api/v1/incidents", incident("GREEN")).json()["id"]
    before = world.get("analyst-org-b", f"{ALL}/objects/").json()["objects"]
    _patch(world, "analyst-org-a", iid)
    assert world.get("analyst-org-b", f"{ALL}/objects/").json()["objects"] == before


def test_a_narrowed_record_never_serves_an_old_version_more_widely(world: World) -> None:
    """GREEN -> RED is not possible by PATCH; a received record narrowed by a newer version
    (GREEN, then AMBER REL-TO ORG-B) serves its old version only under the current marking
    (to ORG-B, marked AMBER), never to ORG-C."""
    a = world
    bundle = json.loads(a.get("analyst-org-a", "/api/v1/stix/export").content)
    assert bundle.get("objects", []) == []
    from test_api_taxii_sharing import _outside_bundle

    v1 = _outside_bundle()
    up = a.post("analyst-org-c", "/api/v1/stix/bundles", v1)
    assert up.status_code == 200, up.text
    v2 = json.loads(json.dumps(v1))
    for o in v2["objects"]:
        if o["type"] in ("incident", "sighting", "location", "infrastructure", "relationship"):
            o["modified"] = "2030-01-01T00:00:00.000Z"
            o["object_marking_refs"] = ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]
            o["x_corridorguard_rel_to"] = ["ORG-B"]
            if o["type"] == "incident":
                o["description"] = "v2"
    assert a.post("analyst-org-c", "/api/v1/stix/bundles", v2).status_code == 200
    inc_id = next(o["id"] for o in v1["objects"] if o["type"] == "incident")
    every = {"match[version]": "all"}
    seen_b = a.get("analyst-org-b", f"{ALL}/objects/{inc_id}/", **every).json()["objects"]
    incs = _incidents(seen_b)
    assert [o["description"] for o in incs] == ["v1", "v2"]
    amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    assert all(
        o["object_marking_refs"] == [amber] and o["x_corridorguard_rel_to"] == ["ORG-B"]
        for o in seen_b
        if o["type"] not in ("marking-definition", "identity")
    )
    # ORG-A (not in REL-TO) sees no version, exactly like a missing object
    hidden = a.get("analyst-org-a", f"{ALL}/objects/{inc_id}/", **every)
    missing = a.get(
        "analyst-org-a", f"{ALL}/objects/incident--{'0' * 8}-0000-4000-8000-{'0' * 12}/"
    )
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["message"].split()[0:2] == missing.json()["message"].split()[0:2]
    pages = a.get("analyst-org-a", f"{ALL}/objects/", **every).json()
    assert _incidents(pages.get("objects", [])) == []


def test_a_widened_record_keeps_its_old_version_from_new_readers(world: World) -> None:
    """AMBER REL-TO ORG-B, then GREEN: ORG-C reads the GREEN version, never the AMBER one."""
    from test_api_taxii_sharing import _outside_bundle

    v1 = _outside_bundle()
    for o in v1["objects"]:
        if o["type"] in ("incident", "sighting", "location", "infrastructure", "relationship"):
            o["object_marking_refs"] = ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]
            o["x_corridorguard_rel_to"] = ["ORG-B"]
    assert world.post("analyst-org-a", "/api/v1/stix/bundles", v1).status_code == 200
    v2 = _outside_bundle()
    for o in v2["objects"]:
        if "modified" in o and o["type"] not in ("marking-definition", "identity"):
            o["modified"] = "2030-01-01T00:00:00.000Z"
    assert world.post("analyst-org-a", "/api/v1/stix/bundles", v2).status_code == 200
    inc_id = next(o["id"] for o in v1["objects"] if o["type"] == "incident")
    every = {"match[version]": "all"}
    c = _incidents(world.get("analyst-org-c", f"{ALL}/objects/", **every).json()["objects"])
    assert [o["modified"][:4] for o in c] == ["2030"]
    listed = world.get("analyst-org-c", f"{ALL}/objects/{inc_id}/versions/").json()["versions"]
    assert [v[:4] for v in listed] == ["2030"]
    b = _incidents(world.get("analyst-org-b", f"{ALL}/objects/", **every).json()["objects"])
    assert len(b) == 2  # ORG-B was a recipient of both
    amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    assert b[0]["object_marking_refs"] == [amber]  # the old one keeps its stricter marking


def test_records_of_ours_coming_back_through_a_partner_are_not_stored_twice(
    world: World, template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = world
    monkeypatch.setenv("CORRIDORGUARD_AUDIT_KEY_FILE", str(template.key_file))
    iid = a.post("analyst-org-a", "/api/v1/incidents", incident("GREEN")).json()["id"]
    sid_ = a.post("analyst-org-a", "/api/v1/sites", site("AMBER", rel_to=["ORG-B"])).json()["id"]
    with _partner(template, tmp_path / "b") as b:
        with live_server(a.client.app) as base_a:
            got = _pull(base_a, "ORG-B", a.tokens["analyst-org-b"], b.url)
        assert got["by_kind"]["created"] == {"incidents": 1, "sites": 1, "plans": 0}
        # B's bundle uploaded to A: A's own records, recognised
        back = json.loads(b.get("analyst-org-b", "/api/v1/stix/export").content)
        up = a.post("analyst-org-a", "/api/v1/stix/bundles", back)
        assert up.status_code == 200, up.text
        assert up.json()["ours"] == {"incidents": [iid], "sites": [sid_], "plans": []}
        assert up.json()["created"] == {"incidents": [], "sites": [], "plans": []}
        # uploaded by another organisation, it is refused: A holds these ids from ORG-A
        other = a.post("analyst-org-c", "/api/v1/stix/bundles", back)
        assert other.status_code == 422
        assert {r["field"] for r in other.json()["rows"]} == {"created_by_ref"}
        assert "already held from ORG-A" in other.json()["rows"][0]["reason"]
        # B adds an incident of its own; A pulls B's collection for ORG-A
        b.post("analyst-org-b", "/api/v1/incidents", incident("GREEN", description="B's"))
        with live_server(b.client.app) as base_b:
            pulled = _pull(base_b, "ORG-A", b.tokens["analyst-org-a"], a.url)
            assert pulled["by_kind"]["ours"] == {"incidents": 1, "sites": 1, "plans": 0}
            assert (pulled["imported"], pulled["ours"]) == (1, 2)
            twice = _pull(base_b, "ORG-A", b.tokens["analyst-org-a"], a.url, "--full")
            assert (twice["imported"], twice["unchanged"], twice["ours"]) == (0, 1, 2)
    items = a.get("analyst-org-a", "/api/v1/incidents").json()["items"]
    assert sorted((i["description"], i["originator"]) for i in items) == [
        ("B's", "ORG-B"),
        ("notional test report", "ORG-A"),
    ]
    sites = a.get("analyst-org-a", "/api/v1/sites").json()["items"]
    assert [s["id"] for s in sites] == [sid_]
    # A's own records are untouched: one version each, still A's
    export = json.loads(a.get("analyst-org-a", "/api/v1/stix/export").content)
    assert len(_incidents(export["objects"])) == 2
    assert len([o for o in export["objects"] if o["type"] == "infrastructure"]) == 1


def test_pages_of_every_version_hold_whole_records_within_the_limit(world: World) -> None:
    for name in ("one", "two"):
        iid = world.post("analyst-org-a", "/api/v1/incidents", incident(description=name)).json()
        for k in (1, 2):
            _patch(world, "analyst-org-a", iid["id"], description=f"{name} v{k + 1}")
    pages, nxt = [], None
    while True:
        params: dict[str, Any] = {"limit": 10, "match[version]": "all"}
        if nxt:
            params["next"] = nxt
        page = world.get("analyst-org-b", f"{ALL}/objects/", **params).json()
        pages.append([o["description"] for o in _incidents(page["objects"])])
        if not page["more"]:
            break
        nxt = page["next"]
    # a record's three versions (9 objects + marking + identity) exceed nothing but the first
    # page's room for a second record: one record per page, none lost or repeated
    assert pages == [["one", "one v2", "one v3"], ["two", "two v2", "two v3"]]


def check_corrections(w: World) -> None:
    """One instance: a correction is a second version with both contents served; the three
    STIX paths agree; an upload of our own records back is recognised (``ours``)."""
    iid = w.post("analyst-org-a", "/api/v1/incidents", incident("GREEN")).json()["id"]
    sid_ = w.post("analyst-org-a", "/api/v1/sites", site("GREEN")).json()["id"]
    first = w.get("analyst-org-b", f"{ALL}/objects/", limit=1000)
    mark = first.headers["X-TAXII-Date-Added-Last"]
    _patch(w, "analyst-org-a", iid, description="fixed", fatalities=1)
    again = w.get("analyst-org-b", f"{ALL}/objects/", added_after=mark).json()
    assert [o["description"] for o in _incidents(again["objects"])] == ["fixed"]
    every = w.get("analyst-org-b", f"{ALL}/objects/", **{"match[version]": "all"}).json()
    incs = _incidents(every["objects"])
    assert [o["description"] for o in incs] == ["notional test report", "fixed"]
    assert incs[0]["id"] == incs[1]["id"] and incs[0]["modified"] < incs[1]["modified"]
    listed = w.get("analyst-org-b", f"{ALL}/objects/{incs[0]['id']}/versions/").json()
    assert listed["versions"] == [incs[0]["modified"], incs[1]["modified"]]
    routes = ("/api/v1/export/stix", "/api/v1/stix/export")
    paths = [json.loads(w.get("analyst-org-b", p).content) for p in routes]
    for bundle in paths:
        assert [(o["id"], o["modified"]) for o in _incidents(bundle["objects"])] == [
            (incs[1]["id"], incs[1]["modified"])
        ]
    back = w.post("analyst-org-a", "/api/v1/stix/bundles", paths[1])
    assert back.status_code == 200, back.text
    assert back.json()["ours"] == {"incidents": [iid], "sites": [sid_], "plans": []}
    assert w.get("analyst-org-a", "/api/v1/incidents").json()["total"] == 1


def test_corrections_on_sqlite(world: World) -> None:
    check_corrections(world)


@pytest.mark.postgres
@NEEDS_PG
def test_corrections_on_postgresql(tmp_path: Path) -> None:
    with pg_schema() as url:
        w = open_world(make_template(tmp_path, url), url)
        try:
            check_corrections(w)
        finally:
            w.client.close()
            w.store.close()
