"""The :class:`Store`: one database (SQLite or PostgreSQL), its schema check and repositories."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, func, inspect, select
from sqlalchemy.exc import InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from corridorguard.errors import ConfigError
from corridorguard.settings import get_settings
from corridorguard.store.engine import WRITE_OPTION, make_engine, mask_url
from corridorguard.store.incidents import SqlIncidentRepository
from corridorguard.store.migrate import UpgradePolicy, check_schema, current_revision, head_revision
from corridorguard.store.models import Base

__all__ = ["Store", "open_store"]


class Store:
    """A database holding corridorguard's records.

    Build it with :func:`open_store` (or :meth:`Store.open`). Repositories hang off it
    (``store.incidents``); later layers add theirs the same way. Use :meth:`write` for a
    transaction that writes (``BEGIN IMMEDIATE`` on SQLite), :meth:`read` for one that only reads,
    and :meth:`session` for ORM work.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.incidents = SqlIncidentRepository(engine)
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | None = None, *, upgrade: UpgradePolicy = "auto") -> Store:
        """Connect to ``url`` (default: settings) and apply the schema policy ``upgrade``.

        ``"auto"``: a fresh empty database is migrated to the head revision; an outdated one is
        refused with a message to run ``corridorguard db upgrade``. ``"always"``: migrate to
        head. ``"never"``: no check (for tools that inspect any state).
        """
        url = url or get_settings().database_url
        try:
            engine = make_engine(url)
        except NoSuchModuleError as exc:
            raise ConfigError(
                f"no driver for {mask_url(url)}: {exc}", field="database_url"
            ) from None
        try:
            check_schema(engine, upgrade)
        except (OperationalError, InterfaceError) as exc:
            engine.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ConfigError(
                f"cannot use database {mask_url(url)}: {reason}", field="database_url"
            ) from None
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @property
    def url(self) -> str:
        """The database URL with the password masked."""
        return mask_url(self.engine.url)

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection inside a writing transaction, committed on success."""
        writer = self.engine.connect().execution_options(**{WRITE_OPTION: True})
        with writer as conn, conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection inside a read transaction (a consistent snapshot)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """An ORM session in one transaction (committed on success, rolled back on error)."""
        bind = self.engine.connect()
        if write:
            bind = bind.execution_options(**{WRITE_OPTION: True})
        try:
            with Session(bind=bind, expire_on_commit=False) as session, session.begin():
                yield session
        finally:
            bind.close()

    def info(self) -> dict[str, Any]:
        """URL (password masked), backend, schema revisions and row counts per table."""
        counts: dict[str, int] = {}
        present = set(inspect(self.engine).get_table_names())
        with self.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                if table.name not in present:
                    continue
                counts[table.name] = int(
                    conn.execute(select(func.count()).select_from(table)).scalar_one()
                )
        return {
            "url": self.url,
            "backend": self.backend,
            "revision": current_revision(self.engine),
            "head": head_revision(),
            "counts": counts,
        }

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(url: str | None = None, *, upgrade: UpgradePolicy = "auto") -> Store:
    """Open the store at ``url`` (default: ``CORRIDORGUARD_DATABASE_URL`` or the SQLite file in the
    user data directory). See :meth:`Store.open` for ``upgrade``."""
    return Store.open(url, upgrade=upgrade)
