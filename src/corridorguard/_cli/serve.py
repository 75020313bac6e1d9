"""``corridorguard serve``: run the API with uvicorn.

Start-up is kept cheap (imports inside the command): the durability tests start a server
hundreds of times. ``--workers N`` runs N uvicorn processes on one port; they share the
database and the audit log safely: every write transaction takes the database's write lock
first (SQLite ``BEGIN IMMEDIATE``; PostgreSQL a transaction-scoped advisory lock), then catches
the in-memory Merkle tree up with entries other processes appended (``AuditLog.refresh``) before
appending, so the log stays one sequence whichever process writes.

The event loop (``--loop``) by default is asyncio's own with one process and uvloop with
several. libuv (under uvloop) accepts **one** new connection per loop iteration (libuv PR
#3696, 2022), and an iteration of a busy process runs every request in flight: with one
process, a burst of new connections (50 clients connecting at once) waited for ``accept()`` one
iteration each, up to ~2 s on SQLite (the listening socket's accept queue, ``ss -ltn``, drained
one connection per 50-100 ms; those first requests were the 1-2 s tail of the load test).
asyncio accepts the whole queue at once. With several processes on one socket that greed
would let the first process to wake take every pending connection (2 workers served at the
rate of 1); libuv's one-at-a-time accept leaves the next connection to an idle process.
"""

from __future__ import annotations

import os

import typer

from corridorguard._cli._common import DB_OPTION

#: ``--workers`` default: one process per CPU, at most this many.
MAX_DEFAULT_WORKERS = 4
LOOPS = ("asyncio", "uvloop", "auto")


def default_loop(workers: int) -> str:
    """asyncio for one process, uvloop for several (see the module docstring)."""
    return "asyncio" if workers <= 1 else "uvloop"


def default_workers(cpus: int | None = None) -> int:
    """The default number of server processes: the CPUs (at least 1, at most
    :data:`MAX_DEFAULT_WORKERS`)."""
    n = os.cpu_count() if cpus is None else cpus
    return max(1, min(n or 1, MAX_DEFAULT_WORKERS))


def serve(
    db: str | None = DB_OPTION,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level."),
    workers: int = typer.Option(
        0,
        "--workers",
        min=0,
        help=(
            "Server processes (uvicorn workers) sharing the port, the database and the audit "
            f"log; 0 (default): one per CPU, at most {MAX_DEFAULT_WORKERS}."
        ),
    ),
    loop: str = typer.Option(
        "",
        "--loop",
        help=(
            "Event loop: asyncio, uvloop or auto (uvicorn's choice: uvloop); default: asyncio "
            "with one worker, uvloop with several."
        ),
    ),
) -> None:
    """Serve the HTTP API (routes under /api/v1, TAXII 2.1 under /taxii2)."""
    import uvicorn

    from corridorguard.errors import ConfigError

    if loop and loop not in LOOPS:
        raise ConfigError(f"--loop must be one of {', '.join(LOOPS)}", field="loop")
    n = workers or default_workers()
    loop = loop or default_loop(n)
    if n > 1:
        # each worker process builds its own app (own connections, own copy of the tree);
        # what must happen once is done here first, so the workers do not race for it: a fresh
        # database is migrated and a development audit key is created
        if db is not None:
            os.environ["CORRIDORGUARD_DATABASE_URL"] = db
        _prepare_once(db)
        uvicorn.run(
            "corridorguard.api.app:create_app",
            factory=True,
            workers=n,
            host=host,
            port=port,
            log_level=log_level,
            access_log=False,
            loop=loop,
        )
        return
    from corridorguard.api import create_app

    app = create_app(db)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, loop=loop)


def _prepare_once(db: str | None) -> None:
    """Open the store (schema policy ``auto`` migrates a fresh database) and load the signing
    key (generated on first use in development) once, before the worker processes start."""
    from corridorguard.api.config import ServerSettings, load_signing_key
    from corridorguard.settings import get_settings
    from corridorguard.store import open_store

    settings = get_settings(database_url=db)
    load_signing_key(ServerSettings(), settings)
    open_store(settings.database_url).close()
