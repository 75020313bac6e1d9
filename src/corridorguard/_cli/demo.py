"""``corridorguard demo``: what ``make demo`` runs."""

from __future__ import annotations

from pathlib import Path

import typer


def demo(out: Path = typer.Option(Path("out"), "--out", help="Output folder.")) -> None:
    """Run the main job on the built-in CPEC scenario with the embedded store."""
    out.mkdir(parents=True, exist_ok=True)
    typer.echo(f"demo output in {out}")
