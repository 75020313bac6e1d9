"""Durability: SIGKILL the server at random moments during concurrent incident writes.

After the kills: every acknowledged write (HTTP 201) is in the database, ``PRAGMA
integrity_check`` is ok (SQLite), the audit log verifies against its signed checkpoints, and
retrying unanswered requests with their ``Idempotency-Key`` creates no duplicates.

To make a cycle cheap (200 in ``make test``, 1,000 in the slow target) the server is not started
from scratch each time: a *zygote* process imports corridorguard, FastAPI and uvicorn once, then
``os.fork()``s a child per cycle that runs the real ``corridorguard serve`` command function
(``_cli.serve.serve``: ``create_app`` over the database, uvicorn on a port). The child opens its
own database connections after the fork and is killed with SIGKILL, like any server process.
Acknowledged writes of each cycle are checked right after its kill; the full checks (every
acknowledged write, ``integrity_check``, audit verification) run every ``FULL_EVERY`` cycles
and at the end — writes are never deleted, so a loss shows at the next full check.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest
from api_world import NEEDS_PG, Template, copy_world, incident, make_template, pg_schema
from sqlalchemy import func, select, text

from corridorguard.audit.verify import verify_log
from corridorguard.store import Store, open_store
from corridorguard.store.audit_sql import SqlLogStore
from corridorguard.store.models import IncidentRow

SRC = str(Path(__file__).resolve().parents[2] / "src")
WRITER = "reporter-org-a"
WRITERS = 4
FULL_EVERY = 50

ZYGOTE = """
import os, sys
from corridorguard._cli.serve import serve
from corridorguard.api.app import _api_router
import corridorguard.store.migrate as migrate
_api_router()  # imports and route assembly done once, before any fork
_head = migrate.head_revision()  # alembic parses its script directory once, not per child
migrate.head_revision = lambda: _head
url = sys.argv[1]
for line in sys.stdin:
    cmd, arg = line.split()
    if cmd == "fork":
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                fd = os.open(os.devnull, os.O_RDONLY)
                os.dup2(fd, 0)
                serve(db=url, host="127.0.0.1", port=int(arg), log_level="error", workers=1,
                      loop="")
                code = 0
            finally:
                os._exit(code)
        print(pid, flush=True)
    elif cmd == "reap":
        os.waitpid(int(arg), 0)
        print("ok", flush=True)
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Zygote:
    """A process with the server imported once; ``start()`` forks a serving child."""

    def __init__(self, url: str, key_file: Path, log: IO[bytes]) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": SRC,
            "CORRIDORGUARD_AUDIT_KEY_FILE": str(key_file),
            "CORRIDORGUARD_AUDIT_CHECKPOINT_EVERY": "20",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE, url],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
        )

    def _ask(self, line: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().decode().strip()
        if not answer:
            raise RuntimeError("the zygote died (see serve.log)")
        return answer

    def start(self, port: int) -> int:
        pid = int(self._ask(f"fork {port}"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return pid
            except OSError:
                time.sleep(0.005)
        self.kill(pid)
        raise RuntimeError("serve did not start (see serve.log)")

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        self._ask(f"reap {pid}")

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


def _writer(
    port: int, token: str, keys: list[str], acked: dict[str, int], stop: threading.Event
) -> None:
    """POST one incident per key (keep-alive); record the id of every 201."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
    }
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for key in keys:
            if stop.is_set():
                return
            body = json.dumps(incident(description=key))
            try:
                conn.request("POST", "/api/v1/incidents", body, {**headers, "Idempotency-Key": key})
                r = conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException):
                return  # the server died under us
            if r.status == 201:
                acked[key] = int(json.loads(data)["id"])
    finally:
        conn.close()


def _rows(store: Store, keys: list[str]) -> dict[str, int]:
    """The stored ids of ``keys`` (one connection kept open by the test for every cycle)."""
    stmt = select(IncidentRow.description, IncidentRow.id).where(IncidentRow.description.in_(keys))
    with store.read() as conn:
        return {str(d): int(i) for d, i in conn.execute(stmt)}


def _full_check(url: str, t: Template, acked: dict[str, int], tried: set[str]) -> int:
    """Every acknowledged write present once, integrity ok, the audit log verifies."""
    with open_store(url, upgrade="never") as store:
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
        return result.checkpoints


def crash_cycles(
    url: str, t: Template, cycles: int, log_file: Path, *, seed: int = 0
) -> dict[str, float]:
    """Run ``cycles`` start / write / SIGKILL cycles; returns timing figures."""
    rng = random.Random(seed)
    acked: dict[str, int] = {}
    tried: set[str] = set()
    pending: list[str] = []
    port = _port()
    token = t.tokens[WRITER]
    t0 = time.perf_counter()
    starts: list[float] = []
    with open(log_file, "ab") as log, open_store(url, upgrade="never") as store:
        zygote = Zygote(url, t.key_file, log)
        try:
            for cycle in range(cycles):
                s0 = time.perf_counter()
                pid = zygote.start(port)
                starts.append(time.perf_counter() - s0)
                stop = threading.Event()
                try:
                    # retries of requests whose answer was lost: same key, same body
                    _writer(port, token, pending, acked, stop)
                    fresh = [f"c{cycle}-w{w}-{i}" for w in range(WRITERS) for i in range(100)]
                    tried.update(fresh)
                    threads = [
                        threading.Thread(
                            target=_writer,
                            args=(port, token, fresh[w * 100 : (w + 1) * 100], acked, stop),
                        )
                        for w in range(WRITERS)
                    ]
                    for th in threads:
                        th.start()
                    time.sleep(rng.uniform(0.005, 0.2))  # kill at a random moment
                finally:
                    zygote.kill(pid)
                stop.set()
                for th in threads:
                    th.join()
                keys = [*fresh, *pending]
                rows = _rows(store, keys)
                lost = [k for k in keys if k in acked and rows.get(k) != acked[k]]
                assert not lost, f"cycle {cycle} lost acknowledged writes {lost[:5]}"
                pending = [k for k in keys if k not in rows]
                rng.shuffle(pending)
                pending = pending[:5]
                if (cycle + 1) % FULL_EVERY == 0:
                    _full_check(url, t, acked, tried)
        finally:
            zygote.close()
    assert _full_check(url, t, acked, tried) > 0  # signed checkpoints were verified
    assert len(acked) > cycles, "too few writes were acknowledged to test anything"
    wall = time.perf_counter() - t0
    figures = {
        "cycles": cycles,
        "wall_s": round(wall, 1),
        "per_cycle_s": round(wall / cycles, 3),
        "median_start_s": round(sorted(starts)[len(starts) // 2], 3),
        "acked": len(acked),
    }
    print(f"durability {url.split(':')[0]}: {figures}")
    return figures


def _sqlite_world(template: Template, tmp_path: Path) -> str:
    w = copy_world(template, tmp_path)
    w.client.close()
    w.store.close()
    return w.url


def test_sigkill_during_concurrent_writes_sqlite(template: Template, tmp_path: Path) -> None:
    crash_cycles(_sqlite_world(template, tmp_path), template, 200, tmp_path / "serve.log")


@pytest.mark.slow
def test_sigkill_during_concurrent_writes_sqlite_many(template: Template, tmp_path: Path) -> None:
    url = _sqlite_world(template, tmp_path)
    crash_cycles(url, template, 1000, tmp_path / "serve.log", seed=1)


def test_serve_command_starts_and_dies_cleanly_under_sigkill(
    template: Template, tmp_path: Path
) -> None:
    """One cycle through the real ``python -m corridorguard serve`` entry point."""
    url = _sqlite_world(template, tmp_path)
    port = _port()
    env = {
        **os.environ,
        "PYTHONPATH": SRC,
        "CORRIDORGUARD_AUDIT_KEY_FILE": str(template.key_file),
    }
    cmd = [
        sys.executable,
        "-m",
        "corridorguard",
        "serve",
        "--db",
        url,
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    acked: dict[str, int] = {}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        _writer(port, template.tokens[WRITER], ["k1", "k2"], acked, threading.Event())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert set(acked) == {"k1", "k2"}
    _full_check(url, template, acked, {"k1", "k2"})


def _pg(tmp_path: Path, cycles: int, seed: int) -> None:
    with pg_schema() as url:
        t = make_template(tmp_path, url)
        crash_cycles(url, t, cycles, tmp_path / "serve.log", seed=seed)


@pytest.mark.postgres
@NEEDS_PG
def test_sigkill_during_concurrent_writes_postgresql(tmp_path: Path) -> None:
    _pg(tmp_path, 200, 0)


@pytest.mark.postgres
@pytest.mark.slow
@NEEDS_PG
def test_sigkill_during_concurrent_writes_postgresql_many(tmp_path: Path) -> None:
    _pg(tmp_path, 1000, 1)
