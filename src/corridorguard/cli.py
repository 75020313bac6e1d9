"""The ``corridorguard`` command: ``corridorguard <noun> <verb>``.

Thin: each noun lives in ``corridorguard._cli.<noun>`` and only parses, calls the library and
prints. User errors (:class:`~corridorguard.errors.CorridorError`) print one clear line on stderr
(or the JSON error shape with ``--json``) and exit non-zero; never a traceback.
"""

from __future__ import annotations

import difflib
from typing import Any

import typer
from typer._click.core import Context as _Context
from typer._click.exceptions import UsageError
from typer.core import TyperGroup

from corridorguard import __version__
from corridorguard._cli._common import print_error
from corridorguard.errors import CorridorError

__all__ = ["app", "main"]


_NOUNS: dict[str, tuple[str, str | None]] = {
    # name: (module in corridorguard._cli, command function; None = the module's Typer ``app``)
    "serve": ("serve", "serve"),
    "demo": ("demo", "demo"),
    "plan": ("plan", "plan"),
    "scenario": ("scenario", None),
    "risk": ("risk", None),
    "audit": ("audit", None),
    "incidents": ("incidents", None),
    "db": ("db", None),
    "patrol": ("patrol", None),
    "place": ("place", None),
    "route": ("route", None),
    "orgs": ("orgs", None),
    "users": ("users", None),
    "tokens": ("tokens", None),
    "sync": ("sync", None),
    "exercise": ("exercise", None),
    "game": ("game", None),
}
"""Every noun, loaded on first use: a command imports only its own module (and so its own
dependencies), not the whole platform (``corridorguard --version`` took 2.7 s when every noun
was imported at start-up)."""


def _load(name: str) -> Any:
    import importlib

    from typer.main import get_command, get_group

    module, func = _NOUNS[name]
    mod = importlib.import_module(f"corridorguard._cli.{module}")
    cmd: Any
    if func is None:
        cmd = get_group(mod.app)  # always a group, even with one verb (``route convoy``)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(getattr(mod, func))
        cmd = get_command(single)
    cmd.name = name
    return cmd


class _Root(TyperGroup):
    """Root group that loads nouns on first use and turns user errors into one line and an
    exit code."""

    def list_commands(self, ctx: _Context) -> list[str]:
        return list(_NOUNS)

    def get_command(self, ctx: _Context, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in _NOUNS:
            self.commands[cmd_name] = _load(cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: _Context, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:  # suggest among every noun, loaded or not
            near = difflib.get_close_matches(args[0], list(_NOUNS)) if args else []
            if near and "Did you mean" not in exc.message:
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {near[0]!r}?"
            raise

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


def main() -> None:
    """Console entry point."""
    app()
