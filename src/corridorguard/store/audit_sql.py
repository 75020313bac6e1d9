"""The audit log's SQL storage: two append-only tables and a :class:`LogStore` over them.

``audit_entries(seq, data, leaf_hash)`` holds each entry's RFC 8785 bytes and RFC 9162 leaf
hash; ``audit_checkpoints`` the signed checkpoints. Revision 0002 installs triggers that make the
database refuse ``UPDATE`` and ``DELETE`` on both (SQLite and PostgreSQL). Appends run inside the
caller's write transaction when one is bound (:meth:`SqlLogStore.bind`), so a record and the
audit entry of its creation commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from corridorguard.audit.checkpoint import Checkpoint
from corridorguard.audit.entries import LogRecord
from corridorguard.errors import ConflictError
from corridorguard.store.engine import WRITE_OPTION
from corridorguard.store.models import Base, UTCDateTime

__all__ = ["AuditCheckpointRow", "AuditEntryRow", "SqlLogStore"]

_ID = BigInteger().with_variant(Integer, "sqlite")


class AuditEntryRow(Base):
    """One audit entry: index, canonical JSON bytes, leaf hash. Append-only (triggers)."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)


class AuditCheckpointRow(Base):
    """A signed checkpoint (its fields and the canonical JSON line). Append-only (triggers)."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(_ID, index=True)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    time: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    body: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


_E = AuditEntryRow.__table__
_C = AuditCheckpointRow.__table__


class SqlLogStore:
    """:class:`corridorguard.audit.store.LogStore` over the audit tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: ContextVar[Connection | None] = ContextVar(f"audit_conn_{id(self)}")

    @contextmanager
    def bind(self, conn: Connection) -> Iterator[None]:
        """Run appends of this context inside ``conn``'s transaction."""
        token = self._conn.set(conn)
        try:
            yield
        finally:
            self._conn.reset(token)

    @contextmanager
    def _connection(self, *, write: bool) -> Iterator[Connection]:
        bound = self._conn.get(None)
        if bound is not None:
            yield bound
            return
        conn = self.engine.connect()
        if write:
            conn = conn.execution_options(**{WRITE_OPTION: True})
        with conn, conn.begin():
            yield conn

    def append(self, record: LogRecord) -> None:
        with self._connection(write=True) as conn:
            if record.index != self._size(conn):
                raise ConflictError(f"audit append at index {record.index} is not the next one")
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(AuditEntryRow).values(
                            seq=record.index, data=record.data, leaf_hash=record.leaf_hash
                        )
                    )
            except IntegrityError:
                raise ConflictError(f"audit index {record.index} is taken") from None

    @staticmethod
    def _size(conn: Connection) -> int:
        top = conn.execute(select(func.max(_E.c.seq))).scalar_one()
        return 0 if top is None else int(top) + 1

    def size(self) -> int:
        with self._connection(write=False) as conn:
            return self._size(conn)

    def read(self, start: int, stop: int) -> Sequence[LogRecord]:
        stmt = (
            select(_E.c.seq, _E.c.data, _E.c.leaf_hash)
            .where(_E.c.seq >= start, _E.c.seq < stop)
            .order_by(_E.c.seq)
        )
        with self._connection(write=False) as conn:
            return [LogRecord(int(s), bytes(d), bytes(h)) for s, d, h in conn.execute(stmt)]

    def iter_all(self, *, batch: int = 5000) -> Iterator[LogRecord]:
        """Every stored record in ``seq`` order, streamed (for verification).

        Rows are yielded as stored, so a missing or duplicated index shows up as a record whose
        index differs from its position.
        """
        stmt = select(_E.c.seq, _E.c.data, _E.c.leaf_hash).order_by(_E.c.seq)
        with self.engine.connect() as conn:
            for s, d, h in conn.execution_options(yield_per=batch).execute(stmt):
                yield LogRecord(int(s), bytes(d), bytes(h))

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self._connection(write=True) as conn:
            conn.execute(
                insert(AuditCheckpointRow).values(
                    size=checkpoint.size,
                    root=checkpoint.root,
                    time=checkpoint.time,
                    key_id=checkpoint.key_id,
                    signature=checkpoint.signature,
                    body=checkpoint.to_json(),
                )
            )

    def checkpoints(self) -> Sequence[Checkpoint]:
        stmt = select(_C.c.body).order_by(_C.c.id)
        with self._connection(write=False) as conn:
            return [Checkpoint.from_json(body) for (body,) in conn.execute(stmt)]
