"""``corridorguard serve`` with several worker processes, and its defaults.

Several processes on one SQLite file keep one audit log (one sequence, verifying against its
signed checkpoints), an ``Idempotency-Key`` retried through another process replays the first
answer (no duplicate), and every acknowledged write is there.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from api_world import Template, incident
from test_api_durability import SRC, WRITER, _full_check, _port, _sqlite_world, _writer
from typer.testing import CliRunner

from corridorguard._cli.serve import MAX_DEFAULT_WORKERS, default_loop, default_workers
from corridorguard.api.context import WriterQueue
from corridorguard.cli import app
from corridorguard.store import open_store
from corridorguard.store.audit_sql import SqlLogStore


def test_default_workers_is_one_per_cpu_bounded() -> None:
    assert [default_workers(n) for n in (1, 2, 3, 64)] == [1, 2, 3, MAX_DEFAULT_WORKERS]
    assert default_workers(0) == 1  # os.cpu_count() may be None (passed on as 0 here)
    assert default_workers() == min(max(os.cpu_count() or 1, 1), MAX_DEFAULT_WORKERS)


def test_the_default_loop_depends_on_the_process_count() -> None:
    assert [default_loop(n) for n in (1, 2, 4)] == ["asyncio", "uvloop", "uvloop"]


def test_an_unknown_loop_is_a_one_line_error() -> None:
    r = CliRunner().invoke(app, ["serve", "--loop", "tornado", "--workers", "1"])
    assert r.exit_code == 2
    assert "--loop must be one of asyncio, uvloop, auto" in r.output


def _one_shot(port: int, token: str, key: str) -> int:
    """POST on a fresh connection (so the kernel hands it to either process)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        body = json.dumps(incident(description=key))
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        }
        conn.request("POST", "/api/v1/incidents", body, headers)
        r = conn.getresponse()
        data = r.read()
        assert r.status == 201, data
        return int(json.loads(data)["id"])
    finally:
        conn.close()


def test_two_workers_keep_one_log_and_replay_keys_across_processes(
    template: Template, tmp_path: Path
) -> None:
    url = _sqlite_world(template, tmp_path)
    port = _port()
    env = {
        **os.environ,
        "PYTHONPATH": SRC,
        "CORRIDORGUARD_AUDIT_KEY_FILE": str(template.key_file),
        "CORRIDORGUARD_AUDIT_CHECKPOINT_EVERY": "20",
    }
    cmd = [sys.executable, "-m", "corridorguard", "serve", "--db", url, "--port", str(port),
           "--workers", "2"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    token = template.tokens[WRITER]
    keys = [f"mw-{w}-{i}" for w in range(4) for i in range(30)]
    acked: dict[str, int] = {}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "serve did not start"
                time.sleep(0.05)
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=_writer, args=(port, token, keys[w * 30 : (w + 1) * 30], acked, stop)
            )
            for w in range(4)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert len(acked) == len(keys)
        # every key again, each on a new connection: whichever process answers replays the id
        replayed = {k: _one_shot(port, token, k) for k in keys}
        assert replayed == acked
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert _full_check(url, template, acked, set(keys)) > 0  # one log, signed checkpoints
    with open_store(url, upgrade="never") as store:
        entries = [r.entry() for r in SqlLogStore(store.engine).iter_all()]
    # a token's use is audited once per process: both processes served this token
    uses = [e for e in entries if e["action"] == "auth.token" and e["actor"] == WRITER]
    assert len(uses) == 2, uses


def _taken_elsewhere(path: str) -> bool:
    """Whether another process finds the writer lock taken (a non-blocking try)."""
    code = (
        "import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept OSError:\n"
        "    sys.exit(3)\n"
    )
    return subprocess.run([sys.executable, "-c", code, path], check=False).returncode == 3


def test_sqlite_writers_of_several_processes_queue_on_one_file_lock(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'q.sqlite3'}") as store:
        queue = WriterQueue(store)
        assert queue.path == f"{tmp_path / 'q.sqlite3'}-writer.lock"
        with queue.held():
            assert _taken_elsewhere(queue.path)
            with queue.held():  # nested (re-entrant caller): still held after the inner exit
                pass
            assert _taken_elsewhere(queue.path)
        assert not _taken_elsewhere(queue.path)
    with open_store("sqlite://") as memory:
        assert WriterQueue(memory).path is None  # one process: nothing to queue


def test_several_workers_start_on_a_fresh_database(template: Template, tmp_path: Path) -> None:
    """The schema of a fresh file is created once by ``serve`` before its workers start (they
    would race to migrate it), and both workers come up over it."""
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    port = _port()
    env = {**os.environ, "PYTHONPATH": SRC, "CORRIDORGUARD_AUDIT_KEY_FILE": str(template.key_file)}
    cmd = [sys.executable, "-m", "corridorguard", "serve", "--db", url, "--port", str(port),
           "--workers", "2"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        answered = 0
        while answered < 20:  # fresh connections: both processes answer some
            assert time.monotonic() < deadline and proc.poll() is None, "serve did not start"
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/incidents")
                assert conn.getresponse().status == 401  # up, and asking for a token
                conn.close()
                answered += 1
            except OSError:
                time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert b"Traceback" not in err, err.decode()[-2000:]
    with open_store(url, upgrade="never") as store:
        info = store.info()
        assert info["revision"] == info["head"]
