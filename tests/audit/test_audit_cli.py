"""``corridorguard audit keygen|verify|prove|consistency`` on exported files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corridorguard.audit import (
    AuditLog,
    CheckpointSigner,
    MemoryLogStore,
    generate_private_key,
    public_key_pem,
    write_checkpoints,
    write_entries,
)
from corridorguard.cli import app

runner = CliRunner()


@pytest.fixture
def export(tmp_path: Path) -> dict[str, Path]:
    signer = CheckpointSigner(generate_private_key(), log="cli-test")
    log = AuditLog(MemoryLogStore(), signer=signer, checkpoint_every=50)
    for i in range(130):
        log.append("incident.create", actor="u", org="A", target=f"incident/{i}")
    paths = {
        "entries": tmp_path / "entries.jsonl",
        "checkpoints": tmp_path / "checkpoints.jsonl",
        "key": tmp_path / "audit.pub.pem",
    }
    write_entries(paths["entries"], log.store.read(0, log.size))
    write_checkpoints(paths["checkpoints"], log.store.checkpoints())
    paths["key"].write_bytes(public_key_pem(signer.public_key))
    return paths


def _args(p: dict[str, Path], *extra: str) -> list[str]:
    return ["--checkpoints", str(p["checkpoints"]), "--key", str(p["key"]), *extra]


def test_verify_ok_and_json_shape(export: dict[str, Path]) -> None:
    res = runner.invoke(
        app, ["audit", "verify", "--entries", str(export["entries"]), *_args(export), "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["ok"] is True and out["entries"] == 130 and out["first_bad"] is None
    res = runner.invoke(app, ["audit", "verify", "-e", str(export["entries"]), *_args(export)])
    assert res.exit_code == 0 and "ok: 130 entries" in res.output


def test_verify_tampered_exits_1(export: dict[str, Path]) -> None:
    lines = export["entries"].read_bytes().split(b"\n")
    lines[42] = lines[42].replace(b"incident/42", b"incident/43")
    export["entries"].write_bytes(b"\n".join(lines))
    res = runner.invoke(
        app, ["audit", "verify", "-e", str(export["entries"]), *_args(export), "--json"]
    )
    assert res.exit_code == 1
    out = json.loads(res.output)
    assert out == {**out, "ok": False, "entries": 130, "first_bad": 42}
    res = runner.invoke(app, ["audit", "verify", "-e", str(export["entries"]), *_args(export)])
    assert res.exit_code == 1 and "first bad entry 42" in res.output


def test_prove_and_check_a_proof_file(export: dict[str, Path], tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["audit", "prove", "17", "-e", str(export["entries"]), *_args(export), "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["ok"] and out["proof"]["size"] == 100 and out["proof"]["index"] == 17
    proof_file = tmp_path / "proof.json"
    proof_file.write_text(json.dumps(out["proof"]))
    res = runner.invoke(app, ["audit", "prove", "--proof", str(proof_file), *_args(export)])
    assert res.exit_code == 0, res.output
    bad = dict(out["proof"])
    bad["index"] = 18
    proof_file.write_text(json.dumps(bad))
    res = runner.invoke(
        app, ["audit", "prove", "--proof", str(proof_file), *_args(export), "--json"]
    )
    assert res.exit_code == 1 and json.loads(res.output)["ok"] is False
    # a size without a signed checkpoint cannot be anchored
    res = runner.invoke(
        app, ["audit", "prove", "3", "-e", str(export["entries"]), "--size", "77", *_args(export)]
    )
    assert res.exit_code == 1 and "no signed checkpoint" in res.output
    res = runner.invoke(
        app, ["audit", "prove", "500", "-e", str(export["entries"]), *_args(export)]
    )
    assert res.exit_code == 2


def test_consistency_between_checkpoints(export: dict[str, Path], tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "audit",
            "consistency",
            "50",
            "100",
            "-e",
            str(export["entries"]),
            *_args(export),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    proof = json.loads(res.output)["proof"]
    assert proof["old_size"] == 50 and proof["new_size"] == 100
    pf = tmp_path / "cons.json"
    pf.write_text(json.dumps(proof))
    assert (
        runner.invoke(app, ["audit", "consistency", "--proof", str(pf), *_args(export)]).exit_code
        == 0
    )
    proof["proof"][0] = "00" * 32
    pf.write_text(json.dumps(proof))
    assert (
        runner.invoke(app, ["audit", "consistency", "--proof", str(pf), *_args(export)]).exit_code
        == 1
    )
    res = runner.invoke(
        app, ["audit", "consistency", "50", "120", "-e", str(export["entries"]), *_args(export)]
    )
    assert res.exit_code == 1 and "no signed checkpoint of size 120" in res.output
    lines = export["entries"].read_bytes().split(b"\n")
    del lines[10]
    export["entries"].write_bytes(b"\n".join(lines))
    res = runner.invoke(
        app, ["audit", "consistency", "50", "100", "-e", str(export["entries"]), *_args(export)]
    )
    assert res.exit_code == 1 and "root of size 50 differs" in res.output


def test_keygen_and_bad_inputs(tmp_path: Path, export: dict[str, Path]) -> None:
    priv, pub = tmp_path / "k.pem", tmp_path / "k.pub.pem"
    res = runner.invoke(app, ["audit", "keygen", str(priv), str(pub)])
    assert res.exit_code == 0 and priv.exists() and pub.exists()
    res = runner.invoke(app, ["audit", "keygen", str(priv), str(pub)])
    assert res.exit_code == 2 and "refusing" in res.output
    # a checkpoint file signed by another key
    res = runner.invoke(
        app,
        [
            "audit",
            "prove",
            "1",
            "-e",
            str(export["entries"]),
            "--checkpoints",
            str(export["checkpoints"]),
            "--key",
            str(pub),
        ],
    )
    assert res.exit_code == 1 and "signature does not verify" in res.output  # rejected
    res = runner.invoke(
        app, ["audit", "verify", "-e", str(tmp_path / "missing"), *_args(export), "--json"]
    )
    assert res.exit_code == 2 and json.loads(res.output)["error"] == "not_found"
    res = runner.invoke(
        app,
        [
            "audit",
            "verify",
            "-e",
            str(export["entries"]),
            "--checkpoints",
            str(export["checkpoints"]),
            "--key",
            str(export["entries"]),
        ],
    )
    assert res.exit_code == 2 and "PEM" in res.output
    res = runner.invoke(app, ["audit", "prove", *_args(export)])
    assert res.exit_code == 2


def test_cli_input_errors(export: dict[str, Path], tmp_path: Path) -> None:
    e = str(export["entries"])
    missing_key = ["--checkpoints", str(export["checkpoints"]), "--key", str(tmp_path / "nokey")]
    assert runner.invoke(app, ["audit", "verify", "-e", e, *missing_key]).exit_code == 2
    res = runner.invoke(app, ["audit", "prove", "--proof", str(tmp_path / "none"), *_args(export)])
    assert res.exit_code == 2 and "no such proof file" in res.output
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert (
        runner.invoke(app, ["audit", "prove", "--proof", str(bad), *_args(export)]).exit_code == 2
    )
    res = runner.invoke(app, ["audit", "prove", "5", "-e", e, "--size", "3", *_args(export)])
    assert res.exit_code == 2 and "no tree size" in res.output
    res = runner.invoke(app, ["audit", "consistency", "100", "50", "-e", e, *_args(export)])
    assert res.exit_code == 2 and "OLD <= NEW" in res.output
    res = runner.invoke(app, ["--help"])
    assert "audit" in res.output


def test_prove_on_a_tampered_export_fails(export: dict[str, Path]) -> None:
    lines = export["entries"].read_bytes().split(b"\n")
    del lines[10]
    export["entries"].write_bytes(b"\n".join(lines))
    res = runner.invoke(app, ["audit", "prove", "20", "-e", str(export["entries"]), *_args(export)])
    assert res.exit_code == 1 and "root of size 100 differs" in res.output
