"""Where ``corridorguard audit prove|consistency`` get proofs: an export, a database, a server.

An outside body trusts nothing a source says: every checkpoint is checked against the public key
it holds, every proof is recomputed locally (RFC 9162 §2.1.3.2 / §2.1.4.2) and anchored to a
signed checkpoint, and an entry's leaf hash is recomputed from its bytes when the source serves
them. The three sources answer the same questions:

* :class:`FileSource`: an entries export (JSON lines); proofs computed from it;
* :class:`DbSource`: the server's audit tables (``--db URL``); proofs computed from them;
* :class:`HttpSource`: a running server (``--url``, Bearer token), proofs fetched from
  ``/api/v1/audit/proof/*`` (the stdlib's ``urllib``: no extra dependency).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from corridorguard.audit.checkpoint import Checkpoint
from corridorguard.audit.entries import LogRecord, canonical_json
from corridorguard.audit.merkle import MerkleTree, leaf_hash
from corridorguard.audit.verify import (
    ConsistencyProof,
    InclusionProof,
    read_entries,
    records_from_lines,
)
from corridorguard.errors import (
    ConfigError,
    CorridorError,
    NotFoundError,
    PermissionDenied,
    ValidationError,
)

__all__ = ["DbSource", "FileSource", "HttpSource", "ProofSource"]


class ProofSource(Protocol):
    """What the prove/consistency commands need from where the log lives."""

    def size(self) -> int:
        """Entries the source holds now."""
        ...

    def checkpoints(self) -> Sequence[Checkpoint]:
        """The source's own signed checkpoints (unverified: the caller checks signatures)."""
        ...

    def inclusion(self, index: int, size: int) -> InclusionProof:
        """Inclusion proof of entry ``index`` in the tree of ``size`` entries."""
        ...

    def consistency(self, old: int, new: int) -> ConsistencyProof:
        """Consistency proof from ``old`` to ``new`` entries."""
        ...

    def entry_leaf(self, index: int) -> bytes | None:
        """SHA-256(0x00 || data) recomputed from the entry's bytes, ``None`` if not served."""
        ...


class _TreeSource:
    """Proofs computed from a list of records (export file or database)."""

    def __init__(self, records: Sequence[LogRecord]) -> None:
        self._records = records
        self._tree = MerkleTree(r.leaf_hash for r in records)

    def size(self) -> int:
        return self._tree.size

    def checkpoints(self) -> Sequence[Checkpoint]:
        return []

    def _sizes(self, *sizes: int) -> None:
        for s in sizes:
            if not 0 <= s <= self._tree.size:
                raise ValidationError(f"tree size {s} is not in 0..{self._tree.size}", field="size")

    def inclusion(self, index: int, size: int) -> InclusionProof:
        self._sizes(size)
        if not 0 <= index < size:
            raise ValidationError(f"entry {index} is not in a tree of {size}", field="index")
        path = self._tree.inclusion_proof(index, size)
        return InclusionProof(index, size, self._tree.leaf(index), self._tree.root(size), path)

    def consistency(self, old: int, new: int) -> ConsistencyProof:
        self._sizes(old, new)
        if old > new:
            raise ValidationError(f"need 0 <= OLD <= NEW <= {self._tree.size}", field="old")
        path = self._tree.consistency_proof(old, new)
        return ConsistencyProof(old, new, self._tree.root(old), self._tree.root(new), path)

    def entry_leaf(self, index: int) -> bytes | None:
        return leaf_hash(self._records[index].data) if 0 <= index < len(self._records) else None


class FileSource(_TreeSource):
    """An entries export (JSON lines ``{"entry": ..., "leaf": ...}``)."""

    def __init__(self, path: Path) -> None:
        super().__init__(records_from_lines(read_entries(path)))


class DbSource(_TreeSource):
    """The server's audit tables (``audit_entries``, ``audit_checkpoints``) at ``url``."""

    def __init__(self, url: str) -> None:
        from corridorguard.store import open_store
        from corridorguard.store.audit_sql import SqlLogStore

        with open_store(url, upgrade="never") as store:
            sql = SqlLogStore(store.engine)
            records = list(sql.iter_all())
            self._cps = list(sql.checkpoints())
        for i, rec in enumerate(records):
            if rec.index != i:  # a gap or a duplicate: the stored tree is not a log
                raise ValidationError(f"audit_entries has seq {rec.index} at position {i}")
        super().__init__(records)

    def checkpoints(self) -> Sequence[Checkpoint]:
        return self._cps


class HttpSource:
    """A running server's audit API at ``base`` (``http://host:port``), as ``token``'s user."""

    def __init__(self, base: str, token: str | None, *, timeout: float = 30.0) -> None:
        if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
            raise ValidationError("--url must be an http:// or https:// address", field="--url")
        self.base = base.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._size: int | None = None

    def _get(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        url = f"{self.base}/api/v1/audit/{path}" + (f"?{query}" if query else "")
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            raise _http_error(exc, url) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ConfigError(f"cannot reach {self.base}: {exc}", field="--url") from None
        try:
            return json.loads(body)
        except ValueError:
            raise ValidationError(f"{url} did not answer JSON") from None

    def latest(self) -> Checkpoint:
        """The newest checkpoint (the server signs one if none covers its size)."""
        cp = Checkpoint.from_dict(self._get("checkpoint"))
        self._size = max(self._size or 0, cp.size)
        return cp

    def size(self) -> int:
        return self._size if self._size is not None else self.latest().size

    def checkpoints(self) -> Sequence[Checkpoint]:
        cps = [Checkpoint.from_dict(o) for o in _list(self._get("checkpoints"))]
        return [*cps, self.latest()]

    def inclusion(self, index: int, size: int) -> InclusionProof:
        return InclusionProof.from_dict(self._get("proof/inclusion", index=index, size=size))

    def consistency(self, old: int, new: int) -> ConsistencyProof:
        return ConsistencyProof.from_dict(self._get("proof/consistency", old=old, new=new))

    def entry_leaf(self, index: int) -> bytes | None:
        try:
            got = self._get("entries", start=index, limit=1)
        except PermissionDenied:
            return None  # entries are for oversight and admins; the proof's leaf stands alone
        items = got.get("entries") if isinstance(got, dict) else None
        if not items or not isinstance(items[0], dict) or "entry" not in items[0]:
            return None
        entry = items[0]["entry"]
        if not isinstance(entry, dict) or entry.get("seq") != index:
            raise ValidationError(f"the server answered another entry for index {index}")
        return leaf_hash(canonical_json(entry))


def _list(obj: Any) -> list[Any]:
    if not isinstance(obj, list):
        raise ValidationError("the server's checkpoint list is not a JSON array")
    return obj


def _http_error(exc: urllib.error.HTTPError, url: str) -> CorridorError:
    try:
        detail = json.loads(exc.read()).get("message", "")
    except (ValueError, AttributeError, OSError):
        detail = ""
    why = f"{url}: HTTP {exc.code} {detail}".strip()
    if exc.code == 404:
        return NotFoundError(why)
    if exc.code in (401, 403):
        return PermissionDenied(why)
    return ValidationError(why)
