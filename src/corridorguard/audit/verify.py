"""Verification by an outside body: the log, proofs and checkpoints, with only a public key.

:func:`verify_log` replays any sequence of entries (records from a store or lines of an export
file) and checks, in order:

1. every checkpoint carries a valid Ed25519 signature of the given key;
2. entry ``i`` is a JSON object whose ``seq`` is ``i`` and whose stored leaf hash is
   ``SHA-256(0x00 || data)`` over its exact bytes — so a changed byte, a deleted, swapped or
   duplicated entry is reported at its exact index;
3. the Merkle root after ``size`` entries equals every kept checkpoint of that ``size`` — this
   catches rewrites that also recomputed the stored leaf hashes; then the first index not vouched
   for by an earlier matching checkpoint is reported;
4. there are at least as many entries as the largest checkpoint (truncation is reported at the
   first missing index).

Entries after the newest checkpoint are checked for internal consistency only: nothing signed
covers them yet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from corridorguard.audit.checkpoint import Checkpoint
from corridorguard.audit.entries import LogRecord
from corridorguard.audit.merkle import (
    HASH_SIZE,
    MerkleTree,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from corridorguard.errors import NotFoundError, ValidationError

__all__ = [
    "ConsistencyProof",
    "InclusionProof",
    "VerifyResult",
    "parse_export_line",
    "read_checkpoints",
    "read_entries",
    "records_from_lines",
    "verify_log",
    "write_checkpoints",
    "write_entries",
]


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify_log`.

    ``first_bad`` is the index of the first entry that cannot be trusted (``None`` when ``ok``).
    """

    ok: bool
    entries: int
    first_bad: int | None
    reason: str = ""
    checkpoints: int = 0
    covered: int = 0

    def to_dict(self) -> dict[str, Any]:
        """``{"ok", "entries", "first_bad", "reason", "checkpoints", "covered"}``."""
        return {
            "ok": self.ok,
            "entries": self.entries,
            "first_bad": self.first_bad,
            "reason": self.reason,
            "checkpoints": self.checkpoints,
            "covered": self.covered,
        }


_HEAD = b'{"entry":'
_TAIL_LEN = len(b',"leaf":"') + 2 * HASH_SIZE + len(b'"}')


def parse_export_line(index: int, line: bytes | str) -> LogRecord | None:
    """An export line ``{"entry": {...}, "leaf": "<hex>"}`` as a record, or ``None`` if malformed.

    The entry's bytes are taken verbatim from the line (the writer emits RFC 8785 canonical
    JSON), so any changed byte inside them changes the leaf hash; the leaf must be lowercase hex.
    """
    raw = line.encode("utf-8") if isinstance(line, str) else bytes(line)
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    if not raw.startswith(_HEAD) or len(raw) < len(_HEAD) + 2 + _TAIL_LEN:
        return None
    data, tail = raw[len(_HEAD) : -_TAIL_LEN], raw[-_TAIL_LEN:]
    if not (tail.startswith(b',"leaf":"') and tail.endswith(b'"}')):
        return None
    text = tail[len(b',"leaf":"') : -2]
    try:
        leaf = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    if leaf.hex().encode("ascii") != text:  # one spelling only: "AB" must not pass for "ab"
        return None
    return LogRecord(index=index, data=data, leaf_hash=leaf)


def _seq(data: bytes) -> object:
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return obj.get("seq", None) if isinstance(obj, dict) else None


def _entry_ok(i: int, rec: LogRecord | bytes | str) -> tuple[bytes | None, str]:
    """The leaf hash of entry ``i`` if it is internally consistent, else ``None`` and why."""
    record = rec if isinstance(rec, LogRecord) else parse_export_line(i, rec)
    if record is None:
        return None, f"entry {i}: not an export line"
    if record.index != i:
        return None, f"entry {i}: stored at index {record.index}"
    seq = _seq(record.data)
    if seq != i or isinstance(seq, bool):
        return None, f"entry {i}: seq is {seq!r}"
    if len(record.leaf_hash) != HASH_SIZE or leaf_hash(record.data) != record.leaf_hash:
        return None, f"entry {i}: leaf hash does not match its data"
    return record.leaf_hash, ""


def verify_log(
    entries: Iterable[LogRecord | bytes | str],
    public_key: Ed25519PublicKey,
    checkpoints: Iterable[Checkpoint],
) -> VerifyResult:
    """Check a log against signed checkpoints (see the module docstring for what is checked).

    Parameters
    ----------
    entries
        Records from any store (``LogRecord``) or export lines, in index order.
    public_key
        The log's Ed25519 public key.
    checkpoints
        Checkpoints the verifier kept (in any order).
    """
    cps = sorted(checkpoints, key=lambda c: c.size)
    for k, cp in enumerate(cps):
        if not cp.verify(public_key):
            why = f"checkpoint {k} (size {cp.size}): bad signature"
            return VerifyResult(False, sum(1 for _ in entries), None, why, len(cps))
    by_size: dict[int, list[Checkpoint]] = {}
    for cp in cps:
        by_size.setdefault(cp.size, []).append(cp)
    tree = MerkleTree()
    if 0 in by_size and any(cp.root != tree.root() for cp in by_size[0]):
        why = "checkpoint of size 0 has a non-empty root"
        return VerifyResult(False, sum(1 for _ in entries), 0, why, len(cps))
    first_bad: int | None = None
    reason = ""
    covered = 0
    n = 0
    for i, rec in enumerate(entries):
        n = i + 1
        if first_bad is not None:
            continue
        h, why = _entry_ok(i, rec)
        if h is None:
            first_bad, reason = i, why
            continue
        tree.append_hash(h)
        for cp in by_size.get(n, ()):
            if cp.root != tree.root():
                first_bad = covered
                reason = f"root after {n} entries differs from the signed checkpoint"
                break
        else:
            if n in by_size:
                covered = n
    top = cps[-1].size if cps else 0
    if first_bad is None and top > n:
        first_bad, reason = n, f"log truncated: {n} entries, a checkpoint covers {top}"
    return VerifyResult(first_bad is None, n, first_bad, reason, len(cps), covered)


def _hexes(values: Any, name: str) -> list[bytes]:
    if not isinstance(values, list):
        raise ValidationError(f"{name} must be a list of hex hashes", field=name)
    try:
        return [bytes.fromhex(v) for v in values]
    except (ValueError, TypeError):
        raise ValidationError(f"{name} must be a list of hex hashes", field=name) from None


def _hex(value: Any, name: str) -> bytes:
    return _hexes([value], name)[0]


def _int(obj: dict[str, Any], name: str) -> int:
    v = obj.get(name)
    if not isinstance(v, int) or isinstance(v, bool):
        raise ValidationError(f"{name} must be an integer", field=name)
    return v


@dataclass(frozen=True)
class InclusionProof:
    """An inclusion proof of one leaf hash in a tree ``(size, root)``."""

    index: int
    size: int
    leaf_hash: bytes
    root: bytes
    path: list[bytes] = field(default_factory=list)

    def verify(self) -> bool:
        """True when the path leads from the leaf to the root."""
        return verify_inclusion(self.leaf_hash, self.index, self.size, self.path, self.root)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "inclusion",
            "index": self.index,
            "size": self.size,
            "leaf_hash": self.leaf_hash.hex(),
            "root": self.root.hex(),
            "proof": [p.hex() for p in self.path],
        }

    @classmethod
    def from_dict(cls, obj: Any) -> InclusionProof:
        if not isinstance(obj, dict) or obj.get("type") != "inclusion":
            raise ValidationError("not an inclusion proof object")
        return cls(
            index=_int(obj, "index"),
            size=_int(obj, "size"),
            leaf_hash=_hex(obj.get("leaf_hash"), "leaf_hash"),
            root=_hex(obj.get("root"), "root"),
            path=_hexes(obj.get("proof"), "proof"),
        )


@dataclass(frozen=True)
class ConsistencyProof:
    """A consistency proof between trees ``(old_size, old_root)`` and ``(new_size, new_root)``."""

    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    path: list[bytes] = field(default_factory=list)

    def verify(self) -> bool:
        """True when the old tree is a prefix of the new one."""
        return verify_consistency(
            self.old_size, self.new_size, self.old_root, self.new_root, self.path
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "consistency",
            "old_size": self.old_size,
            "new_size": self.new_size,
            "old_root": self.old_root.hex(),
            "new_root": self.new_root.hex(),
            "proof": [p.hex() for p in self.path],
        }

    @classmethod
    def from_dict(cls, obj: Any) -> ConsistencyProof:
        if not isinstance(obj, dict) or obj.get("type") != "consistency":
            raise ValidationError("not a consistency proof object")
        return cls(
            old_size=_int(obj, "old_size"),
            new_size=_int(obj, "new_size"),
            old_root=_hex(obj.get("old_root"), "old_root"),
            new_root=_hex(obj.get("new_root"), "new_root"),
            path=_hexes(obj.get("proof"), "proof"),
        )


# ---------------------------------------------------------------- export files


def write_entries(path: Path, records: Iterable[LogRecord]) -> int:
    """Write records as JSON lines (``{"entry": ..., "leaf": ...}``); returns how many."""
    n = 0
    with path.open("wb") as fh:
        for rec in records:
            fh.write(rec.to_line() + b"\n")
            n += 1
    return n


def read_entries(path: Path) -> list[bytes]:
    """The raw lines of an entries export (for :func:`verify_log`)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError("no such entries file", file=str(path)) from None
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def write_checkpoints(path: Path, checkpoints: Iterable[Checkpoint]) -> None:
    """Write checkpoints as JSON lines."""
    path.write_text("".join(cp.to_json() + "\n" for cp in checkpoints), encoding="utf-8")


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Checkpoints from a JSON-lines file (or one JSON object / array)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError("no such checkpoint file", file=str(path)) from None
    except UnicodeDecodeError:
        raise ValidationError("checkpoint file is not UTF-8", file=str(path)) from None
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except ValueError as exc:
            raise ValidationError(f"not JSON: {exc}", file=str(path)) from None
        return [Checkpoint.from_dict(o, file=str(path), line=None) for o in items]
    return [
        Checkpoint.from_json(line, file=str(path), line=k)
        for k, line in enumerate(text.splitlines(), 1)
        if line.strip()
    ]


def records_from_lines(lines: Sequence[bytes]) -> list[LogRecord]:
    """Parse export lines into records; ``ValidationError`` naming the first bad line."""
    out = []
    for i, line in enumerate(lines):
        rec = parse_export_line(i, line)
        if rec is None:
            raise ValidationError("not a canonical audit export line", line=i + 1)
        out.append(rec)
    return out
