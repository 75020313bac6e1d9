"""``corridorguard plan``: incident sources and user errors (the full run is in tests/report)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from corridorguard._cli.plan import load_incidents
from corridorguard.cli import app
from corridorguard.incidents import builtin_path
from corridorguard.store import open_store

runner = CliRunner()


def test_incidents_come_from_the_store_when_it_has_some(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    records, source = load_incidents(None, "ucdp", None, url)
    assert records is None and "built-in" in source  # empty store: the built-in layer
    with open_store(url) as store:
        store.incidents.import_file(builtin_path("cpec"), "csv", source="cpec")
    records, source = load_incidents(None, "ucdp", None, url)
    assert records is not None and len(records) == 13
    assert source == "store (13 incidents)"


def test_incidents_from_a_file(tmp_path: Path) -> None:
    records, source = load_incidents(builtin_path("cpec"), "csv", None, None)
    assert records is not None and len(records) == 13
    assert "cpec.csv" in source


def test_missing_events_file_is_one_line_exit_2(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["plan", "--events", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2
    assert "no such file" in res.output and "Traceback" not in res.output


def test_unknown_scenario_json_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["plan", "--scenario", "atlantis", "--json", "--out", str(tmp_path)])
    assert res.exit_code == 2
    err = json.loads(res.stdout)
    assert "atlantis" in json.dumps(err)


def test_out_must_be_a_folder(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x", encoding="utf-8")
    res = runner.invoke(app, ["plan", "--out", str(f)])
    assert res.exit_code == 2 and "not a folder" in res.output
