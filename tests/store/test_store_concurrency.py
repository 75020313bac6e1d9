"""Concurrent writers on one SQLite file (no lost rows, no lock errors); a large slow import."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from corridorguard.store import open_store
from corridorguard.store.incidents import ImportReport

SRC = Path(__file__).resolve().parents[2] / "src"


def _csv(path: Path, ids: range) -> Path:
    lines = ["source_id,time,lon,lat,type"]
    lines += [
        f"r{i},2024-01-01T00:00:{i % 60:02d},{60 + i % 10}.5,{25 + i % 7}.25,test" for i in ids
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _import(db: str, path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    args = [sys.executable, "-m", "corridorguard", "incidents", "import", str(path)]
    args += ["--format", "csv", "--source", "conc", "--db", db, "--json"]
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_overlapping_imports_from_several_writers(tmp_path: Path) -> None:
    path = tmp_path / "cg.sqlite3"
    db = f"sqlite:///{path}"
    open_store(db).close()  # schema first, as `make demo` or `db upgrade` would
    spans = [range(k * 1000, k * 1000 + 2000) for k in range(4)]
    files = [_csv(tmp_path / f"part{k}.csv", span) for k, span in enumerate(spans)]
    start = threading.Barrier(len(files))

    def run(file: Path) -> ImportReport:
        with open_store(db) as store:  # own engine and connection per writer
            start.wait()
            return store.incidents.import_file(file, "csv", source="conc")

    with ThreadPoolExecutor(len(files)) as pool:
        results = list(pool.map(run, files))
    unique = len(set().union(*map(set, spans)))
    assert sum(r.imported for r in results) == unique == 5000
    assert sum(r.duplicates for r in results) == 4 * 2000 - unique
    with open_store(db) as store:
        assert store.incidents.count() == unique
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


@pytest.mark.slow
def test_large_import_is_idempotent_and_atomic(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'big.sqlite3'}"
    big = _csv(tmp_path / "big.csv", range(300_000))
    first = _import(db, big).communicate(timeout=600)
    assert json.loads(first[0])["imported"] == 300_000, first[1]
    again = _import(db, big).communicate(timeout=600)
    assert json.loads(again[0])["duplicates"] == 300_000
    with big.open("a", encoding="utf-8") as fh:
        fh.write("bad,2024-01-01,abc,1,test\n")
    proc = _import(db, big)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 2 and f"line {300_002}: lon: not a number: 'abc'" in out
    with open_store(db) as store:
        assert store.incidents.count() == 300_000
