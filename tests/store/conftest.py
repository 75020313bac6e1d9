"""Backends for the store contract tests: a SQLite file and a fresh PostgreSQL schema per test.

PostgreSQL runs when ``CORRIDORGUARD_TEST_PG_URL`` is set (``.ci/run`` sets it); with
``CORRIDORGUARD_REQUIRE_PG=1`` a missing or unreachable server FAILS the tests instead of skipping.
Each PostgreSQL test gets its own schema (``search_path`` in the URL), dropped afterwards, so
tests are isolated and can run in parallel workers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from corridorguard.store import Store, open_store

PG_URL = os.environ.get("CORRIDORGUARD_TEST_PG_URL", "")
REQUIRE_PG = os.environ.get("CORRIDORGUARD_REQUIRE_PG", "") == "1"

_PG_MARKS = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not PG_URL and not REQUIRE_PG,
        reason="PostgreSQL contract tests need CORRIDORGUARD_TEST_PG_URL (set by .ci/run)",
    ),
]

#: Parametrise a test over both backends: ``@pytest.mark.parametrize("backend", BACKENDS)``.
BACKENDS = ["sqlite", pytest.param("postgresql", marks=_PG_MARKS)]


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose ``search_path`` is a fresh, empty schema (dropped afterwards)."""
    if not PG_URL:
        pytest.fail("CORRIDORGUARD_REQUIRE_PG=1 but CORRIDORGUARD_TEST_PG_URL is not set")
    schema = f"cg_{uuid.uuid4().hex[:16]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # unreachable server: fail loudly, never skip
        admin.dispose()
        pytest.fail(f"PostgreSQL at {PG_URL} unreachable: {exc}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def backend_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty database of ``backend`` for this test."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL, once per backend."""
    return backend_url(request.param, request, tmp_path)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A store on an empty database (migrated by the open-time policy), once per backend."""
    with open_store(db_url) as s:
        yield s
