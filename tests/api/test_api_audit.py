"""The audit log in the database: append-only, signed checkpoints, proofs, ``audit verify --db``."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from api_world import Template, World, incident, live_server
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from corridorguard.api import create_app
from corridorguard.api.config import ServerSettings
from corridorguard.audit.checkpoint import Checkpoint
from corridorguard.audit.verify import ConsistencyProof, InclusionProof
from corridorguard.cli import app as cli
from corridorguard.store import open_store

runner = CliRunner()


def _fill(w: World, n: int = 12) -> None:
    for i in range(n):
        assert (
            w.post("reporter-org-a", "/api/v1/incidents", incident(type=f"t{i}")).status_code == 201
        )


def verify(w: World, monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict]:
    monkeypatch.setenv("CORRIDORGUARD_AUDIT_KEY_FILE", str(w.key_file))
    res = runner.invoke(cli, ["audit", "verify", "--db", w.url, "--json"])
    return res.exit_code, json.loads(res.stdout)


def test_audit_tables_refuse_update_and_delete(world: World) -> None:
    _fill(world, 2)
    assert world.get("analyst-org-a", "/api/v1/audit/checkpoint").status_code == 200
    for sql in (
        "UPDATE audit_entries SET data = x'00' WHERE seq = 0",
        "DELETE FROM audit_entries WHERE seq = 0",
        "DELETE FROM audit_checkpoints",
        "UPDATE audit_checkpoints SET size = 0",
    ):
        with pytest.raises(DBAPIError, match="append-only"), world.store.write() as conn:
            conn.execute(text(sql))


def test_checkpoint_and_proofs_verify_against_it(world: World) -> None:
    _fill(world)
    cp = Checkpoint.from_dict(world.get("analyst-org-b", "/api/v1/audit/checkpoint").json())
    assert cp.verify(world.key.public_key())
    pem = world.get("analyst-org-b", "/api/v1/audit/public-key").text
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    for index in (0, cp.size // 2, cp.size - 1):
        got = world.get("analyst-org-b", "/api/v1/audit/proof/inclusion", index=index, size=cp.size)
        proof = InclusionProof.from_dict(got.json())
        assert proof.root == cp.root and proof.verify()
    old = world.get("analyst-org-b", "/api/v1/audit/checkpoints").json()[0]
    old_cp = Checkpoint.from_dict(old)
    _fill(world, 3)
    new_cp = Checkpoint.from_dict(world.get("analyst-org-b", "/api/v1/audit/checkpoint").json())
    got = world.get(
        "analyst-org-b", "/api/v1/audit/proof/consistency", old=old_cp.size, new=new_cp.size
    )
    proof = ConsistencyProof.from_dict(got.json())
    assert proof.old_root == old_cp.root and proof.new_root == new_cp.root and proof.verify()
    bad = world.get("analyst-org-b", "/api/v1/audit/proof/inclusion", index=10**6)
    assert bad.status_code == 404


def test_entries_are_for_oversight_and_admins(world: World) -> None:
    _fill(world, 2)
    got = world.get("oversight-board", "/api/v1/audit/entries", limit=5)
    assert got.status_code == 200 and got.json()["entries"][0]["entry"]["seq"] == 0
    assert world.get("admin-org-a", "/api/v1/audit/entries").status_code == 200
    assert world.get("analyst-org-a", "/api/v1/audit/entries").status_code == 403


def test_verify_db_ok_then_detects_a_changed_row(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(world, 30)  # checkpoints every 25 entries
    code, out = verify(world, monkeypatch)
    assert code == 0 and out["ok"] and out["first_bad"] is None and out["entries"] > 30
    with world.store.write() as conn:  # an operator with database access, triggers dropped
        conn.execute(text("DROP TRIGGER audit_entries_no_update"))
        row = conn.execute(text("SELECT data FROM audit_entries WHERE seq = 7")).scalar_one()
        forged = bytes(row).replace(b'"outcome":"ok"', b'"outcome":"no"')
        assert forged != bytes(row)
        conn.execute(text("UPDATE audit_entries SET data = :d WHERE seq = 7"), {"d": forged})
    code, out = verify(world, monkeypatch)
    assert code == 1 and out["ok"] is False and out["first_bad"] == 7


def test_verify_db_detects_a_rewrite_with_recomputed_hashes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from corridorguard.audit.merkle import leaf_hash

    _fill(world, 30)
    with world.store.write() as conn:
        conn.execute(text("DROP TRIGGER audit_entries_no_update"))
        row = conn.execute(text("SELECT data FROM audit_entries WHERE seq = 3")).scalar_one()
        forged = bytes(row).replace(b'"outcome":"ok"', b'"outcome":"no"')
        conn.execute(
            text("UPDATE audit_entries SET data = :d, leaf_hash = :h WHERE seq = 3"),
            {"d": forged, "h": leaf_hash(forged)},
        )
    code, out = verify(world, monkeypatch)
    assert code == 1 and out["first_bad"] == 0  # no signed checkpoint vouches for 0.. now


def test_verify_db_detects_a_deleted_row(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    _fill(world, 5)
    with world.store.write() as conn:
        conn.execute(text("DROP TRIGGER audit_entries_no_delete"))
        conn.execute(text("DELETE FROM audit_entries WHERE seq = 2"))
    code, out = verify(world, monkeypatch)
    assert code == 1 and out["first_bad"] == 2


# ----------------------------------------------- audit prove / consistency: --db and --url


def _kept(w: World, tmp_path: Path, n: int = 1) -> Path:
    """The first ``n`` checkpoints the server served, kept in a file by an outside body."""
    cps = w.get("oversight-board", "/api/v1/audit/checkpoints").json()[:n]
    path = tmp_path / "kept.jsonl"
    path.write_text("".join(json.dumps(cp) + "\n" for cp in cps))
    return path


def _pub(w: World, tmp_path: Path) -> Path:
    path = tmp_path / "audit.pub.pem"
    path.write_text(w.get("oversight-board", "/api/v1/audit/public-key").text)
    return path


def _cli(*args: str) -> tuple[int, dict[str, Any]]:
    res = runner.invoke(cli, ["audit", *args, "--json"])
    return res.exit_code, json.loads(res.stdout)


def test_prove_and_consistency_from_the_database(world: World, tmp_path: Path) -> None:
    _fill(world, 30)  # checkpoints every 25 entries
    kept, pub = _kept(world, tmp_path), _pub(world, tmp_path)
    db = ["--db", world.url, "-c", str(kept), "-k", str(pub)]
    code, out = _cli("prove", "7", *db)
    assert code == 0 and out["ok"] and out["entry_checked"], out
    assert out["proof"]["size"] == 25 and out["proof"]["index"] == 7
    code, out = _cli("consistency", *db, "--keep")
    assert code == 0 and out["ok"] and out["proof"]["old_size"] == 25, out
    assert len(kept.read_text().splitlines()) == 1  # the newest is 25 until more entries arrive
    _fill(world, 25)
    code, out = _cli("consistency", *db, "--keep")
    assert code == 0 and out["proof"]["new_size"] >= 50, out
    assert len(kept.read_text().splitlines()) == 2
    # an operator rewrites entry 3 and its stored leaf hash: nothing proves any more
    from corridorguard.audit.merkle import leaf_hash

    with world.store.write() as conn:
        conn.execute(text("DROP TRIGGER audit_entries_no_update"))
        row = conn.execute(text("SELECT data FROM audit_entries WHERE seq = 3")).scalar_one()
        forged = bytes(row).replace(b'"outcome":"ok"', b'"outcome":"no"')
        conn.execute(
            text("UPDATE audit_entries SET data = :d, leaf_hash = :h WHERE seq = 3"),
            {"d": forged, "h": leaf_hash(forged)},
        )
    code, out = _cli("prove", "3", *db)
    assert code == 1 and "differs from its signed checkpoint" in out["reason"]
    code, out = _cli("consistency", *db)
    assert code == 1 and not out["ok"]


def test_prove_and_consistency_against_a_running_server(world: World, tmp_path: Path) -> None:
    _fill(world, 30)
    kept, pub = _kept(world, tmp_path), _pub(world, tmp_path)
    with live_server(world.client.app) as base:
        common = ["--url", base, "-c", str(kept), "-k", str(pub)]
        tok = world.tokens["oversight-board"]
        code, out = _cli("prove", "11", *common, "--token", tok)
        assert code == 0 and out["ok"] and out["entry_checked"], out
        # an analyst may not read entries: the proof still checks, the entry bytes are not
        code, out = _cli("prove", "11", *common, "--token", world.tokens["analyst-org-b"])
        assert code == 0 and out["ok"] and not out["entry_checked"], out
        _fill(world, 3)  # the server signs a fresh checkpoint on request
        code, out = _cli("consistency", *common, "--token", tok, "--keep")
        assert code == 0 and out["proof"]["old_size"] == 25, out
        newest = Checkpoint.from_json(kept.read_text().splitlines()[-1])
        assert newest.size == out["proof"]["new_size"] > 30
        last = str(newest.size - 1)
        code, out = _cli("prove", last, *common, "--token", tok)  # anchored by the kept one
        assert code == 0 and out["proof"]["size"] == newest.size, out
        code, out = _cli("prove", "1", *common)  # no token: 401 is an input error (exit 2)
        assert code == 2 and out["error"] == "forbidden" and "401" in out["message"], out
    code, out = _cli("prove", "1", "--url", "file:///etc/passwd", "-k", str(pub))
    assert code == 2


def _flip(hex_text: str, bit: int = 0) -> str:
    raw = bytearray(bytes.fromhex(hex_text))
    raw[bit // 8 % len(raw)] ^= 1 << (bit % 8)
    return raw.hex()


def _corrupt_inclusion(p: dict[str, Any]) -> list[dict[str, Any]]:
    """The transparency-dev probe families for one inclusion proof."""
    out = [
        {**p, "index": p["index"] + 1},
        {**p, "index": p["index"] - 1},
        {**p, "index": p["index"] ^ 2},
        {**p, "size": p["size"] * 2},
        {**p, "size": p["size"] // 2},
        {**p, "root": "00" * 32},
        {**p, "root": p["leaf_hash"]},
        {**p, "leaf_hash": _flip(p["leaf_hash"])},
        {**p, "proof": []},
        {**p, "proof": p["proof"][1:]},
        {**p, "proof": p["proof"][:-1]},
        {**p, "proof": [p["proof"][0], *p["proof"]]},
        {**p, "proof": [*p["proof"], "00" * 32]},
        {**p, "proof": ["00" * 32, *p["proof"]]},
        {**p, "proof": p["proof"][::-1]},
    ]
    for k in range(len(p["proof"])):
        for bit in (0, 255):
            path = list(p["proof"])
            path[k] = _flip(path[k], bit)
            out.append({**p, "proof": path})
    return out


def _corrupt_consistency(p: dict[str, Any]) -> list[dict[str, Any]]:
    out = [
        {**p, "old_size": p["old_size"] + 1},
        {**p, "old_size": p["old_size"] - 1},
        {**p, "new_size": p["new_size"] * 2},
        {**p, "new_size": p["new_size"] - 1},
        {**p, "old_root": p["new_root"], "new_root": p["old_root"]},
        {**p, "old_root": _flip(p["old_root"])},
        {**p, "new_root": _flip(p["new_root"], 77)},
        {**p, "proof": []},
        {**p, "proof": p["proof"][1:]},
        {**p, "proof": p["proof"][:-1]},
        {**p, "proof": [*p["proof"], p["proof"][-1]]},
        {**p, "proof": ["00" * 32, *p["proof"]]},
        {**p, "proof": p["proof"][::-1]},
    ]
    for k in range(len(p["proof"])):
        path = list(p["proof"])
        path[k] = _flip(path[k], 3 * k)
        out.append({**p, "proof": path})
    return out


def _corrupt_checkpoint(cp: dict[str, Any], key: Any) -> list[dict[str, Any]]:
    """Each field changed (signature no longer verifies) and a validly signed split view."""
    from corridorguard.audit.checkpoint import CheckpointSigner

    sig = bytearray(base64.b64decode(cp["signature"]))
    sig[5] ^= 0x10
    forged = CheckpointSigner(key).sign(cp["size"], bytes(32)).to_dict()
    return [
        {**cp, "size": cp["size"] + 1},
        {**cp, "root": _flip(cp["root"], 9)},
        {**cp, "time": "2020-01-01T00:00:00.000000Z"},
        {**cp, "log": "another-log"},
        {**cp, "key_id": "00" * 8},
        {**cp, "signature": base64.b64encode(bytes(sig)).decode()},
        forged,  # signed by the real key, another root: a split view
    ]


def test_every_corrupted_proof_and_checkpoint_is_rejected_by_the_cli(
    world: World, tmp_path: Path
) -> None:
    _fill(world, 40)
    assert world.get("oversight-board", "/api/v1/audit/checkpoint").status_code == 200
    cps = world.get("oversight-board", "/api/v1/audit/checkpoints").json()
    kept = tmp_path / "kept.jsonl"
    kept.write_text("".join(json.dumps(cp) + "\n" for cp in cps))
    pub = _pub(world, tmp_path)
    old, new = cps[0]["size"], cps[-1]["size"]
    assert 0 < old < new
    inc = world.get("oversight-board", "/api/v1/audit/proof/inclusion", index=13, size=new).json()
    con = world.get("oversight-board", "/api/v1/audit/proof/consistency", old=old, new=new).json()
    pf = tmp_path / "proof.json"
    anchors = ["-c", str(kept), "-k", str(pub)]
    for verb, good, bad in (
        ("prove", inc, _corrupt_inclusion(inc)),
        ("consistency", con, _corrupt_consistency(con)),
    ):
        pf.write_text(json.dumps(good))
        code, out = _cli(verb, "--proof", str(pf), *anchors)
        assert code == 0 and out["ok"], out
        assert len(bad) >= 13
        for probe in bad:
            pf.write_text(json.dumps(probe))
            code, out = _cli(verb, "--proof", str(pf), *anchors)
            assert code == 1 and out["ok"] is False and out["reason"], (verb, probe, out)
    # the good proofs against corrupted kept checkpoints
    for k, cp in enumerate(cps):
        for probe in _corrupt_checkpoint(cp, world.key):
            bad_kept = tmp_path / f"bad-{k}.jsonl"
            rows = [json.dumps(c) for c in cps]
            if probe["signature"] == cp["signature"] or probe["key_id"] != cp["key_id"]:
                rows[k] = json.dumps(probe)  # changed in place: its signature fails
            else:
                rows.append(json.dumps(probe))  # a second signed root for one size
            bad_kept.write_text("\n".join(rows) + "\n")
            for verb, good in (("prove", inc), ("consistency", con)):
                pf.write_text(json.dumps(good))
                code, out = _cli(verb, "--proof", str(pf), "-c", str(bad_kept), "-k", str(pub))
                assert code == 1 and out["ok"] is False, (verb, k, probe, out)


def test_idle_checkpoint_timer_signs_pending_entries_without_further_writes(
    template: Template, tmp_path: Path
) -> None:
    import time

    shutil.copyfile(template.path, tmp_path / "idle.sqlite3")
    url = f"sqlite:///{tmp_path / 'idle.sqlite3'}"
    settings = ServerSettings(
        audit_key_file=str(template.key_file),
        audit_checkpoint_every=10_000,
        audit_checkpoint_seconds=0.3,
    )
    with open_store(url) as store:
        app = create_app(url, store=store, server_settings=settings)
        audit = app.state.ctx.audit
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {template.tokens['reporter-org-a']}"}
            assert client.post("/api/v1/incidents", json=incident(), headers=headers).is_success
            size = audit.log.size
            deadline = time.monotonic() + 10
            while not audit.sql.checkpoints() and time.monotonic() < deadline:
                time.sleep(0.05)
            cps = audit.sql.checkpoints()
            assert [cp.size for cp in cps] == [size]  # signed by the timer, no request needed
            assert cps[0].verify(template.key.public_key())
            time.sleep(1.0)  # idle: nothing pending, no new checkpoints
            assert len(audit.sql.checkpoints()) == 1
            assert client.post("/api/v1/incidents", json=incident(), headers=headers).is_success
            deadline = time.monotonic() + 10
            while len(audit.sql.checkpoints()) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert audit.sql.checkpoints()[-1].size == audit.log.size > size
        # the lifespan ended cleanly (no warnings under filterwarnings=error); off with 0 s
        off = ServerSettings(audit_key_file=str(template.key_file), audit_checkpoint_seconds=0)
        app = create_app(url, store=store, server_settings=off)
        assert app.state.ctx.audit.timer_interval() is None
        with TestClient(app) as client:
            assert client.get("/api/v1/openapi.json").status_code == 200
