"""``corridorguard db upgrade|info``: the store's schema and contents."""

from __future__ import annotations

import typer

from corridorguard._cli._common import DB_OPTION, JSON_OPTION, print_json
from corridorguard.store import open_store

app = typer.Typer(no_args_is_help=True, help="The database: apply migrations, show what is in it.")


@app.command("upgrade")
def upgrade(db: str | None = DB_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Apply pending schema migrations (back up an existing database first)."""
    from corridorguard.store.migrate import current_revision
    from corridorguard.store.migrate import upgrade as run_upgrade

    with open_store(db, upgrade="never") as store:
        before = current_revision(store.engine)
        _, after = run_upgrade(store.engine)
        url = store.url
    if as_json:
        print_json({"url": url, "from": before, "to": after})
    elif before == after:
        typer.echo(f"{url}: schema already at revision {after}")
    else:
        typer.echo(f"{url}: schema upgraded from {before or 'empty'} to {after}")


@app.command("info")
def info(db: str | None = DB_OPTION, as_json: bool = JSON_OPTION) -> None:
    """URL (password masked), backend, schema revision and row counts."""
    with open_store(db, upgrade="never") as store:
        data = store.info()
    if as_json:
        print_json(data)
        return
    typer.echo(f"url:      {data['url']}")
    typer.echo(f"backend:  {data['backend']}")
    rev = data["revision"] or "none (run `corridorguard db upgrade`)"
    note = "" if data["revision"] == data["head"] else f" (code expects {data['head']})"
    typer.echo(f"revision: {rev}{note}")
    for table, n in data["counts"].items():
        typer.echo(f"rows in {table}: {n}")
