"""``corridorguard tokens create``: a scoped, expiring API token (only its hash is stored)."""

from __future__ import annotations

import typer

from corridorguard._cli._common import DB_OPTION, JSON_OPTION, print_json
from corridorguard.store import open_store
from corridorguard.store.identity import create_token

app = typer.Typer(no_args_is_help=True, help="API tokens (Authorization: Bearer TOKEN).")


@app.command("create")
def create(
    user: str = typer.Option(..., "--user", help="User name."),
    scopes: str | None = typer.Option(
        None, "--scopes", help="Comma-separated: read,write,admin (default: read,write; +admin)."
    ),
    expires_days: float = typer.Option(30.0, "--expires-days", help="Lifetime in days."),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a token; it is printed once and cannot be recovered later."""
    wanted = tuple(s.strip() for s in scopes.split(",") if s.strip()) if scopes else None
    with open_store(db) as store, store.session() as session:
        secret, row = create_token(session, user, scopes=wanted, expires_days=expires_days)
        out = {
            "token": secret,
            "user": user,
            "scopes": list(row.scopes),
            "expires_at": row.expires_at.isoformat(),
        }
    if as_json:
        print_json(out)
    else:
        typer.echo(secret)
