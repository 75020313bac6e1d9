"""``corridorguard serve``: run the API with uvicorn (one process; SQLite's one writer)."""

from __future__ import annotations

import typer

from corridorguard._cli._common import DB_OPTION


def serve(
    db: str | None = DB_OPTION,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level."),
) -> None:
    """Serve the HTTP API (routes under /api/v1, TAXII 2.1 under /taxii2)."""
    import uvicorn

    from corridorguard.api import create_app

    app = create_app(db)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
