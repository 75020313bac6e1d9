from __future__ import annotations

from typer.testing import CliRunner

from corridorguard import __version__
from corridorguard.cli import app


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"corridorguard {__version__}"


def test_nouns_load_on_first_use() -> None:
    """A command imports its own noun only: `--version` pulls in neither the store nor the
    solvers (checked in a fresh interpreter, since this one has imported everything)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import corridorguard

    env = {**os.environ, "PYTHONPATH": str(Path(corridorguard.__file__).parents[1])}

    code = (
        "import sys; from typer.testing import CliRunner; from corridorguard.cli import app; "
        "r = CliRunner().invoke(app, ['--version']); assert r.exit_code == 0, r.output; "
        "heavy = [m for m in ('corridorguard.store', 'corridorguard.routing', 'sqlalchemy', "
        "'scipy', 'corridorguard._cli.route') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == ""
    code_route = code.replace("['--version']", "['route', '--help']")
    out = subprocess.run(
        [sys.executable, "-c", code_route], capture_output=True, text=True, check=True, env=env
    )
    loaded = out.stdout.strip().split(",")
    assert "corridorguard._cli.route" in loaded and "corridorguard.store" not in loaded


def test_every_noun_loads_and_lists_in_help() -> None:
    from corridorguard.cli import _NOUNS

    res = CliRunner().invoke(app, ["--help"])
    assert res.exit_code == 0
    for noun in _NOUNS:
        assert f" {noun} " in res.stdout
        sub = CliRunner().invoke(app, [noun, "--help"])
        assert sub.exit_code == 0, (noun, sub.output)
        assert f"corridorguard {noun}" in sub.stdout


def test_a_mistyped_noun_gets_a_suggestion() -> None:
    res = CliRunner().invoke(app, ["tokns"])
    assert res.exit_code == 2 and "Did you mean 'tokens'?" in res.output
