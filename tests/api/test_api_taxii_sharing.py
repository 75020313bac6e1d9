"""TAXII 2.1 collections of sites and plans' public parts (read by ``taxii2-client`` from a real
uvicorn server), match filters and pagination, STIX versions (upload and partner sync), plans
uploaded as read-only shared plan summaries."""

from __future__ import annotations

import json
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
from sqlalchemy import select
from taxii2client.v21 import Collection, as_pages
from test_api_exchange import plan
from test_api_resources import site
from typer.testing import CliRunner

from corridorguard.api.routes.taxii import ALL_COLLECTION, collection_id
from corridorguard.api.sync import BearerAuth
from corridorguard.cli import app as cli
from corridorguard.sharing.policy import Actor, Role
from corridorguard.sharing.records import IncidentRecord, SiteRecord
from corridorguard.sharing.stix import export_stix
from corridorguard.store.shared import SYNC_STATE

ALL = f"/taxii2/api1/collections/{ALL_COLLECTION}"


def _seed(w: World) -> dict[str, int]:
    """ORG-A: sites and plans under every kind of marking, and one incident."""
    ids: dict[str, int] = {}
    for tlp, rel in [("CLEAR", []), ("AMBER", ["ORG-B"]), ("AMBER+STRICT", ["ORG-B"])]:
        body = site(tlp, rel_to=rel, name=f"site {tlp}")
        r = w.post("analyst-org-a", "/api/v1/sites", body)
        assert r.status_code == 201, r.text
        ids[f"site {tlp}"] = r.json()["id"]
    ids["site AMBER-own"] = w.post("analyst-org-a", "/api/v1/sites", site("AMBER")).json()["id"]
    ids["site RED"] = w.post("analyst-org-a", "/api/v1/sites", site("RED")).json()["id"]
    ids["plan GREEN"] = plan(w, "GREEN")
    ids["plan AMBER"] = plan(w, "AMBER", approve=False, rel_to=["ORG-B"])
    ids["plan AMBER-own"] = plan(w, "AMBER", approve=False)
    r = w.post("analyst-org-a", "/api/v1/incidents", incident("GREEN"))
    ids["incident GREEN"] = r.json()["id"]
    return ids


def _names(objs: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for o in objs:
        if o["type"] in ("infrastructure", "course-of-action", "incident"):
            out.setdefault(o["type"], []).append(o["name"])
    return {k: sorted(v) for k, v in out.items()}


def test_taxii2_client_reads_sites_and_plans_with_filters_and_pages(world: World) -> None:
    _seed(world)
    auth = BearerAuth(world.tokens["analyst-org-b"])
    with live_server(world.client.app) as base:
        coll = Collection(f"{base}{ALL}/", auth=auth)
        pages = list(as_pages(coll.get_objects, per_request=5))
        objs = [o for p in pages for o in p.get("objects", [])]
        assert len(pages) >= 6  # one record per page at limit 5
        primary = [o["id"] for o in objs if o["type"] not in ("marking-definition", "identity")]
        assert len(primary) == len(set(primary))  # no object twice across pages
        # ORG-B sees CLEAR/GREEN and what is released to it; not AMBER without REL-TO, not RED
        assert _names(objs) == {
            "infrastructure": ["site AMBER", "site AMBER+STRICT", "site CLEAR"],
            "course-of-action": ["plan AMBER", "plan GREEN"],
            "incident": ["armed assault"],
        }
        plans_only = coll.get_objects(type="course-of-action")["objects"]
        assert {o["type"] for o in plans_only} == {"course-of-action"} and len(plans_only) == 2
        sites_locs = coll.get_objects(type=["infrastructure", "location"])["objects"]
        assert sorted(o["type"] for o in sites_locs) == ["infrastructure"] * 3 + ["location"] * 4
        # match[id]: one site's objects; its location too
        infra = next(o for o in objs if o["type"] == "infrastructure")
        rel = next(o for o in objs if o.get("source_ref") == infra["id"])
        got = coll.get_objects(id=[infra["id"], rel["target_ref"]])["objects"]
        assert sorted(o["id"] for o in got) == sorted([infra["id"], rel["target_ref"]])
        # match[version]: timestamps select the version; "first" is the only one held
        assert coll.get_objects(id=infra["id"], version=infra["modified"])["objects"]
        assert coll.get_objects(id=infra["id"], version="first")["objects"]
        old = "2000-01-01T00:00:00.000Z"
        assert coll.get_objects(id=infra["id"], version=old).get("objects", []) == []
        # one object and its versions
        one = coll.get_object(infra["id"])["objects"]
        assert [o["id"] for o in one] == [infra["id"]]
        assert coll.object_versions(infra["id"])["versions"] == [infra["modified"]]
        # to-ORG-C: AMBER+STRICT is not passed on by ORG-B
        to_c = Collection(f"{base}/taxii2/api1/collections/{collection_id('ORG-C')}/", auth=auth)
        names = _names(to_c.get_objects(limit=1000)["objects"])
        assert names["infrastructure"] == ["site AMBER", "site CLEAR"]


def test_added_after_and_date_added_headers(world: World) -> None:
    _seed(world)
    first = world.get("analyst-org-b", f"{ALL}/objects/", limit=1000)
    last = first.headers["X-TAXII-Date-Added-Last"]
    assert first.headers["X-TAXII-Date-Added-First"] <= last
    assert world.get("analyst-org-b", f"{ALL}/objects/", added_after=last).json() == {
        "more": False,
        "objects": [],
    }
    new = world.post("analyst-org-a", "/api/v1/sites", site("GREEN", name="later")).json()
    later = world.get("analyst-org-b", f"{ALL}/objects/", added_after=last).json()
    assert _names(later["objects"]) == {"infrastructure": ["later"]}
    # a correction is a new version: added again, with a newer modified
    fix = world.client.patch(
        f"/api/v1/sites/{new['id']}", json={"name": "later fixed"}, headers=world.h("analyst-org-a")
    )
    assert fix.status_code == 200, fix.text
    again = world.get("analyst-org-b", f"{ALL}/objects/", added_after=last).json()
    infra = [o for o in again["objects"] if o["type"] == "infrastructure"]
    assert [o["name"] for o in infra] == ["later fixed"]
    old = next(o for o in later["objects"] if o["type"] == "infrastructure")
    assert infra[0]["id"] == old["id"] and infra[0]["modified"] > old["modified"]


@pytest.mark.parametrize(
    "params",
    [
        {"match[type]": "Not A Type"},
        {"match[id]": "incident--nope"},
        {"match[version]": "yesterday"},
        {"next": "12"},
        {"added_after": "2024-01-01T00:00:00"},
    ],
)
def test_bad_filters_are_refused(world: World, params: dict[str, str]) -> None:
    r = world.get("analyst-org-b", f"{ALL}/objects/", **params)
    assert r.status_code == 422, r.text


def _bundle(w: World, user: str, **params: Any) -> dict[str, Any]:
    r = w.get(user, "/api/v1/stix/export", **params)
    assert r.status_code == 200
    return json.loads(r.content)  # type: ignore[no-any-return]


def _bump(obj: dict[str, Any], when: str, **changes: Any) -> None:
    obj.update(changes)
    obj["modified"] = when


def _outside_bundle() -> dict[str, Any]:
    """A bundle from another instance (organisation PARTNER-X): one incident, one site."""
    actor = Actor(user_id="x", org="PARTNER-X", role=Role.ANALYST)
    mark = {"originator": "PARTNER-X", "tlp": "GREEN"}
    inc = IncidentRecord(
        id="7", source="manual", source_id=None, time="2024-03-20T10:00:00Z", lon=66.5,
        lat=25.1, type="armed assault", description="v1", **mark,
    )  # fmt: skip
    sit = SiteRecord(id="8", name="v1", kind="port", lon=62.3, lat=25.1, **mark)  # type: ignore[arg-type]
    bundle = export_stix(actor, incidents=[inc], sites=[sit])
    return json.loads(bundle.serialize())  # type: ignore[no-any-return]


def test_upload_versions_by_modified_same_originator_only(world: World) -> None:
    check_versions(world)


@pytest.mark.postgres
@NEEDS_PG
def test_upload_versions_on_postgresql(tmp_path: Path) -> None:
    with pg_schema() as url:
        w = open_world(make_template(tmp_path, url), url)
        try:
            check_versions(w)
        finally:
            w.client.close()
            w.store.close()


def check_versions(w: World) -> None:
    """Newer ``modified`` = a new version; same/older unchanged; another originator refused."""
    bundle = _outside_bundle()
    first = w.post("analyst-org-c", "/api/v1/stix/bundles", bundle)
    assert first.status_code == 200, first.text
    created = first.json()["created"]
    newer = json.loads(json.dumps(bundle))
    for o in newer["objects"]:
        if o["type"] == "incident":
            _bump(o, "2030-01-01T00:00:00.000Z", description="v2")
        elif o["type"] == "infrastructure":
            _bump(o, "2030-01-01T00:00:00.000Z", name="v2")
        elif o["type"] in ("sighting", "location", "relationship"):
            o["modified"] = "2030-01-01T00:00:00.000Z"
    r = w.post("analyst-org-c", "/api/v1/stix/bundles", newer).json()
    assert r["updated"] == created and r["created"]["incidents"] == []
    inc = w.get("analyst-org-c", f"/api/v1/incidents/{created['incidents'][0]}").json()
    assert inc["description"] == "v2" and inc["originator"] == "ORG-C"
    s = w.get("analyst-org-c", f"/api/v1/sites/{created['sites'][0]}").json()
    assert s["name"] == "v2"
    # the same version again, or an older one: unchanged (idempotent), content kept
    assert w.post("analyst-org-c", "/api/v1/stix/bundles", newer).json()["unchanged"] == created
    older = w.post("analyst-org-c", "/api/v1/stix/bundles", bundle).json()
    assert older["unchanged"] == created and older["updated"]["sites"] == []
    assert w.get("analyst-org-c", f"/api/v1/sites/{created['sites'][0]}").json()["name"] == "v2"
    # TAXII lists both versions; the served object is the newest
    inc_id = next(o["id"] for o in bundle["objects"] if o["type"] == "incident")
    v = w.get("analyst-org-c", f"{ALL}/objects/{inc_id}/versions/").json()["versions"]
    old_modified = next(o["modified"] for o in bundle["objects"] if o["type"] == "incident")
    assert v == sorted([old_modified, "2030-01-01T00:00:00.000Z"])
    served = w.get("analyst-org-c", f"{ALL}/objects/{inc_id}/").json()["objects"]
    assert served[0]["description"] == "v2" and served[0]["modified"].startswith("2030-01-01")
    # each new version is in the audit log
    entries = w.get("admin-org-c", "/api/v1/audit/entries", limit=1000).json()["entries"]
    got = [e["entry"] for e in entries if e["entry"]["action"] == "stix.version"]
    assert len(got) == 2 and {e["detail"]["stix_id"] for e in got} >= {inc_id}
    # another organisation may not version (or copy) ORG-C's records
    other = w.post("analyst-org-a", "/api/v1/stix/bundles", newer)
    assert other.status_code == 422
    assert {r["field"] for r in other.json()["rows"]} == {"created_by_ref"}


def test_upload_of_plans_lands_as_read_only_shared_summaries(
    world: World, template: Template, tmp_path: Path
) -> None:
    w = world
    origin = copy_world(template, tmp_path / "origin")  # another instance, where ORG-A plans
    try:
        pid = plan(origin, "GREEN")
        bundle = _bundle(origin, "analyst-org-a", include=["plans"])
        # on its own instance the plan is ORG-A's: recognised, never a summary of itself
        mine = origin.post("planner-org-a", "/api/v1/stix/bundles", bundle).json()
        assert (mine["ours"]["plans"], mine["created"]["plans"]) == ([pid], [])
        theirs = origin.post("planner-org-b", "/api/v1/stix/bundles", bundle)
        assert theirs.status_code == 422 and "held from ORG-A" in theirs.text
    finally:
        origin.client.close()
        origin.store.close()
    coa = next(o for o in bundle["objects"] if o["type"] == "course-of-action")
    assert w.post("analyst-org-b", "/api/v1/stix/bundles", bundle).status_code == 403  # analyst
    before = w.get("planner-org-b", "/api/v1/plans").json()["total"]
    r = w.post("planner-org-b", "/api/v1/stix/bundles", bundle)
    assert r.status_code == 200, r.text
    assert len(r.json()["created"]["plans"]) == 1
    # never a plan of ours: not listed, not editable or approvable
    assert w.get("planner-org-b", "/api/v1/plans").json()["total"] == before
    # re-exported as a shared summary, same STIX id, status as reported, marked shared
    again = _bundle(w, "planner-org-c", include=["plans"])
    shared = [o for o in again["objects"] if o.get("x_corridorguard_shared")]
    assert [(o["id"], o["x_corridorguard_status"]) for o in shared] == [(coa["id"], "approved")]
    assert shared[0]["created_by_ref"] != coa["created_by_ref"]  # provenance: the uploader
    # readable as a shared plan summary: the sender's status and approvals, read only
    listed = w.get("planner-org-c", "/api/v1/shared-plans").json()
    assert listed["total"] == 1
    got = listed["items"][0]
    assert (got["stix_id"], got["originator"], got["status"], got["created_by"]) == (
        coa["id"], "ORG-B", "approved", "planner-org-b",
    )  # fmt: skip
    assert [a["org"] for a in got["approvals"]] == ["ORG-A"]
    assert got["summary"]["patrols"] == coa["x_corridorguard_summary"]["patrols"]
    one = w.get("planner-org-c", f"/api/v1/shared-plans/{got['id']}").json()
    assert one == got
    no_edit = w.client.patch(
        f"/api/v1/shared-plans/{got['id']}", json={"title": "x"}, headers=w.h("planner-org-b")
    )
    assert no_edit.status_code == 405
    # atomic: a bad plan names its object and field, nothing written
    bad = json.loads(json.dumps(bundle))
    k = next(i for i, o in enumerate(bad["objects"]) if o["type"] == "course-of-action")
    bad["objects"][k]["x_corridorguard_status"] = "sort of"
    bad["objects"][k]["id"] = "course-of-action--" + "1" * 8 + "-1111-4111-8111-" + "1" * 12
    rej = w.post("planner-org-c", "/api/v1/stix/bundles", bad)
    assert rej.status_code == 422
    assert [(row["line"], row["field"]) for row in rej.json()["rows"]] == [
        (k, "x_corridorguard_status")
    ]
    assert len(_bundle(w, "planner-org-c", include=["plans"])["objects"]) == len(again["objects"])


def _sync_args(base: str, token: str, url: str) -> list[str]:
    cid = collection_id("ORG-B")
    return ["sync", "pull", "--from", base, "--collection", cid, "--token", token, "--db", url]


def test_partner_sync_pulls_sites_and_plans_keeping_markings_and_versions(
    world: World, template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _seed(world)
    partner = copy_world(template, tmp_path / "b")
    monkeypatch.setenv("CORRIDORGUARD_AUDIT_KEY_FILE", str(template.key_file))
    runner = CliRunner()
    args = [*_sync_args("", world.tokens["analyst-org-b"], partner.url), "--json"]
    try:
        with live_server(world.client.app) as base:
            args[3] = base
            first = runner.invoke(cli, args)
            assert first.exit_code == 0, first.output
            got = json.loads(first.stdout)
            assert got["by_kind"]["created"] == {"incidents": 1, "sites": 3, "plans": 2}
            again = json.loads(runner.invoke(cli, [*args, "--full"]).stdout)
            assert (again["imported"], again["updated"], again["unchanged"]) == (0, 0, 6)
            env = world.get("analyst-org-b", f"{ALL}/objects/", limit=1000)
            mark = env.headers["X-TAXII-Date-Added-Last"]
            fix = world.client.patch(
                f"/api/v1/sites/{ids['site CLEAR']}",
                json={"name": "site CLEAR moved"},
                headers=world.h("analyst-org-a"),
            )
            assert fix.status_code == 200
            # incremental: only what A added (or re-added as a new version) after ``mark``
            since = json.loads(runner.invoke(cli, [*args, "--added-after", mark]).stdout)
            assert (since["fetched"], since["updated"]) == (1, 1)
            third = json.loads(runner.invoke(cli, [*args, "--full"]).stdout)
            assert third["by_kind"]["updated"] == {"incidents": 0, "sites": 0, "plans": 0}
            assert third["unchanged"] == 6
            naive = runner.invoke(cli, [*args, "--added-after", "2026-01-01T00:00:00"])
            assert naive.exit_code == 2 and "UTC offset" in naive.output
        sites = partner.get("analyst-org-b", "/api/v1/sites").json()["items"]
        marks = sorted((s["name"], s["originator"], s["tlp"], tuple(s["rel_to"])) for s in sites)
        assert marks == [
            ("site AMBER", "ORG-A", "AMBER", ("ORG-B",)),
            ("site AMBER+STRICT", "ORG-A", "AMBER+STRICT", ("ORG-B",)),
            ("site CLEAR moved", "ORG-A", "CLEAR", ()),
        ]
        # on B: ORG-C sees what TLP lets it see; AMBER+STRICT is never passed on by B
        assert partner.get("analyst-org-c", "/api/v1/sites").json()["total"] == 1
        b_out = _bundle(partner, "analyst-org-b", to_org="ORG-C")
        names = _names(b_out["objects"])
        assert names["infrastructure"] == ["site AMBER", "site CLEAR moved"]
        assert names["course-of-action"] == ["plan AMBER", "plan GREEN"]
        # plans arrive as read-only shared summaries keeping A's provenance
        plans_b = [o for o in b_out["objects"] if o["type"] == "course-of-action"]
        assert all(o["x_corridorguard_shared"] for o in plans_b)
        a_ident = {o["id"] for o in b_out["objects"] if o.get("name") == "ORG-A"}
        assert {o["created_by_ref"] for o in plans_b} == a_ident
        assert partner.get("planner-org-b", "/api/v1/plans").json()["total"] == 0
        # the moved site has two versions on B
        moved = next(o for o in b_out["objects"] if o.get("name") == "site CLEAR moved")
        v = partner.get("analyst-org-b", f"{ALL}/objects/{moved['id']}/versions/").json()
        assert len(v["versions"]) == 2
    finally:
        partner.client.close()
        partner.store.close()


def test_pages_keep_incidents_imported_in_the_same_second(world: World) -> None:
    """The CLI's bulk import leaves ``imported_at`` to the database (no microseconds on
    SQLite): keyset pages must neither skip nor repeat records added in the same second."""
    from datetime import UTC, datetime

    from corridorguard.incidents import Incident

    when = datetime(2024, 3, 20, 10, tzinfo=UTC)
    bulk = [
        Incident(source="acled", source_id=str(k), time=when, lon=66.5, lat=25.1, type="raid")
        for k in range(23)
    ]
    assert world.store.incidents.add_many(bulk).imported == 23
    got: list[str] = []
    nxt = None
    while True:
        params: dict[str, Any] = {"limit": 10, "match[type]": "incident"}
        if nxt:
            params["next"] = nxt
        page = world.get("analyst-org-b", f"{ALL}/objects/", **params).json()
        got += [o["id"] for o in page.get("objects", [])]
        if not page["more"]:
            break
        nxt = page["next"]
    assert len(got) == len(set(got)) == 23


def test_a_pull_meeting_an_id_held_from_another_originator_writes_nothing(
    world: World, template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(world)
    partner = copy_world(template, tmp_path / "b")
    monkeypatch.setenv("CORRIDORGUARD_AUDIT_KEY_FILE", str(template.key_file))
    try:
        # on B, ORG-C uploaded A's sites as its own: the same STIX ids, another originator
        bundle = _bundle(world, "analyst-org-b", include=["sites"])
        assert partner.post("analyst-org-c", "/api/v1/stix/bundles", bundle).status_code == 200
        before = partner.get("analyst-org-b", "/api/v1/incidents").json()["total"]
        with live_server(world.client.app) as base:
            args = _sync_args(base, world.tokens["analyst-org-b"], partner.url)
            out = CliRunner().invoke(cli, args)
        assert out.exit_code == 2 and "already held from ORG-C" in out.output
        # atomic: the incident and plans of the same pull were not written either
        assert partner.get("analyst-org-b", "/api/v1/incidents").json()["total"] == before
        assert _bundle(partner, "analyst-org-b", include=["plans"]).get("objects", []) == []
        # ... nor the sync state: the next pull reads from the start again
        with partner.store.read() as conn:
            assert conn.execute(select(SYNC_STATE)).all() == []
    finally:
        partner.client.close()
        partner.store.close()
