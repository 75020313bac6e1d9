"""The append-only audit log: canonical-JSON entries, a Merkle tree, signed checkpoints."""

from __future__ import annotations

import threading
import time as _time
from collections.abc import Callable, Mapping
from typing import Any

from corridorguard.audit.checkpoint import Checkpoint, CheckpointSigner
from corridorguard.audit.entries import LogRecord, canonical_json, make_entry
from corridorguard.audit.merkle import MerkleTree, leaf_hash
from corridorguard.audit.store import LogStore
from corridorguard.errors import NotFoundError, ValidationError

__all__ = ["AuditLog"]


class AuditLog:
    """An RFC 9162 Merkle log over a :class:`~corridorguard.audit.store.LogStore`.

    On opening, the leaf hashes are read once from the store and the tree of cached subtree hashes
    is built in O(n); afterwards an append costs O(1) amortised hashing plus one store write, a
    root O(log n) and a proof O(log² n) at most.

    Parameters
    ----------
    store
        Where entries and checkpoints are kept.
    signer
        Signs checkpoints; without one, :meth:`checkpoint` raises.
    checkpoint_every
        Sign a checkpoint automatically after every N entries (``None``: never).
    checkpoint_seconds
        ... or when at least T seconds have passed since the last one: checked at the next
        append, and by :meth:`checkpoint_if_idle`, which a timer calls while no writes arrive
        (the server's lifespan task does).
    clock
        Monotonic clock for ``checkpoint_seconds`` (tests pass a fake one).
    """

    def __init__(
        self,
        store: LogStore,
        *,
        signer: CheckpointSigner | None = None,
        checkpoint_every: int | None = None,
        checkpoint_seconds: float | None = None,
        clock: Callable[[], float] = _time.monotonic,
    ) -> None:
        if checkpoint_every is not None and checkpoint_every < 1:
            raise ValidationError("checkpoint_every must be >= 1", field="checkpoint_every")
        self.store = store
        self.signer = signer
        self.checkpoint_every = checkpoint_every
        self.checkpoint_seconds = checkpoint_seconds
        self._clock = clock
        self._lock = threading.RLock()
        self._tree = MerkleTree(r.leaf_hash for r in store.read(0, store.size()))
        cps = store.checkpoints()
        self._last_cp_size = cps[-1].size if cps else 0
        self._last_cp_time = clock()

    def refresh(self) -> int:
        """Catch up with entries appended to the store by another process; returns the size.

        Several server processes may share one SQL store: an append that loses the race fails
        in the store (index already taken); call ``refresh()`` and append again.
        """
        with self._lock:
            n = self.store.size()
            if n > self._tree.size:
                for rec in self.store.read(self._tree.size, n):
                    self._tree.append_hash(rec.leaf_hash)
            return self._tree.size

    @property
    def size(self) -> int:
        """Number of entries."""
        return self._tree.size

    def append(self, action: str, **fields: Any) -> LogRecord:
        """Append an entry built by :func:`~corridorguard.audit.entries.make_entry`.

        ``fields`` are ``actor``, ``org``, ``target``, ``outcome``, ``detail`` and ``time``.
        """
        with self._lock:
            return self.append_entry(make_entry(self._tree.size, action=action, **fields))

    def append_entry(self, entry: Mapping[str, Any]) -> LogRecord:
        """Append a ready-made entry object; its ``seq`` must be the next index."""
        with self._lock:
            seq = self._tree.size
            if entry.get("seq") != seq:
                raise ValidationError(f"entry seq must be {seq}", field="seq")
            data = canonical_json(dict(entry))
            record = LogRecord(index=seq, data=data, leaf_hash=leaf_hash(data))
            self.store.append(record)
            self._tree.append_hash(record.leaf_hash)
            self._maybe_checkpoint()
            return record

    def _maybe_checkpoint(self) -> None:
        if self.signer is None:
            return
        size = self._tree.size
        due = (
            self.checkpoint_every is not None and size - self._last_cp_size >= self.checkpoint_every
        )
        if self.checkpoint_seconds is not None and size > self._last_cp_size:
            due = due or self._clock() - self._last_cp_time >= self.checkpoint_seconds
        if due:
            self.checkpoint()

    def seconds_until_due(self) -> float | None:
        """Seconds until ``checkpoint_seconds`` have passed since the last checkpoint (``None``:
        no time-based checkpoints)."""
        if self.signer is None or self.checkpoint_seconds is None or self.checkpoint_seconds <= 0:
            return None
        return max(0.0, self.checkpoint_seconds - (self._clock() - self._last_cp_time))

    def checkpoint_if_idle(self) -> Checkpoint | None:
        """Sign a checkpoint when entries are pending and ``checkpoint_seconds`` have passed.

        "Pending" is judged against the newest checkpoint in the *store* (another process may
        have signed one), so an idle log gets no new checkpoints. Returns the new one, if any.
        """
        with self._lock:
            due = self.seconds_until_due()
            if due is None or due > 0:
                return None
            latest = self.latest_checkpoint()
            if self._tree.size == (latest.size if latest else 0):
                self._last_cp_time = self._clock()  # nothing pending: wait another period
                return None
            return self.checkpoint()

    def root(self, size: int | None = None) -> bytes:
        """Root hash of the first ``size`` entries (default: all)."""
        with self._lock:
            return self._tree.root(self._size_arg(size))

    def _size_arg(self, size: int | None) -> int:
        n = self._tree.size
        if size is None:
            return n
        if not 0 <= size <= n:
            raise NotFoundError(f"tree size {size} is not in 0..{n}", field="size")
        return size

    def record(self, index: int) -> LogRecord:
        """The stored record at ``index``."""
        if not 0 <= index < self._tree.size:
            raise NotFoundError(f"no audit entry {index}", field="index")
        return self.store.read(index, index + 1)[0]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Inclusion proof of entry ``index`` in the tree of ``size`` entries."""
        with self._lock:
            n = self._size_arg(size)
            if not 0 <= index < n:
                raise NotFoundError(f"no audit entry {index} in a tree of {n}", field="index")
            return self._tree.inclusion_proof(index, n)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Consistency proof from ``old_size`` to ``new_size`` (default: current size)."""
        with self._lock:
            n = self._size_arg(new_size)
            if not 0 <= old_size <= n:
                raise NotFoundError(f"old size {old_size} is not in 0..{n}", field="old_size")
            return self._tree.consistency_proof(old_size, n)

    def checkpoint(self) -> Checkpoint:
        """Sign and keep a checkpoint of the current tree."""
        if self.signer is None:
            raise ValidationError("this audit log has no signing key")
        with self._lock:
            cp = self.signer.sign(self._tree.size, self._tree.root())
            self.store.add_checkpoint(cp)
            self._last_cp_size = cp.size
            self._last_cp_time = self._clock()
            return cp

    def latest_checkpoint(self) -> Checkpoint | None:
        """The newest kept checkpoint, if any."""
        cps = self.store.checkpoints()
        return cps[-1] if cps else None
