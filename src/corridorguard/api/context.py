"""The server's state: the store, the audit log service, settings.

:class:`AuditService` is the one writer path. :meth:`AuditService.transaction` takes a
process-wide lock (and on PostgreSQL a transaction-scoped advisory lock, so several processes
take turns), opens one write transaction and binds the audit log's SQL store to it: a record, its
idempotency key and the audit entries of the request commit together or not at all. When a
transaction fails after audit entries were appended, the in-memory Merkle tree is rebuilt from
the database (what was committed is the truth).

Several server processes on one SQLite file also queue on a file lock (:class:`WriterQueue`,
``flock`` on ``<database>-writer.lock``) before ``BEGIN IMMEDIATE``: a waiting process sleeps
in the kernel and wakes when the lock is released, instead of polling SQLite's lock with
``busy_timeout``'s growing sleeps (up to 100 ms each) while the process holding it starts its
next write at once (2 workers: write p95 1.6-1.9 s before, see ``docs/benchmarks.md``).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from corridorguard.api.config import ServerSettings
from corridorguard.api.reads import IncidentReads
from corridorguard.audit.checkpoint import CheckpointSigner
from corridorguard.audit.entries import LogRecord
from corridorguard.audit.log import AuditLog
from corridorguard.store import Store
from corridorguard.store.audit_sql import SqlLogStore
from corridorguard.store.identity import Identity, hash_token, resolve_token

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: SQLite's busy_timeout alone
    fcntl = None  # type: ignore[assignment]

__all__ = ["AuditService", "ServerContext", "Tx", "WriterQueue"]

_PG_LOCK = 0x636F7272  # advisory lock key of the writer path ("corr")


@dataclass
class Tx:
    """An open write transaction: the ORM session and the audit log to append to."""

    session: Session
    service: AuditService
    appended: list[LogRecord] = field(default_factory=list)

    def audit(
        self,
        action: str,
        who: Identity | None,
        *,
        target: str | None = None,
        outcome: str = "ok",
        detail: Mapping[str, Any] | None = None,
        actor: tuple[str, str] | None = None,
    ) -> LogRecord:
        """Append an audit entry in this transaction (``actor``: ``(user, org)`` override)."""
        name, org = actor if actor else (who.username, who.org) if who else (None, None)
        rec = self.service.log.append(
            action,
            actor=name,
            org=org,
            target=target,
            outcome=outcome,
            detail=dict(detail or {}),
        )
        self.appended.append(rec)
        return rec


class WriterQueue:
    """A cross-process queue for SQLite's one writer: an exclusive ``flock`` on a file next to
    the database, held around each write transaction (one thread per process asks for it: the
    caller holds the process's own lock). A no-op for PostgreSQL (its advisory lock queues),
    in-memory databases, or when the file cannot be created."""

    def __init__(self, store: Store) -> None:
        url = store.engine.url
        name = url.database or ""
        memory = name in ("", ":memory:") or name.startswith("file:")
        self.path = None if url.get_backend_name() != "sqlite" or memory else f"{name}-writer.lock"
        self._fd: int | None = None
        self._pid = 0
        self._depth = 0

    def _open(self) -> int | None:
        if self.path is None or fcntl is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # a forked child opens its own
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                self.path = None
                return None
            self._pid = os.getpid()
            self._depth = 0
        return self._fd

    @contextmanager
    def held(self) -> Iterator[None]:
        fd = self._open()
        if fd is None or self._depth:  # nested (the caller's lock is re-entrant): held already
            self._depth += fd is not None
            try:
                yield
            finally:
                self._depth -= fd is not None
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._depth = 1
        try:
            yield
        finally:
            self._depth = 0
            fcntl.flock(fd, fcntl.LOCK_UN)


class AuditService:
    """Serialised write transactions with their audit entries (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        key: Ed25519PrivateKey,
        *,
        checkpoint_every: int = 100,
        checkpoint_seconds: float | None = 300.0,
    ) -> None:
        self.store = store
        self.sql = SqlLogStore(store.engine)
        self.signer = CheckpointSigner(key)
        self._every = checkpoint_every
        self._seconds = checkpoint_seconds
        self._lock = threading.RLock()
        self._queue = WriterQueue(store)
        self.log = self._open_log()

    def _open_log(self) -> AuditLog:
        return AuditLog(
            self.sql,
            signer=self.signer,
            checkpoint_every=self._every,
            checkpoint_seconds=self._seconds,
        )

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One serialised write transaction bound to the audit log."""
        with self._lock, self._queue.held():
            start = self.log.size
            try:
                with self.store.session() as session:
                    conn = session.connection()
                    if conn.dialect.name == "postgresql":
                        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
                    with self.sql.bind(conn):
                        self.log.refresh()
                        start = self.log.size
                        yield Tx(session, self)
            except BaseException:
                if self.log.size != start:
                    self.log = self._open_log()
                raise

    def record(
        self,
        action: str,
        who: Identity | None,
        *,
        target: str | None = None,
        outcome: str = "ok",
        detail: Mapping[str, Any] | None = None,
    ) -> LogRecord:
        """Append one audit entry in its own transaction."""
        with self.transaction() as tx:
            return tx.audit(action, who, target=target, outcome=outcome, detail=detail)

    def idle_checkpoint(self) -> bool:
        """Sign a checkpoint if entries wait and T seconds passed (the lifespan timer's call).

        Runs in the writer path (one transaction, after catching up with other processes), so
        the checkpoint signs exactly the committed tree. Returns whether one was signed.
        """
        due = self.log.seconds_until_due()
        if due is None or due > 0:
            return False
        with self.transaction() as tx:
            return tx.service.log.checkpoint_if_idle() is not None

    def timer_interval(self) -> float | None:
        """How often the lifespan timer looks (``None``: no time-based checkpoints)."""
        if self._seconds is None or self._seconds <= 0:
            return None
        return min(max(self._seconds / 4, 0.02), 5.0)

    @contextmanager
    def reading(self) -> Iterator[AuditLog]:
        """The log, caught up with other processes, under the lock (for proofs)."""
        with self._lock:
            self.log.refresh()
            yield self.log


@dataclass
class ServerContext:
    """Everything a request handler needs, kept on ``app.state.ctx``."""

    store: Store
    audit: AuditService
    settings: ServerSettings
    _token_seen: dict[int, float] = field(default_factory=dict)
    _token_lock: threading.Lock = field(default_factory=threading.Lock)
    _identities: dict[str, tuple[float, Identity]] = field(default_factory=dict)
    lookups: dict[str, asyncio.Future[Identity | None]] = field(default_factory=dict)
    reads: IncidentReads = field(init=False)

    def __post_init__(self) -> None:
        self.reads = IncidentReads(self.store.engine)

    def cached_identity(self, token: str) -> Identity | None:
        """The identity of a token resolved less than ``token_cache_seconds`` ago, if any.

        Keyed by the token's SHA-256 (the secret itself is not kept). A token revoked or a user
        deactivated elsewhere (the CLI, another worker) is honoured by this process for at most
        that long; 0 turns the cache off.
        """
        ttl = self.settings.token_cache_seconds
        if ttl <= 0:
            return None
        hit = self._identities.get(hash_token(token))
        if hit is None or time.monotonic() - hit[0] >= ttl:
            return None
        return hit[1]

    def resolve_identity(self, token: str) -> Identity | None:
        """Look the token up in the database (and remember a valid one)."""
        with self.store.session(write=False) as session:
            who = resolve_token(session, token)
        if who is not None and self.settings.token_cache_seconds > 0:
            if len(self._identities) > 10_000:  # bounded: forget everything now and then
                self._identities.clear()
            self._identities[hash_token(token)] = (time.monotonic(), who)
        return who

    def forget_identities(self) -> None:
        """Drop every cached token lookup (after a change to tokens or users)."""
        self._identities.clear()

    def token_use_due(self, token_id: int | None) -> bool:
        """True when this token's use should be audited now (throttled per token)."""
        if token_id is None:
            return False
        now = time.monotonic()
        with self._token_lock:
            last = self._token_seen.get(token_id)
            if last is not None and now - last < self.settings.token_audit_seconds:
                return False
            self._token_seen[token_id] = now
            return True
