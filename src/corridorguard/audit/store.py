"""Storage interface of the audit log and an in-memory implementation.

The log needs very little from storage: append a record at the next index, say how many there
are, read a contiguous range, and keep the signed checkpoints. A SQL implementation maps this to
two tables (``audit_entries(seq PRIMARY KEY, data, leaf_hash)`` and
``audit_checkpoints(size, root, time, key_id, signature)``) whose UPDATE and DELETE are refused
by triggers; ``append`` must fail unless ``record.index == size()`` (a primary-key clash does it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from corridorguard.audit.checkpoint import Checkpoint
from corridorguard.audit.entries import LogRecord
from corridorguard.errors import ConflictError

__all__ = ["LogStore", "MemoryLogStore"]


@runtime_checkable
class LogStore(Protocol):
    """What :class:`~corridorguard.audit.log.AuditLog` needs from storage."""

    def append(self, record: LogRecord) -> None:
        """Store ``record``; raise :class:`ConflictError` unless ``record.index == size()``."""
        ...

    def size(self) -> int:
        """Number of stored records."""
        ...

    def read(self, start: int, stop: int) -> Sequence[LogRecord]:
        """Records with ``start <= index < stop``, in index order."""
        ...

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Keep a signed checkpoint."""
        ...

    def checkpoints(self) -> Sequence[Checkpoint]:
        """Every kept checkpoint, oldest first."""
        ...


class MemoryLogStore:
    """A :class:`LogStore` in a Python list (tests, benchmarks, short-lived tools)."""

    def __init__(self) -> None:
        self._records: list[LogRecord] = []
        self._checkpoints: list[Checkpoint] = []

    def append(self, record: LogRecord) -> None:
        if record.index != len(self._records):
            raise ConflictError(
                f"audit append at index {record.index}, expected {len(self._records)}"
            )
        self._records.append(record)

    def size(self) -> int:
        return len(self._records)

    def read(self, start: int, stop: int) -> Sequence[LogRecord]:
        return self._records[max(start, 0) : max(stop, 0)]

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        self._checkpoints.append(checkpoint)

    def checkpoints(self) -> Sequence[Checkpoint]:
        return list(self._checkpoints)
