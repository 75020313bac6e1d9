"""``corridorguard scenario list|show|validate|export``."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="Corridor scenarios: list, show, validate, export.")
