"""``corridorguard orgs create|list``: organisations (partner agencies, oversight bodies)."""

from __future__ import annotations

import typer
from sqlalchemy import select

from corridorguard._cli._common import DB_OPTION, JSON_OPTION, print_json
from corridorguard.store import open_store
from corridorguard.store.identity import OrgRow, create_org

app = typer.Typer(
    no_args_is_help=True, help="Organisations: partner agencies and oversight bodies."
)


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Organisation name (unique)."),
    kind: str = typer.Option("agency", "--kind", help="agency (a force) or oversight."),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add an organisation."""
    with open_store(db) as store, store.session() as session:
        row = create_org(session, name, kind=kind)
        out = {"id": row.id, "name": row.name, "kind": row.kind}
    if as_json:
        print_json(out)
    else:
        typer.echo(f"organisation {out['name']} ({out['kind']}) id {out['id']}")


@app.command("list")
def list_(db: str | None = DB_OPTION, as_json: bool = JSON_OPTION) -> None:
    """List organisations."""
    with open_store(db) as store, store.session(write=False) as session:
        rows = [
            {"id": r.id, "name": r.name, "kind": r.kind}
            for r in session.scalars(select(OrgRow).order_by(OrgRow.id))
        ]
    if as_json:
        print_json(rows)
    else:
        for r in rows:
            typer.echo(f"{r['id']}\t{r['name']}\t{r['kind']}")
