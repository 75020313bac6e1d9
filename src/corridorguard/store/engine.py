"""Engines for the store: SQLite (embedded, default) and PostgreSQL, set up the same way.

SQLite connections get, on every connect: ``journal_mode=WAL`` (readers never block the writer),
``synchronous=FULL`` (a commit survives power loss), ``foreign_keys=ON`` and a 30 s
``busy_timeout``. The pysqlite driver's own transaction handling is turned off and SQLAlchemy
emits ``BEGIN`` itself: ``BEGIN IMMEDIATE`` for connections marked as writers
(``conn.execution_options(corridorguard_write=True)``, see :meth:`Store.write`), so a writer takes
the write lock up front instead of failing half-way with ``database is locked``.

PostgreSQL connections run writer transactions with ``synchronous_commit = on``. A pooled
PostgreSQL connection is checked with a ping before use only when it sat idle in the pool for
more than :data:`PING_IDLE_SECONDS` (a server restart or an idle timeout closes such ones): a
connection handed out again right away skips that extra round trip, which every request paid with
``pool_pre_ping``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.pool import StaticPool

from corridorguard.errors import ConfigError

__all__ = ["PING_IDLE_SECONDS", "SQLITE_PRAGMAS", "WRITE_OPTION", "make_engine", "mask_url"]

#: Pragmas applied to every SQLite connection, in order.
SQLITE_PRAGMAS: tuple[tuple[str, str], ...] = (
    ("journal_mode", "WAL"),
    ("synchronous", "FULL"),
    ("foreign_keys", "ON"),
    ("busy_timeout", "30000"),
)

#: Execution option marking a connection as a writer (``BEGIN IMMEDIATE`` on SQLite).
WRITE_OPTION = "corridorguard_write"


def mask_url(url: str | URL) -> str:
    """The URL as text with any password replaced by ``***``."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "<invalid database URL>"
    return parsed.render_as_string(hide_password=True)


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"not a database URL: {exc}", field="database_url") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"unsupported database {backend!r}; use sqlite:/// or postgresql+psycopg://",
            field="database_url",
        )
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    try:
        for name, value in SQLITE_PRAGMAS:
            cur.execute(f"PRAGMA {name}={value}")
    finally:
        cur.close()


def _sqlite_begin(conn: Any) -> None:
    write = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _pg_begin(conn: Any) -> None:
    if conn.get_execution_options().get(WRITE_OPTION, False):
        conn.exec_driver_sql("SET LOCAL synchronous_commit = on")


#: A pooled PostgreSQL connection idle for longer than this is pinged before it is handed out.
PING_IDLE_SECONDS = 2.0
_IDLE_SINCE = "corridorguard_idle_since"


def _pg_connect(_dbapi_conn: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()  # new: no ping needed on its first checkout


def _pg_checkin(_dbapi_conn: Any, record: Any) -> None:
    if record is not None:
        record.info[_IDLE_SINCE] = time.monotonic()


def _pg_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection that was idle for a while; a dead one is replaced by the pool."""
    since = record.info.get(_IDLE_SINCE)
    if since is not None and time.monotonic() - since < PING_IDLE_SECONDS:
        return
    try:
        cur = dbapi_conn.cursor()
        try:
            cur.execute("SELECT 1")
        finally:
            cur.close()
        dbapi_conn.rollback()
    except Exception as exc:  # the driver's error for a closed connection, whatever it is
        raise DisconnectionError(str(exc)) from exc


def make_engine(url: str, *, echo: bool = False, **kwargs: Any) -> Engine:
    """A SQLAlchemy engine for ``url`` with the store's connection settings.

    For a SQLite file, the parent folder is created. ``sqlite://`` (in memory) shares one
    connection so every session sees the same database. Extra ``kwargs`` go to
    :func:`sqlalchemy.create_engine` (e.g. ``connect_args``).
    """
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        memory = database in ("", ":memory:") or database.startswith("file::memory:")
        if memory:
            kwargs.setdefault("poolclass", StaticPool)
            kwargs.setdefault("connect_args", {"check_same_thread": False})
        else:
            folder = Path(database).expanduser().resolve().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(
                    f"cannot create the folder of {database}: {exc.strerror}", field="database_url"
                ) from None
        engine = create_engine(parsed, echo=echo, **kwargs)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(parsed, echo=echo, **kwargs)
    event.listen(engine, "begin", _pg_begin)
    event.listen(engine, "connect", _pg_connect)
    event.listen(engine, "checkin", _pg_checkin)
    event.listen(engine, "checkout", _pg_checkout)
    return engine
