"""Edge cases of the audit package, and the LogStore protocol over SQLite with triggers."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from corridorguard.audit import (
    AuditLog,
    Checkpoint,
    CheckpointSigner,
    InclusionProof,
    LogRecord,
    LogStore,
    MemoryLogStore,
    MerkleTree,
    generate_private_key,
    leaf_hash,
    load_private_key_pem,
    load_public_key_pem,
    parse_export_line,
    read_checkpoints,
    read_entries,
    verify_consistency,
    verify_log,
    write_checkpoints,
    write_entries,
)
from corridorguard.audit.verify import records_from_lines
from corridorguard.errors import NotFoundError, ValidationError


class SqliteLogStore:
    """A minimal SQL LogStore, as the server's will be: append-only tables guarded by triggers."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        conn.executescript(
            """
            CREATE TABLE audit_entries (seq INTEGER PRIMARY KEY, data BLOB NOT NULL,
                                        leaf_hash BLOB NOT NULL);
            CREATE TABLE audit_checkpoints (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
            CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_entries
              BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
            CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_entries
              BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
            """
        )

    def append(self, record: LogRecord) -> None:
        with self.conn:
            (n,) = self.conn.execute("SELECT COUNT(*) FROM audit_entries").fetchone()
            if record.index != n:
                raise ValueError("out of order")
            self.conn.execute(
                "INSERT INTO audit_entries VALUES (?, ?, ?)",
                (record.index, record.data, record.leaf_hash),
            )

    def size(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM audit_entries").fetchone()[0])

    def read(self, start: int, stop: int) -> Sequence[LogRecord]:
        rows = self.conn.execute(
            "SELECT seq, data, leaf_hash FROM audit_entries"
            " WHERE seq >= ? AND seq < ? ORDER BY seq",
            (start, stop),
        )
        # a tampered row may come back as TEXT: keep its bytes
        return [
            LogRecord(int(s), d.encode() if isinstance(d, str) else bytes(d), bytes(h))
            for s, d, h in rows
        ]

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT INTO audit_checkpoints (body) VALUES (?)", (checkpoint.to_json(),)
            )

    def checkpoints(self) -> Sequence[Checkpoint]:
        rows = self.conn.execute("SELECT body FROM audit_checkpoints ORDER BY id")
        return [Checkpoint.from_json(b) for (b,) in rows]


def test_sql_store_behind_the_protocol() -> None:
    conn = sqlite3.connect(":memory:")
    store = SqliteLogStore(conn)
    assert isinstance(store, LogStore)
    signer = CheckpointSigner(generate_private_key())
    log = AuditLog(store, signer=signer, checkpoint_every=25)
    for i in range(60):
        log.append("plan.approve", actor="cmdr", org="ORG-A", target=f"plan/{i}")
    reopened = AuditLog(SqliteLogStoreView(conn), signer=signer)
    assert reopened.root() == log.root() and reopened.size == 60
    assert verify_log(store.read(0, 60), signer.public_key, store.checkpoints()).ok
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit_entries SET data = x'00' WHERE seq = 3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit_entries WHERE seq = 59")
    # a DBA who drops the trigger and edits a row is still caught by the verifier
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit_entries SET data = replace(data, 'plan/7', 'plan/8') WHERE seq = 7")
    result = verify_log(store.read(0, 60), signer.public_key, store.checkpoints())
    assert not result.ok and result.first_bad == 7


class SqliteLogStoreView(SqliteLogStore):
    """The same tables, opened again (no DDL)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn


def test_tree_edges() -> None:
    with pytest.raises(ValueError):
        MerkleTree([b"short"])
    t = MerkleTree([leaf_hash(b"a"), leaf_hash(b"b")])
    assert len(t) == 2
    assert not verify_consistency(1.0, 2, t.root(1), t.root(), [])  # type: ignore[arg-type]


def test_non_ed25519_keys_are_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    priv = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pub = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValidationError, match="Ed25519"):
        load_private_key_pem(priv)
    with pytest.raises(ValidationError, match="Ed25519"):
        load_public_key_pem(pub)


def test_export_lines_and_files(tmp_path: Path) -> None:
    signer = CheckpointSigner(generate_private_key())
    log = AuditLog.__new__(AuditLog)

    log = AuditLog(MemoryLogStore(), signer=signer)
    for i in range(5):
        log.append("login", actor=f"u{i}")
    cp = log.checkpoint()
    recs = log.store.read(0, 5)
    line = recs[2].to_line()
    assert json.loads(line) == {"entry": recs[2].entry(), "leaf": recs[2].leaf_hash.hex()}
    assert rfc8785.dumps(json.loads(line)) == line  # canonical
    assert parse_export_line(2, line + b"\n") == recs[2]
    assert parse_export_line(2, line.decode()) == recs[2]
    assert (
        parse_export_line(
            2,
            line.replace(
                recs[2].leaf_hash.hex().encode(), recs[2].leaf_hash.hex().upper().encode()
            ),
        )
        is None
    )
    assert parse_export_line(2, b"{}") is None
    assert parse_export_line(2, line[:-70] + b"x" * 70) is None
    # a record served from a store at the wrong index
    moved = LogRecord(3, recs[2].data, recs[2].leaf_hash)
    assert verify_log([recs[0], recs[1], moved], signer.public_key, []).first_bad == 2
    entries = tmp_path / "e.jsonl"
    assert write_entries(entries, recs) == 5
    entries.write_bytes(entries.read_bytes().rstrip(b"\n"))  # no final newline is fine too
    assert len(read_entries(entries)) == 5
    assert verify_log(read_entries(entries), signer.public_key, [cp]).ok
    with pytest.raises(ValidationError):
        records_from_lines([line, b"junk"])
    cps = tmp_path / "c.json"
    cps.write_text(json.dumps([cp.to_dict()]))
    assert read_checkpoints(cps) == [cp]
    cps.write_text("[not json")
    with pytest.raises(ValidationError):
        read_checkpoints(cps)
    cps.write_bytes(b"\xff\xfe")
    with pytest.raises(ValidationError):
        read_checkpoints(cps)
    with pytest.raises(NotFoundError):
        read_checkpoints(tmp_path / "missing")
    write_checkpoints(cps, [cp, cp])
    assert read_checkpoints(cps) == [cp, cp]
    with pytest.raises(ValidationError):
        InclusionProof.from_dict({"type": "consistency"})
    with pytest.raises(ValidationError):
        InclusionProof.from_dict(
            {
                "type": "inclusion",
                "index": 0,
                "size": 1,
                "leaf_hash": "00",
                "root": "00",
                "proof": "ab",
            }
        )
