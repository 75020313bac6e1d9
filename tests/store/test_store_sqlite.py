"""SQLite specifics: durability pragmas on every connection, writers lock up front, defaults."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from corridorguard.errors import ConfigError
from corridorguard.settings import default_database_url
from corridorguard.store import make_engine, mask_url, open_store


def test_every_connection_gets_the_durability_pragmas(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'a.sqlite3'}") as store:
        conns = [store.engine.connect() for _ in range(3)]  # several pooled connections
        try:
            for conn in conns:
                got = {
                    p: conn.exec_driver_sql(f"PRAGMA {p}").scalar()
                    for p in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
                }
                assert got == {
                    "journal_mode": "wal",
                    "synchronous": 2,  # FULL
                    "foreign_keys": 1,
                    "busy_timeout": 30000,
                }
        finally:
            for conn in conns:
                conn.close()


def test_writer_takes_the_write_lock_at_begin(tmp_path: Path) -> None:
    path = tmp_path / "lock.sqlite3"
    with open_store(f"sqlite:///{path}") as store:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            # No statement yet, but BEGIN IMMEDIATE already holds the RESERVED lock.
            with store.write(), pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.execute("BEGIN IMMEDIATE")  # released on commit
            other.execute("ROLLBACK")
            with store.read():
                other.execute("BEGIN IMMEDIATE")  # readers do not block the writer (WAL)
                other.execute("ROLLBACK")
        finally:
            other.close()


def test_sqlite_file_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "cg.sqlite3"
    with open_store(f"sqlite:///{path}") as store:
        assert store.backend == "sqlite"
    assert path.is_file()


def test_default_url_is_a_file_in_the_user_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CORRIDORGUARD_DATABASE_URL", raising=False)
    url = default_database_url()
    assert url.startswith("sqlite:///") and url.endswith("corridorguard.sqlite3")


def test_in_memory_store_shares_one_database() -> None:
    with open_store("sqlite://") as store:
        assert store.info()["counts"] == {"incidents": 0}


def test_urls_are_masked_and_checked() -> None:
    assert (
        mask_url("postgresql+psycopg://u:s3cret@h:5432/db")
        == "postgresql+psycopg://u:***@h:5432/db"
    )
    with pytest.raises(ConfigError, match="unsupported database"):
        make_engine("mysql://u@h/db")
    with pytest.raises(ConfigError, match="not a database URL"):
        make_engine("::nonsense::")


def test_an_outdated_schema_asks_for_db_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    open_store(url).close()  # at revision 0001
    import corridorguard.store.migrate as migrate

    monkeypatch.setattr(migrate, "head_revision", lambda: "0002")  # as if the code were newer
    with pytest.raises(ConfigError, match="run `corridorguard db upgrade`"):
        open_store(url)


def test_unusable_databases_are_one_line_errors(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from corridorguard.cli import app

    blocker = tmp_path / "file"
    blocker.write_text("x")
    for url in (
        "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
        f"sqlite:///{blocker}/sub/cg.sqlite3",
        "postgresql+nodriver://u@h/db",
    ):
        result = CliRunner().invoke(app, ["db", "info", "--db", url])
        assert result.exit_code == 2, (url, result.output)
        assert result.stderr.startswith("error: ") and "Traceback" not in result.output
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
