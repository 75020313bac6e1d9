"""``corridorguard users create|list``: users of an organisation with one role."""

from __future__ import annotations

import sys

import typer
from sqlalchemy import select

from corridorguard._cli._common import DB_OPTION, JSON_OPTION, print_json
from corridorguard.errors import ValidationError
from corridorguard.store import open_store
from corridorguard.store.identity import OrgRow, UserRow, create_user

app = typer.Typer(no_args_is_help=True, help="Users: one organisation and one role each.")


@app.command("create")
def create(
    username: str = typer.Argument(..., help="User name (unique)."),
    org: str = typer.Option(..., "--org", help="Organisation name."),
    role: str = typer.Option(
        ..., "--role", help="reporter, analyst, planner, commander, oversight or admin."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (first line)."
    ),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a user; the password (>= 12 characters) is stored as an argon2id hash."""
    if not password_stdin:
        raise ValidationError("pass the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    with open_store(db) as store, store.session() as session:
        row = create_user(session, username, org=org, role=role, password=password)
        out = {"id": row.id, "username": row.username, "org": org, "role": row.role}
    if as_json:
        print_json(out)
    else:
        typer.echo(f"user {out['username']} ({out['role']} of {org}) id {out['id']}")


@app.command("list")
def list_(db: str | None = DB_OPTION, as_json: bool = JSON_OPTION) -> None:
    """List users (never their password hashes)."""
    with open_store(db) as store, store.session(write=False) as session:
        stmt = select(UserRow, OrgRow.name).join(OrgRow).order_by(UserRow.id)
        rows = [
            {"id": u.id, "username": u.username, "org": o, "role": u.role, "active": u.active}
            for u, o in session.execute(stmt)
        ]
    if as_json:
        print_json(rows)
    else:
        for r in rows:
            typer.echo(f"{r['id']}\t{r['username']}\t{r['org']}\t{r['role']}")
