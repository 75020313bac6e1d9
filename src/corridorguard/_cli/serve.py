"""``corridorguard serve``: run the API with uvicorn.

Start-up is kept cheap (imports inside the command): the durability tests start a server
hundreds of times. ``--workers N`` runs N uvicorn processes on one port; they share the
database and the audit log safely: every write transaction takes the database's write lock
first (SQLite ``BEGIN IMMEDIATE``; PostgreSQL a transaction-scoped advisory lock), then catches
the in-memory Merkle tree up with entries other processes appended (``AuditLog.refresh``) before
appending, so the log stays one sequence whichever process writes.
"""

from __future__ import annotations

import os

import typer

from corridorguard._cli._common import DB_OPTION


def serve(
    db: str | None = DB_OPTION,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level."),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        help="Server processes (uvicorn workers) sharing the port, the database and the audit log.",
    ),
) -> None:
    """Serve the HTTP API (routes under /api/v1, TAXII 2.1 under /taxii2)."""
    import uvicorn

    if workers > 1:
        # each worker process builds its own app (own connections, own copy of the tree)
        if db is not None:
            os.environ["CORRIDORGUARD_DATABASE_URL"] = db
        uvicorn.run(
            "corridorguard.api.app:create_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level=log_level,
            access_log=False,
        )
        return
    from corridorguard.api import create_app

    app = create_app(db)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
