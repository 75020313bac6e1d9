"""``corridorguard audit keygen|verify|prove|consistency`` on exported log files.

An outside body needs three files: the entries export (JSON lines, ``{"entry": ..., "leaf":
...}``), the checkpoints it kept (JSON lines) and the log's public key (PEM). Verification
failures exit 1; bad input files exit 2 with one error line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from corridorguard._cli._common import JSON_OPTION, print_json
from corridorguard.audit.checkpoint import (
    Checkpoint,
    generate_private_key,
    load_public_key_pem,
    private_key_pem,
    public_key_pem,
)
from corridorguard.audit.merkle import MerkleTree
from corridorguard.audit.verify import (
    ConsistencyProof,
    InclusionProof,
    read_checkpoints,
    read_entries,
    records_from_lines,
    verify_log,
)
from corridorguard.errors import NotFoundError, ValidationError

app = typer.Typer(
    no_args_is_help=True,
    help="Tamper-evident audit log: verify an export, prove inclusion and consistency.",
)

ENTRIES = typer.Option(None, "--entries", "-e", help="Entries export (JSON lines).")
CHECKPOINTS = typer.Option(..., "--checkpoints", "-c", help="Kept checkpoints (JSON lines).")
KEY = typer.Option(..., "--key", "-k", help="The log's Ed25519 public key (PEM).")
PROOF = typer.Option(None, "--proof", help="Check this proof (JSON) instead of computing one.")


def _load_key(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError("no such key file", file=str(path)) from None
    return load_public_key_pem(data, file=str(path))


def _signed(path: Path, key: Path) -> dict[int, Checkpoint]:
    """Checkpoints by size, keeping only correctly signed ones (a bad one is an error)."""
    public = _load_key(key)
    out: dict[int, Checkpoint] = {}
    for k, cp in enumerate(read_checkpoints(path), 1):
        if not cp.verify(public):
            raise ValidationError("checkpoint signature does not verify", file=str(path), line=k)
        out[cp.size] = cp
    return out


def _tree(entries: Path | None) -> MerkleTree:
    if entries is None:
        raise ValidationError("give --entries FILE or --proof FILE", field="--entries")
    return MerkleTree(r.leaf_hash for r in records_from_lines(read_entries(entries)))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFoundError("no such proof file", file=str(path)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"not JSON: {exc}", file=str(path)) from None


def _finish(ok: bool, out: dict[str, Any], as_json: bool, text: str) -> None:
    if as_json:
        print_json(out)
    else:
        typer.echo(text)
    if not ok:
        raise typer.Exit(1)


@app.command("keygen")
def keygen(
    private: Path = typer.Argument(..., help="Where to write the private key (PEM)."),
    public: Path = typer.Argument(..., help="Where to write the public key (PEM)."),
) -> None:
    """Create an Ed25519 signing key pair for the audit log."""
    if private.exists():
        raise ValidationError("refusing to overwrite an existing private key", file=str(private))
    key = generate_private_key()
    private.write_bytes(private_key_pem(key))
    private.chmod(0o600)
    public.write_bytes(public_key_pem(key.public_key()))
    typer.echo(f"wrote {private} (keep secret) and {public} (give to oversight bodies)")


@app.command("verify")
def verify(
    entries: Path = typer.Option(..., "--entries", "-e", help="Entries export (JSON lines)."),
    checkpoints: Path = CHECKPOINTS,
    key: Path = KEY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Check every entry and every kept checkpoint; exit 1 when the log was tampered with."""
    result = verify_log(read_entries(entries), _load_key(key), read_checkpoints(checkpoints))
    text = (
        f"ok: {result.entries} entries, {result.covered} covered by {result.checkpoints} "
        "signed checkpoint(s)"
        if result.ok
        else f"TAMPERED: first bad entry {result.first_bad}: {result.reason}"
    )
    _finish(result.ok, result.to_dict(), as_json, text)


@app.command("prove")
def prove(
    index: int = typer.Argument(None, help="Entry index to prove (with --entries)."),
    entries: Path | None = ENTRIES,
    checkpoints: Path = CHECKPOINTS,
    key: Path = KEY,
    size: int | None = typer.Option(None, "--size", help="Tree size (default: newest checkpoint)."),
    proof_file: Path | None = PROOF,
    as_json: bool = JSON_OPTION,
) -> None:
    """Inclusion proof of one entry, checked against a signed checkpoint."""
    signed = _signed(checkpoints, key)
    if proof_file is not None:
        proof = InclusionProof.from_dict(_read_json(proof_file))
    else:
        tree = _tree(entries)
        if index is None or not 0 <= index < tree.size:
            raise ValidationError(f"index must be in 0..{tree.size - 1}", field="index")
        n = size if size is not None else max((s for s in signed if s <= tree.size), default=0)
        if not index < n <= tree.size:
            raise ValidationError(f"no tree size covering entry {index} (size {n})", field="--size")
        proof = InclusionProof(
            index, n, tree.leaf(index), tree.root(n), tree.inclusion_proof(index, n)
        )
    cp = signed.get(proof.size)
    if cp is None:
        why = f"no signed checkpoint of size {proof.size}"
    elif cp.root != proof.root:
        why = f"root of size {proof.size} differs from its signed checkpoint"
    else:
        why = "" if proof.verify() else "proof does not verify"
    ok = not why
    out = {"ok": ok, "reason": why, "proof": proof.to_dict()}
    _finish(
        ok,
        out,
        as_json,
        f"{'ok' if ok else 'FAILED'}: entry {proof.index} in tree {proof.size} {why}",
    )


@app.command("consistency")
def consistency(
    old: int = typer.Argument(None, help="Older tree size (with --entries)."),
    new: int = typer.Argument(None, help="Newer tree size (with --entries)."),
    entries: Path | None = ENTRIES,
    checkpoints: Path = CHECKPOINTS,
    key: Path = KEY,
    proof_file: Path | None = PROOF,
    as_json: bool = JSON_OPTION,
) -> None:
    """Consistency proof between two signed checkpoints: the newer log extends the older."""
    signed = _signed(checkpoints, key)
    if proof_file is not None:
        proof = ConsistencyProof.from_dict(_read_json(proof_file))
    else:
        tree = _tree(entries)
        if old is None or new is None or not 0 <= old <= new <= tree.size:
            raise ValidationError(f"need 0 <= OLD <= NEW <= {tree.size}", field="old")
        path = tree.consistency_proof(old, new)
        proof = ConsistencyProof(old, new, tree.root(old), tree.root(new), path)
    why = ""
    for size, root in ((proof.old_size, proof.old_root), (proof.new_size, proof.new_root)):
        cp = signed.get(size)
        if cp is None:
            why = why or f"no signed checkpoint of size {size}"
        elif cp.root != root:
            why = why or f"root of size {size} differs from its signed checkpoint"
    if not why and not proof.verify():
        why = "proof does not verify"
    ok = not why
    out = {"ok": ok, "reason": why, "proof": proof.to_dict()}
    text = f"{'ok' if ok else 'FAILED'}: {proof.old_size} -> {proof.new_size} {why}"
    _finish(ok, out, as_json, text)
