"""Shared CLI plumbing: JSON output, error lines, progress bars, database option."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from corridorguard.errors import CorridorError

__all__ = [
    "DB_OPTION",
    "JSON_OPTION",
    "ProgressCallback",
    "err_console",
    "print_error",
    "print_json",
    "progress_bar",
]

err_console = Console(stderr=True)

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON on stdout.")
DB_OPTION = typer.Option(
    None,
    "--db",
    help="Database URL (default: CORRIDORGUARD_DATABASE_URL, else a SQLite file in the data dir).",
)


def print_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout (one document)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_error(exc: CorridorError, *, as_json: bool = False) -> None:
    """One clear line on stderr, or the JSON error shape on stdout with ``--json``."""
    if as_json:
        print_json(exc.to_dict())
    else:
        typer.echo(f"error: {exc}", err=True)


ProgressCallback = Any  # Callable[[int, int | None], None]: (done, total)


@contextmanager
def progress_bar(description: str, *, total: int | None = None) -> Iterator[Any]:
    """A rich progress bar on stderr; yields ``update(done, total=None)``.

    Hidden when stderr is not a terminal, so JSON output and tests stay clean.
    """
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=not sys.stderr.isatty(),
        transient=False,
    )
    with progress:
        task = progress.add_task(description, total=total)

        def update(done: int, total: int | None = None) -> None:
            if total is not None:
                progress.update(task, total=total)
            progress.update(task, completed=done)

        yield update
