"""AuditLog over a store: appends, roots, proofs, checkpoints, reopening."""

from __future__ import annotations

import dataclasses
import json

import pytest

from corridorguard.audit import (
    AuditLog,
    Checkpoint,
    CheckpointSigner,
    ConsistencyProof,
    InclusionProof,
    LogStore,
    MemoryLogStore,
    canonical_json,
    generate_private_key,
    key_id,
    leaf_hash,
    load_private_key_pem,
    load_public_key_pem,
    make_entry,
    private_key_pem,
    public_key_pem,
    verify_log,
)
from corridorguard.errors import ConflictError, NotFoundError, ValidationError


@pytest.fixture
def signer() -> CheckpointSigner:
    return CheckpointSigner(generate_private_key(), log="test-log")


def _fill(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.append("incident.create", actor=f"u{i % 3}", org="ORG-A", target=f"incident/{i}")


def test_entries_are_canonical_json_leaves(signer: CheckpointSigner) -> None:
    log = AuditLog(MemoryLogStore(), signer=signer)
    rec = log.append(
        "login", actor="alice", org="A", detail={"b": 1, "a": "é"}, time="2026-01-01T00:00:00Z"
    )
    assert rec.index == 0
    assert rec.data == canonical_json(json.loads(rec.data))
    assert rec.data.startswith(b'{"action":"login","actor":"alice","detail":{"a":"\xc3\xa9","b":1}')
    assert rec.leaf_hash == leaf_hash(rec.data)
    assert rec.entry()["seq"] == 0
    assert log.root() == leaf_hash(rec.data)


def test_store_protocol_and_append_order() -> None:
    store = MemoryLogStore()
    assert isinstance(store, LogStore)
    log = AuditLog(store)
    _fill(log, 3)
    with pytest.raises(ConflictError):
        store.append(log.record(0))  # index 0 again
    with pytest.raises(ValidationError):
        log.append_entry(make_entry(7, action="x"))
    with pytest.raises(ValidationError):
        make_entry(0, action="")
    with pytest.raises(ValidationError):
        log.checkpoint()  # no signer
    with pytest.raises(ValidationError):
        canonical_json({"bad": float("nan")})


def test_proofs_from_the_log_verify(signer: CheckpointSigner) -> None:
    log = AuditLog(MemoryLogStore(), signer=signer)
    _fill(log, 57)
    cp_old = log.checkpoint()
    _fill(log, 40)
    cp_new = log.checkpoint()
    for index in (0, 13, 56):
        proof = InclusionProof(
            index, cp_new.size, log.record(index).leaf_hash, cp_new.root, log.inclusion_proof(index)
        )
        assert proof.verify()
        assert InclusionProof.from_dict(json.loads(json.dumps(proof.to_dict()))) == proof
    cons = ConsistencyProof(
        cp_old.size, cp_new.size, cp_old.root, cp_new.root, log.consistency_proof(cp_old.size)
    )
    assert cons.verify()
    assert ConsistencyProof.from_dict(cons.to_dict()).verify()
    assert log.root(cp_old.size) == cp_old.root
    with pytest.raises(NotFoundError):
        log.inclusion_proof(97)
    with pytest.raises(NotFoundError):
        log.consistency_proof(98)
    with pytest.raises(NotFoundError):
        log.root(200)
    with pytest.raises(NotFoundError):
        log.record(-1)
    with pytest.raises(ValidationError):
        InclusionProof.from_dict({"type": "inclusion", "index": "1"})
    with pytest.raises(ValidationError):
        ConsistencyProof.from_dict({"type": "inclusion"})
    with pytest.raises(ValidationError):
        InclusionProof.from_dict({**proof.to_dict(), "proof": ["zz"]})


def test_reopening_rebuilds_the_same_tree(signer: CheckpointSigner) -> None:
    store = MemoryLogStore()
    log = AuditLog(store, signer=signer)
    _fill(log, 1000)
    root = log.root()
    again = AuditLog(store, signer=signer)
    assert again.size == 1000
    assert again.root() == root
    assert again.inclusion_proof(321) == log.inclusion_proof(321)


def test_automatic_checkpoints_by_count_and_time(signer: CheckpointSigner) -> None:
    now = [0.0]
    log = AuditLog(
        MemoryLogStore(),
        signer=signer,
        checkpoint_every=10,
        checkpoint_seconds=60,
        clock=lambda: now[0],
    )
    _fill(log, 25)
    assert [c.size for c in log.store.checkpoints()] == [10, 20]
    now[0] = 61.0
    _fill(log, 1)
    assert [c.size for c in log.store.checkpoints()] == [10, 20, 26]
    latest = log.latest_checkpoint()
    assert latest is not None and latest.verify(signer.public_key)
    with pytest.raises(ValidationError):
        AuditLog(MemoryLogStore(), checkpoint_every=0)


def test_checkpoint_if_idle_only_when_pending_and_due(signer: CheckpointSigner) -> None:
    now = [0.0]
    log = AuditLog(MemoryLogStore(), signer=signer, checkpoint_seconds=30, clock=lambda: now[0])
    assert log.seconds_until_due() == 30 and log.checkpoint_if_idle() is None
    now[0] = 31.0
    assert log.checkpoint_if_idle() is None  # due, but nothing pending: a new period starts
    _fill(log, 3)
    assert log.store.checkpoints() == [] and log.checkpoint_if_idle() is None  # not due
    now[0] = 60.0
    assert log.checkpoint_if_idle() is None  # 29 s since the last one
    now[0] = 61.5
    cp = log.checkpoint_if_idle()
    assert cp is not None and cp.size == 3 and cp.verify(signer.public_key)
    now[0] = 200.0
    assert log.checkpoint_if_idle() is None  # idle: nothing new to sign
    assert AuditLog(MemoryLogStore(), signer=signer).seconds_until_due() is None
    assert AuditLog(MemoryLogStore(), checkpoint_seconds=5).checkpoint_if_idle() is None


def test_checkpoint_signature_format_and_key_id(signer: CheckpointSigner) -> None:
    cp = signer.sign(5, bytes(32), time="2026-11-27T00:00:00Z")
    obj = json.loads(cp.to_json())
    assert set(obj) == {"format", "log", "size", "root", "time", "key_id", "signature"}
    assert obj["format"] == "corridorguard-checkpoint/1"
    assert obj["key_id"] == key_id(signer.public_key) and len(obj["key_id"]) == 16
    back = Checkpoint.from_json(cp.to_json())
    assert back == cp and back.verify(signer.public_key)
    other = CheckpointSigner(generate_private_key())
    assert not cp.verify(other.public_key)
    for field, value in [
        ("size", 6),
        ("root", bytes(31) + b"\x01"),
        ("time", "2026-11-27T00:00:01Z"),
    ]:
        forged = dataclasses.replace(cp, **{field: value})
        assert not forged.verify(signer.public_key), field


def test_checkpoint_parse_errors() -> None:
    with pytest.raises(ValidationError):
        Checkpoint.from_json("not json")
    with pytest.raises(ValidationError):
        Checkpoint.from_json("[]")
    with pytest.raises(ValidationError):
        Checkpoint.from_dict({"format": "other"})
    good = CheckpointSigner(generate_private_key()).sign(1, bytes(32)).to_dict()
    for bad in ({**good, "size": -1}, {**good, "root": "ab"}, {**good, "signature": "!!"}):
        with pytest.raises(ValidationError):
            Checkpoint.from_dict(bad)
    missing = dict(good)
    del missing["time"]
    with pytest.raises(ValidationError):
        Checkpoint.from_dict(missing)


def test_pem_round_trip() -> None:
    key = generate_private_key()
    assert load_private_key_pem(private_key_pem(key)).public_key() == key.public_key()
    assert load_public_key_pem(public_key_pem(key.public_key())) == key.public_key()
    with pytest.raises(ValidationError):
        load_public_key_pem(b"junk")
    with pytest.raises(ValidationError):
        load_private_key_pem(b"junk")
    with pytest.raises(ValidationError):
        load_public_key_pem(private_key_pem(key))


def test_verify_works_on_store_records(signer: CheckpointSigner) -> None:
    log = AuditLog(MemoryLogStore(), signer=signer, checkpoint_every=16)
    _fill(log, 100)
    result = verify_log(log.store.read(0, log.size), signer.public_key, log.store.checkpoints())
    assert result.ok and result.entries == 100 and result.first_bad is None
    assert result.covered == 96 and result.checkpoints == 6


def test_two_writers_on_one_store_refresh_and_retry(signer: CheckpointSigner) -> None:
    store = MemoryLogStore()
    one, two = AuditLog(store, signer=signer), AuditLog(store, signer=signer)
    one.append("login", actor="a")
    with pytest.raises(ConflictError):
        two.append("login", actor="b")  # two's tree is stale: index 0 is taken
    assert two.refresh() == 1
    two.append("login", actor="b")
    assert one.refresh() == 2 and one.root() == two.root()
    assert one.refresh() == 2  # nothing new
    assert verify_log(store.read(0, 2), signer.public_key, [two.checkpoint()]).ok
