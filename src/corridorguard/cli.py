"""The ``corridorguard`` command: ``corridorguard <noun> <verb>``.

Thin: each noun lives in ``corridorguard._cli.<noun>`` and only parses, calls the library and
prints. User errors (:class:`~corridorguard.errors.CorridorError`) print one clear line on stderr
(or the JSON error shape with ``--json``) and exit non-zero; never a traceback.
"""

from __future__ import annotations

from typing import Any

import typer
from typer._click.core import Context as _Context
from typer.core import TyperGroup

from corridorguard import __version__
from corridorguard._cli import audit as _audit
from corridorguard._cli import db as _db
from corridorguard._cli import demo as _demo
from corridorguard._cli import exercise as _exercise
from corridorguard._cli import game as _game
from corridorguard._cli import incidents as _incidents
from corridorguard._cli import orgs as _orgs
from corridorguard._cli import patrol as _patrol
from corridorguard._cli import place as _place
from corridorguard._cli import plan as _plan
from corridorguard._cli import risk as _risk
from corridorguard._cli import route as _route
from corridorguard._cli import scenario as _scenario
from corridorguard._cli import serve as _serve
from corridorguard._cli import sync as _sync
from corridorguard._cli import tokens as _tokens
from corridorguard._cli import users as _users
from corridorguard._cli._common import print_error
from corridorguard.errors import CorridorError

__all__ = ["app", "main"]


class _Root(TyperGroup):
    """Root group that turns user errors into one line and an exit code."""

    def parse_args(self, ctx: _Context, args: list[str]) -> list[str]:
        ctx.meta["corridorguard.json"] = "--json" in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx: _Context) -> Any:
        try:
            return super().invoke(ctx)
        except CorridorError as exc:
            print_error(exc, as_json=bool(ctx.meta.get("corridorguard.json")))
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    name="corridorguard",
    cls=_Root,
    no_args_is_help=True,
    add_completion=False,
    help="Accountable protection planning for transport and infrastructure corridors.",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"corridorguard {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Accountable protection planning for transport and infrastructure corridors."""


app.add_typer(_scenario.app, name="scenario")
app.add_typer(_risk.app, name="risk")
app.add_typer(_audit.app, name="audit")
app.add_typer(_incidents.app, name="incidents")
app.add_typer(_db.app, name="db")
app.add_typer(_patrol.app, name="patrol")
app.add_typer(_place.app, name="place")
app.add_typer(_route.app, name="route")
app.add_typer(_orgs.app, name="orgs")
app.add_typer(_users.app, name="users")
app.add_typer(_tokens.app, name="tokens")
app.add_typer(_sync.app, name="sync")
app.command("serve")(_serve.serve)
app.command("demo")(_demo.demo)
app.command("plan")(_plan.plan)
app.add_typer(_exercise.app, name="exercise")
app.add_typer(_game.app, name="game")


def main() -> None:
    """Console entry point."""
    app()
