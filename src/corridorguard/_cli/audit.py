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
    verify_log,
)
from corridorguard.errors import NotFoundError, ValidationError

app = typer.Typer(
    no_args_is_help=True,
    help="Tamper-evident audit log: verify an export, prove inclusion and consistency.",
)

ENTRIES = typer.Option(None, "--entries", "-e", help="Entries export (JSON lines).")
PROOF = typer.Option(None, "--proof", help="Check this proof (JSON) instead of computing one.")


def _load_key(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError("no such key file", file=str(path)) from None
    return load_public_key_pem(data, file=str(path))


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
    entries: Path | None = typer.Option(
        None, "--entries", "-e", help="Entries export (JSON lines)."
    ),
    checkpoints: Path | None = typer.Option(
        None, "--checkpoints", "-c", help="Kept checkpoints (JSON lines)."
    ),
    key: Path | None = typer.Option(
        None, "--key", "-k", help="The log's Ed25519 public key (PEM)."
    ),
    db: str | None = typer.Option(
        None, "--db", help="Verify the server's audit tables in this database instead of files."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check every entry and every kept checkpoint; exit 1 when the log was tampered with.

    With ``--db`` the entries and checkpoints come from the server's tables; ``--checkpoints``
    adds checkpoints kept elsewhere, ``--key`` defaults to the server's configured key.
    """
    if db is not None:
        result = _verify_db(db, checkpoints, key)
    else:
        if entries is None or checkpoints is None or key is None:
            raise ValidationError("give --entries, --checkpoints and --key (or --db URL)")
        result = verify_log(read_entries(entries), _load_key(key), read_checkpoints(checkpoints))
    text = (
        f"ok: {result.entries} entries, {result.covered} covered by {result.checkpoints} "
        "signed checkpoint(s)"
        if result.ok
        else f"TAMPERED: first bad entry {result.first_bad}: {result.reason}"
    )
    _finish(result.ok, result.to_dict(), as_json, text)


def _verify_db(db: str, checkpoints: Path | None, key: Path | None) -> Any:
    """Verify the audit tables of the server's database (see ``docs/api.md``)."""
    from corridorguard.api.config import ServerSettings, load_signing_key
    from corridorguard.store import open_store
    from corridorguard.store.audit_sql import SqlLogStore

    public = _load_key(key) if key is not None else load_signing_key(ServerSettings()).public_key()
    with open_store(db) as store:
        sql = SqlLogStore(store.engine)
        kept = list(sql.checkpoints())
        if checkpoints is not None:
            kept += read_checkpoints(checkpoints)
        return verify_log(sql.iter_all(), public, kept)


# ------------------------------------------------------------- prove / consistency

DB = typer.Option(None, "--db", help="Prove from the server's audit tables in this database.")
URL = typer.Option(None, "--url", help="Prove from a running server's API (http://host:port).")
TOKEN = typer.Option(
    None,
    "--token",
    envvar="CORRIDORGUARD_TOKEN",
    help="Bearer token for --url (env CORRIDORGUARD_TOKEN); an oversight token also lets the "
    "entry's own bytes be checked.",
)
KEPT = typer.Option(
    None,
    "--checkpoints",
    "-c",
    help="Checkpoints you kept (JSON lines); required with --entries and --proof.",
)
PUBKEY = typer.Option(
    None,
    "--key",
    "-k",
    help="The log's Ed25519 public key (PEM); with --db it defaults to the server's key.",
)


def _source(entries: Path | None, db: str | None, url: str | None, token: str | None) -> Any:
    from corridorguard.audit.sources import DbSource, FileSource, HttpSource

    given = [x for x in (entries, db, url) if x is not None]
    if len(given) > 1:
        raise ValidationError("give one of --entries, --db and --url")
    if entries is not None:
        return FileSource(entries)
    if db is not None:
        return DbSource(db)
    if url is not None:
        return HttpSource(url, token)
    return None


def _public(key: Path | None, db: str | None) -> Any:
    if key is not None:
        return _load_key(key)
    if db is not None:
        from corridorguard.api.config import ServerSettings, load_signing_key

        return load_signing_key(ServerSettings()).public_key()
    raise ValidationError("give the log's public key with --key FILE", field="--key")


def _anchors(kept: list[Checkpoint], served: Any, public: Any) -> tuple[dict[int, Checkpoint], str]:
    """Signed checkpoints by size: yours first, then the source's; a bad one fails the check.

    Two signed checkpoints of one size with different roots are a split view: the log showed
    different histories to different people.
    """
    out: dict[int, Checkpoint] = {0: _EMPTY}
    for origin, cps in (("kept", kept), ("served", served)):
        for cp in cps:
            if not cp.verify(public):
                return {}, f"{origin} checkpoint of size {cp.size}: signature does not verify"
            have = out.setdefault(cp.size, cp)
            if have.root != cp.root:
                return {}, f"two signed checkpoints of size {cp.size} differ (split view)"
    return out, ""


_EMPTY = Checkpoint("", 0, MerkleTree().root(), "", "", b"")  # the empty tree needs no signature


def _anchored(anchors: dict[int, Checkpoint], size: int, root: bytes) -> str:
    cp = anchors.get(size)
    if cp is None:
        return f"no signed checkpoint of size {size}"
    if cp.root != root:
        return f"root of size {size} differs from its signed checkpoint"
    return ""


def _report(ok: bool, why: str, proof: Any, as_json: bool, text: str, **extra: Any) -> None:
    out = {"ok": ok, "reason": why, "proof": proof.to_dict() if proof else None, **extra}
    _finish(ok, out, as_json, f"{'ok' if ok else 'FAILED'}: {text} {why}".rstrip())


@app.command("prove")
def prove(
    index: int = typer.Argument(None, help="Entry index to prove."),
    entries: Path | None = ENTRIES,
    db: str | None = DB,
    url: str | None = URL,
    token: str | None = TOKEN,
    checkpoints: Path | None = KEPT,
    key: Path | None = PUBKEY,
    size: int | None = typer.Option(
        None, "--size", help="Tree size (default: the largest signed checkpoint covering INDEX)."
    ),
    proof_file: Path | None = PROOF,
    as_json: bool = JSON_OPTION,
) -> None:
    """Inclusion proof of one entry, checked locally against a signed checkpoint; exit 1 if bad.

    The proof comes from an export (``--entries``), the server's database (``--db``), a running
    server (``--url`` with ``--token``), or a proof file (``--proof``). It is recomputed to the
    root and the root must equal a checkpoint signed by ``--key``: one you kept (``-c``) or one
    the source serves (its signature checked). Where the source serves the entry's bytes, their
    leaf hash must be the proven one (``entry_checked``).
    """
    source = _source(entries, db, url, token)
    if source is None and proof_file is None:
        raise ValidationError("give --entries, --db, --url or --proof")
    if (entries is not None or proof_file is not None) and checkpoints is None:
        raise ValidationError("give the checkpoints you kept with --checkpoints FILE")
    public = _public(key, db)
    kept = read_checkpoints(checkpoints) if checkpoints is not None else []
    served = source.checkpoints() if source is not None else []
    anchors, why = _anchors(kept, served, public)
    if why:
        _report(False, why, None, as_json, "checkpoints")
        return
    entry_checked = False
    if proof_file is not None:
        proof = InclusionProof.from_dict(_read_json(proof_file))
    else:
        have = source.size()
        n = size if size is not None else max((s for s in anchors if s <= have), default=0)
        if index is None or not 0 <= index < n <= have:
            raise ValidationError(f"no tree size covering entry {index} (size {n})", field="--size")
        proof = source.inclusion(index, n)
        if proof.index != index or proof.size != n:
            why = f"the source proved entry {proof.index} in {proof.size}, not {index} in {n}"
        leaf = source.entry_leaf(index)
        entry_checked = leaf is not None
        if leaf is not None and leaf != proof.leaf_hash:
            why = why or f"entry {index}'s bytes do not hash to the proven leaf"
    why = why or _anchored(anchors, proof.size, proof.root)
    if not why and not proof.verify():
        why = "proof does not verify"
    text = f"entry {proof.index} in tree {proof.size}"
    _report(not why, why, proof, as_json, text, entry_checked=entry_checked)


@app.command("consistency")
def consistency(
    old: int = typer.Argument(None, help="Older tree size (default: your newest checkpoint)."),
    new: int = typer.Argument(None, help="Newer tree size (default: the newest signed one)."),
    entries: Path | None = ENTRIES,
    db: str | None = DB,
    url: str | None = URL,
    token: str | None = TOKEN,
    checkpoints: Path | None = KEPT,
    key: Path | None = PUBKEY,
    proof_file: Path | None = PROOF,
    keep: bool = typer.Option(
        False, "--keep", help="On success, append the newer signed checkpoint to --checkpoints."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Consistency proof: the log at NEW entries extends the one at OLD; exit 1 if not.

    The monitor's routine: ``audit consistency --url URL -c kept.jsonl -k audit.pub.pem --keep``
    proves that the server's newest signed checkpoint extends the newest one you kept, and keeps
    it. Both roots must equal checkpoints signed by ``--key`` (kept or served).
    """
    source = _source(entries, db, url, token)
    if source is None and proof_file is None:
        raise ValidationError("give --entries, --db, --url or --proof")
    if (entries is not None or proof_file is not None) and checkpoints is None:
        raise ValidationError("give the checkpoints you kept with --checkpoints FILE")
    if keep and checkpoints is None:
        raise ValidationError("--keep needs --checkpoints FILE", field="--keep")
    public = _public(key, db)
    kept = read_checkpoints(checkpoints) if checkpoints is not None else []
    served = source.checkpoints() if source is not None else []
    anchors, why = _anchors(kept, served, public)
    if why:
        _report(False, why, None, as_json, "checkpoints")
        return
    if proof_file is not None:
        proof = ConsistencyProof.from_dict(_read_json(proof_file))
    else:
        have = source.size()
        if old is None:
            old = max((cp.size for cp in kept), default=None)
        if new is None:
            new = max((s for s in anchors if s <= have), default=0)
        if old is None or not 0 <= old <= new <= have:
            raise ValidationError(f"need 0 <= OLD <= NEW <= {have}", field="old")
        proof = source.consistency(old, new)
        if (proof.old_size, proof.new_size) != (old, new):
            why = f"the source proved {proof.old_size} -> {proof.new_size}, not {old} -> {new}"
    why = why or _anchored(anchors, proof.old_size, proof.old_root)
    why = why or _anchored(anchors, proof.new_size, proof.new_root)
    if not why and not proof.verify():
        why = "proof does not verify"
    if not why and keep and checkpoints is not None:
        newest = anchors[proof.new_size]
        if proof.new_size and all(cp.to_json() != newest.to_json() for cp in kept):
            with checkpoints.open("a", encoding="utf-8") as fh:
                fh.write(newest.to_json() + "\n")
    _report(not why, why, proof, as_json, f"{proof.old_size} -> {proof.new_size}")
