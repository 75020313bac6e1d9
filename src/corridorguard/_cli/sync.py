"""``corridorguard sync pull``: pull a partner's TAXII 2.1 collection into this store."""

from __future__ import annotations

import typer

from corridorguard._cli._common import DB_OPTION, JSON_OPTION, print_json
from corridorguard.errors import ValidationError
from corridorguard.sharing.records import parse_time

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
    added_after: str | None = typer.Option(
        None,
        "--added-after",
        help="Only what the partner added after this time (ISO 8601 with offset, e.g. "
        "2026-01-01T00:00:00Z); default: after the last pull from this partner and collection.",
    ),
    full: bool = typer.Option(
        False, "--full", help="Read the whole collection again (idempotent; the state is kept)."
    ),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import the collection's incidents, sites and plans' public parts, keeping their markings
    (newer versions update; running it again adds nothing). Incremental: only what the partner
    added since the last pull (remembered per partner and collection), unless --full or
    --added-after."""
    from corridorguard.api.sync import pull as do_pull
    from corridorguard.store import open_store

    since = None
    if added_after is not None:
        since = parse_time(added_after, field_name="--added-after")
        if "Z" not in added_after and "+" not in added_after[10:] and "-" not in added_after[10:]:
            raise ValidationError(
                "--added-after needs a UTC offset (e.g. Z)", field="--added-after"
            )
    with open_store(db) as store:
        result = do_pull(store, from_url, collection, token, added_after=since, full=full)
    if as_json:
        print_json(result.to_dict())
    else:
        typer.echo(
            f"{result.imported} imported, {result.updated} new versions, "
            f"{result.unchanged} already held, {result.fetched} fetched"
            + (f" (added after {result.added_after.isoformat()})" if result.added_after else "")
        )
