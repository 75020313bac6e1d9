"""The audit log in the database: append-only, signed checkpoints, proofs, ``audit verify --db``."""

from __future__ import annotations

import json

import pytest
from api_world import World, incident
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from corridorguard.audit.checkpoint import Checkpoint
from corridorguard.audit.verify import ConsistencyProof, InclusionProof
from corridorguard.cli import app as cli

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
