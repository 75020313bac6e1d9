"""``corridorguard sync pull``: pull a partner's TAXII 2.1 collection into this store."""

from __future__ import annotations

import typer

from corridorguard._cli._common import DB_OPTION, JSON_OPTION, print_json

app = typer.Typer(no_args_is_help=True, help="Partner sync over TAXII 2.1.")


@app.command("pull")
def pull(
    from_url: str = typer.Option(..., "--from", help="Partner server base URL (http://host:port)."),
    collection: str = typer.Option(
        ..., "--collection", help="TAXII collection id (to-<your org>)."
    ),
    token: str = typer.Option(
        ..., "--token", envvar="CORRIDORGUARD_SYNC_TOKEN", help="Your API token on the partner."
    ),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import the collection's incidents, sites and plans' public parts, keeping their markings
    (newer versions update; running it again adds nothing)."""
    from corridorguard.api.sync import pull as do_pull
    from corridorguard.store import open_store

    with open_store(db) as store:
        result = do_pull(store, from_url, collection, token)
    if as_json:
        print_json(result.to_dict())
    else:
        typer.echo(
            f"{result.imported} imported, {result.updated} new versions, "
            f"{result.unchanged} already held, {result.fetched} fetched"
        )
