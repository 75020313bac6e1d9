"""TAXII 2.1 read by ``taxii2-client`` from a real uvicorn server, and partner sync."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_world import Template, World, copy_world, incident, live_server
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages
from typer.testing import CliRunner

from corridorguard.api.routes.taxii import ALL_COLLECTION, collection_id
from corridorguard.api.sync import BearerAuth
from corridorguard.cli import app as cli


def _seed(w: World) -> dict[str, int]:
    ids = {}
    for tlp, rel in [
        ("CLEAR", []),
        ("GREEN", []),
        ("AMBER", ["ORG-B"]),
        ("AMBER+STRICT", ["ORG-B"]),
        ("AMBER", []),
        ("RED", []),
    ]:
        r = w.post(
            "analyst-org-a", "/api/v1/incidents", incident(tlp, rel_to=rel, type=f"{tlp}-{rel}")
        )
        assert r.status_code == 201
        ids[f"{tlp}-{rel}"] = r.json()["id"]
    return ids


def test_taxii2_client_reads_discovery_collections_and_pages(world: World) -> None:
    _seed(world)
    auth = BearerAuth(world.tokens["analyst-org-b"])
    with live_server(world.client.app) as base:
        server = Server(f"{base}/taxii2/", auth=auth)
        assert server.title == "corridorguard TAXII 2.1"
        root = server.api_roots[0]
        assert isinstance(root, ApiRoot) and root.versions == ["application/taxii+json;version=2.1"]
        titles = {c.title: c for c in root.collections}
        assert {"all", "to-ORG-A", "to-ORG-B", "to-ORG-C"} <= set(titles)
        coll = Collection(f"{base}/taxii2/api1/collections/{ALL_COLLECTION}/", auth=auth)
        pages = list(as_pages(coll.get_objects, per_request=5))
        assert len(pages) >= 4  # one incident per page at limit 5
        names = sorted(
            o["name"] for p in pages for o in p.get("objects", []) if o["type"] == "incident"
        )
        # ORG-B sees CLEAR, GREEN and the two released to it; not AMBER without REL-TO, not RED
        assert names == sorted(
            ["CLEAR-[]", "GREEN-[]", "AMBER-['ORG-B']", "AMBER+STRICT-['ORG-B']"]
        )
        later = coll.get_objects(added_after="2999-01-01T00:00:00Z")
        assert later.get("objects", []) == [] and later["more"] is False
        to_c = Collection(f"{base}/taxii2/api1/collections/{collection_id('ORG-C')}/", auth=auth)
        passed = sorted(
            o["name"] for o in to_c.get_objects().get("objects", []) if o["type"] == "incident"
        )
        assert passed == sorted(["CLEAR-[]", "GREEN-[]", "AMBER-['ORG-B']"])  # not AMBER+STRICT


def test_partner_sync_pull_is_idempotent_and_keeps_markings(
    world: World, template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(world)
    partner = copy_world(template, tmp_path / "b")  # instance B (same user names: a copy)
    monkeypatch.setenv("CORRIDORGUARD_AUDIT_KEY_FILE", str(template.key_file))
    runner = CliRunner()
    try:
        with live_server(world.client.app) as base:
            args = [
                "sync",
                "pull",
                "--from",
                base,
                "--collection",
                collection_id("ORG-B"),
                "--token",
                world.tokens["analyst-org-b"],
                "--db",
                partner.url,
                "--json",
            ]
            first = runner.invoke(cli, args)
            assert first.exit_code == 0, first.output
            got = json.loads(first.stdout)
            assert {k: got[k] for k in ("fetched", "imported", "updated", "unchanged")} == {
                "fetched": 4, "imported": 4, "updated": 0, "unchanged": 0,
            }  # fmt: skip
            again = json.loads(runner.invoke(cli, [*args, "--full"]).stdout)
            assert {k: again[k] for k in ("fetched", "imported", "updated", "unchanged")} == {
                "fetched": 4, "imported": 0, "updated": 0, "unchanged": 4,
            }  # fmt: skip
            # incremental by default: B remembers A's date added of the last object taken
            assert got["added_after"] is None and got["last_added"] is not None
            quiet = json.loads(runner.invoke(cli, args).stdout)
            assert (quiet["fetched"], quiet["added_after"]) == (0, got["last_added"])
            new = incident("GREEN", type="GREEN-later")
            assert world.post("analyst-org-a", "/api/v1/incidents", new).status_code == 201
            later = json.loads(runner.invoke(cli, args).stdout)
            assert (later["fetched"], later["imported"]) == (1, 1)
            assert later["last_added"] > got["last_added"]
            assert json.loads(runner.invoke(cli, args).stdout)["fetched"] == 0
        got = partner.get("analyst-org-b", "/api/v1/incidents", limit=100).json()["items"]
        assert [i["type"] for i in got].count("GREEN-later") == 1
        got = [i for i in got if i["type"] != "GREEN-later"]
        marks = sorted((i["originator"], i["tlp"], tuple(i["rel_to"]), i["source"]) for i in got)
        assert marks == sorted(
            [
                ("ORG-A", "CLEAR", (), "taxii"),
                ("ORG-A", "GREEN", (), "taxii"),
                ("ORG-A", "AMBER", ("ORG-B",), "taxii"),
                ("ORG-A", "AMBER+STRICT", ("ORG-B",), "taxii"),
            ]
        )
        # on B, ORG-C sees only what TLP lets it see
        assert partner.get("analyst-org-c", "/api/v1/incidents").json()["total"] == 3
    finally:
        partner.client.close()
        partner.store.close()


def test_taxii_needs_a_token(world: World) -> None:
    r = world.client.get("/taxii2/")
    assert r.status_code == 401
    r = world.get("analyst-org-a", "/taxii2/api1/collections/nope/objects/")
    assert r.status_code == 404
