"""Durability: SIGKILL a real ``corridorguard serve`` at random moments during concurrent
incident writes. After every kill: every acknowledged write (HTTP 201) is in the database,
``PRAGMA integrity_check`` is ok, the audit log verifies against its signed checkpoints, and
retrying unanswered requests with their ``Idempotency-Key`` creates no duplicates."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_world import PG_URL, Template, copy_world, incident, make_template, pg_schema
from sqlalchemy import func, select, text

from corridorguard.audit.verify import verify_log
from corridorguard.store import open_store
from corridorguard.store.audit_sql import SqlLogStore
from corridorguard.store.models import IncidentRow

SRC = str(Path(__file__).resolve().parents[2] / "src")
WRITER = "reporter-org-a"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(url: str, key_file: Path, port: int, log: Any) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": SRC,
        "CORRIDORGUARD_AUDIT_KEY_FILE": str(key_file),
        "CORRIDORGUARD_AUDIT_CHECKPOINT_EVERY": "20",
    }
    cmd = [sys.executable, "-m", "corridorguard", "serve", "--db", url, "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("serve exited early (see its log)")
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("serve did not start")


def _writer(
    base: str, token: str, keys: list[str], acked: dict[str, int], stop: threading.Event
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=10) as client:
        for key in keys:
            if stop.is_set():
                return
            try:
                r = client.post(
                    "/api/v1/incidents",
                    json=incident(description=key),
                    headers={**headers, "Idempotency-Key": key},
                )
            except httpx.HTTPError:
                return  # the server died under us
            if r.status_code == 201:
                acked[key] = r.json()["id"]


def _check(url: str, t: Template, acked: dict[str, int], tried: set[str]) -> None:
    with open_store(url) as store:
        with store.read() as conn:
            found = conn.execute(select(IncidentRow.description, IncidentRow.id)).all()
            rows = {str(d): int(i) for d, i in found}
            n = conn.execute(select(func.count()).select_from(IncidentRow)).scalar_one()
            if store.backend == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        assert n == len(rows)  # one row per key: no duplicates
        assert set(rows) <= tried
        for key, iid in acked.items():
            assert rows.get(key) == iid, f"acknowledged write {key} lost"
        sql = SqlLogStore(store.engine)
        result = verify_log(sql.iter_all(), t.key.public_key(), sql.checkpoints())
        assert result.ok, result


def crash_cycles(url: str, t: Template, cycles: int, log_file: Path, *, seed: int = 0) -> None:
    rng = random.Random(seed)
    acked: dict[str, int] = {}
    tried: set[str] = set()
    pending: list[str] = []
    port = _port()
    for cycle in range(cycles):
        with open(log_file, "ab") as log:
            proc = _start(url, t.key_file, port, log)
        base = f"http://127.0.0.1:{port}"
        try:
            # retries of requests whose answer was lost: same key, same body -> no duplicate
            for key in pending:
                _writer(base, t.tokens[WRITER], [key], acked, threading.Event())
            fresh = [f"c{cycle}-w{w}-{i}" for w in range(4) for i in range(200)]
            tried.update(fresh)
            stop = threading.Event()
            threads = [
                threading.Thread(
                    target=_writer,
                    args=(base, t.tokens[WRITER], fresh[w * 200 : (w + 1) * 200], acked, stop),
                )
                for w in range(4)
            ]
            for th in threads:
                th.start()
            time.sleep(rng.uniform(0.05, 0.6))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        stop.set()
        for th in threads:
            th.join()
        pending = [k for k in tried if k not in acked]
        rng.shuffle(pending)
        pending = pending[:20]
        _check(url, t, acked, tried)
    assert acked, "no write was ever acknowledged"


def test_sigkill_during_concurrent_writes_sqlite(template: Template, tmp_path: Path) -> None:
    w = copy_world(template, tmp_path)
    w.client.close()
    w.store.close()
    crash_cycles(w.url, template, 2, tmp_path / "serve.log")


@pytest.mark.slow
def test_sigkill_during_concurrent_writes_sqlite_many(template: Template, tmp_path: Path) -> None:
    w = copy_world(template, tmp_path)
    w.client.close()
    w.store.close()
    crash_cycles(w.url, template, 200, tmp_path / "serve.log", seed=1)


@pytest.mark.postgres
@pytest.mark.skipif(
    not PG_URL and os.environ.get("CORRIDORGUARD_REQUIRE_PG") != "1",
    reason="needs CORRIDORGUARD_TEST_PG_URL (set by .ci/run, which also sets REQUIRE_PG=1)",
)
def test_sigkill_during_concurrent_writes_postgresql(tmp_path: Path) -> None:
    with pg_schema() as url:
        t = make_template(tmp_path, url)
        crash_cycles(url, t, 3, tmp_path / "serve.log")
