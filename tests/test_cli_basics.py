from __future__ import annotations

from typer.testing import CliRunner

from corridorguard import __version__
from corridorguard.cli import app


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"corridorguard {__version__}"
