"""Helpers of the API tests: a small multi-agency world: three agencies, an oversight body, users of
every role, their tokens, an app over a fresh SQLite file and a TestClient."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from corridorguard.api import create_app
from corridorguard.api.config import ServerSettings
from corridorguard.audit.checkpoint import generate_private_key, private_key_pem
from corridorguard.sharing.policy import Actor, Role
from corridorguard.store import Store, identity, open_store
from corridorguard.store.identity import create_org, create_token, create_user

AGENCIES = ("ORG-A", "ORG-B", "ORG-C")
OVERSIGHT = "BOARD"
ROLES = ("reporter", "analyst", "planner", "commander", "admin")
PASSWORD = "correct horse battery"


@dataclass
class World:
    """Everything a test needs: app, client, store, tokens and actors by user name."""

    url: str
    store: Store
    client: TestClient
    key_file: Path
    key: Ed25519PrivateKey
    tokens: dict[str, str] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)

    def h(self, user: str | None) -> dict[str, str]:
        """Authorization header of ``user`` (none for ``None``)."""
        return {} if user is None else {"Authorization": f"Bearer {self.tokens[user]}"}

    def post(self, user: str | None, path: str, body: Any, **headers: str) -> Any:
        return self.client.post(path, json=body, headers={**self.h(user), **headers})

    def get(self, user: str | None, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.h(user))


def user_name(org: str, role: str) -> str:
    return f"{role}-{org.lower()}"


@dataclass(frozen=True)
class Template:
    """A populated database file (organisations, users, tokens) to copy per test: argon2
    hashing of 16 passwords is the slow part of building a world."""

    path: Path
    key_file: Path
    key: Ed25519PrivateKey
    tokens: dict[str, str]
    actors: dict[str, Actor]


def make_template(tmp: Path, url: str | None = None) -> Template:
    key = generate_private_key()
    key_file = tmp / "audit.pem"
    key_file.write_bytes(private_key_pem(key))
    path = tmp / "template.sqlite3"
    tokens: dict[str, str] = {}
    actors: dict[str, Actor] = {}
    # Cheap argon2 parameters for test users only (hashes carry their parameters, so
    # verification is unchanged); the server keeps argon2-cffi's RFC 9106 defaults.
    identity._HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    try:
        _populate(url or f"sqlite:///{path}", tokens, actors)
    finally:
        identity._HASHER = PasswordHasher()
    return Template(path, key_file, key, tokens, actors)


def _populate(url: str, tokens: dict[str, str], actors: dict[str, Actor]) -> None:
    with open_store(url) as store, store.session() as s:
        for org in AGENCIES:
            create_org(s, org)
        create_org(s, OVERSIGHT, kind="oversight")
        people = [(o, r) for o in AGENCIES for r in ROLES] + [(OVERSIGHT, "oversight")]
        for org, role in people:
            name = user_name(org, role)
            create_user(s, name, org=org, role=role, password=PASSWORD)
            tokens[name] = create_token(s, name)[0]
            actors[name] = Actor(user_id=name, org=org, role=Role(role))


def open_world(t: Template, url: str, *, checkpoint_every: int = 25) -> World:
    """An app over ``url`` (a copy of the template, or a populated PostgreSQL schema)."""
    store = open_store(url)
    settings = ServerSettings(
        audit_key_file=str(t.key_file), audit_checkpoint_every=checkpoint_every
    )
    app = create_app(url, store=store, server_settings=settings)
    return World(url, store, TestClient(app), t.key_file, t.key, dict(t.tokens), dict(t.actors))


def copy_world(t: Template, tmp: Path, **options: Any) -> World:
    """A fresh world: a copy of the template database."""
    tmp.mkdir(parents=True, exist_ok=True)
    target = tmp / "api.sqlite3"
    shutil.copyfile(t.path, target)
    return open_world(t, f"sqlite:///{target}", **options)


def incident(tlp: str = "GREEN", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "lon": 66.5,
        "lat": 25.1,
        "time": "2024-03-20T10:00:00Z",
        "type": "armed assault",
        "description": "notional test report",
        "tlp": tlp,
    }
    body.update(extra)
    return body


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


PG_URL = os.environ.get("CORRIDORGUARD_TEST_PG_URL", "")
#: A PostgreSQL test: runs when a test database is given, and fails (never skips) in CI, where
#: ``.ci/run`` sets ``CORRIDORGUARD_REQUIRE_PG=1``.
NEEDS_PG = pytest.mark.skipif(
    not PG_URL and os.environ.get("CORRIDORGUARD_REQUIRE_PG") != "1",
    reason="needs CORRIDORGUARD_TEST_PG_URL (set by .ci/run, which also sets REQUIRE_PG=1)",
)


@contextmanager
def pg_schema() -> Iterator[str]:
    """A PostgreSQL URL whose ``search_path`` is a fresh schema (dropped afterwards)."""
    import uuid
    from urllib.parse import quote

    from sqlalchemy import create_engine, text

    if not PG_URL:
        raise RuntimeError("CORRIDORGUARD_TEST_PG_URL is not set")
    schema = f"cg_api_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
