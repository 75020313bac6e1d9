"""docs/incidents.md documents every incidents/db command and option the CLI has."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from corridorguard._cli import db, incidents

DOC = Path(__file__).resolve().parents[2] / "docs" / "incidents.md"


@pytest.mark.parametrize(("noun", "app"), [("incidents", incidents.app), ("db", db.app)])
def test_every_command_and_option_is_documented(noun: str, app: typer.Typer) -> None:
    text = DOC.read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert commands
    for name, command in commands.items():
        assert f"{noun} {name}" in text, f"`{noun} {name}` missing from {DOC.name}"
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help":
                    assert opt in text, f"`{noun} {name} {opt}` missing from {DOC.name}"
