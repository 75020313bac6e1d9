"""Load test of the API: throughput and p50/p95/p99 latency at 50 concurrent clients.

Runs a real ``corridorguard serve`` on 127.0.0.1 over a fresh SQLite file (and PostgreSQL when
``CORRIDORGUARD_BENCH_PG_URL`` is set), with 1 and with ``--workers`` uvicorn processes, seeds
incidents, then drives it closed-loop (each client sends its next request when the previous
answer arrived) with 50 concurrent connections for a fixed time per workload:

* ``read-list``: ``GET /api/v1/incidents?limit=50`` (policy filter, count, page);
* ``read-get``: ``GET /api/v1/incidents/{id}`` (random visible ids);
* ``list-sites``, ``list-forecasts``, ``list-movements``, ``list-sensors``, ``list-plans``:
  ``GET /api/v1/<resource>?limit=50`` over ``--seed-records`` seeded records of each;
* ``get-sites``, ... ``get-plans``: ``GET /api/v1/<resource>/{id}`` (random seeded ids);
* ``write``: ``POST /api/v1/incidents`` (one transaction: row, provenance, audit entry);
* ``write-sensor``: ``POST /api/v1/sensors`` (a marked resource's write path).

Every seeded record is AMBER released to ORG-B; the reads are an ORG-B analyst's. On
PostgreSQL the run uses a fresh schema of the given database (dropped at the end).

Peer, same run, same machine: a bare FastAPI app (``sqlite3``, no auth, no policy, no audit) on
the same table layout, to show what the policy, the audit log and the writer path cost.

Load generator: ``wrk`` (C, event-driven: it takes little of the CPU the server needs on a
2-core machine) with a Lua script for the Bearer header and random ids. Install it with
``apt-get install wrk`` (Debian); without it the script falls back to an asyncio ``httpx``
generator (``--generator httpx``), which itself needs about a core at these rates and so
inflates the latencies. ``uvloop`` and ``httptools`` (project dependencies) make uvicorn faster.

Usage: ``PYTHONPATH=src python bench/bench_api.py [--seconds 10] [--clients 50] [--workers 2]
[--workloads read-list,read-get] [--no-peer] [--loop asyncio|uvloop]`` (default: ``serve``'s
own choice of event loop). Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

SRC = str(Path(__file__).resolve().parents[1] / "src")
BODY = {
    "lon": 66.9,
    "lat": 25.1,
    "time": "2024-03-20T10:00:00Z",
    "type": "armed assault",
    "description": "notional load-test report",
    "tlp": "AMBER",
    "rel_to": ["ORG-B"],
}

SENSOR = {
    "name": "camera N-10 km 12",
    "kind": "camera",
    "lon": 62.3,
    "lat": 25.1,
    "fov_deg": 60,
    "parameters": {"fps": 25},
    "tlp": "AMBER",
    "rel_to": ["ORG-B"],
}
#: A notional record of each resource (seeded AMBER REL-TO ORG-B by a planner of ORG-A).
RECORDS: dict[str, dict[str, Any]] = {
    "sites": {"name": "notional port", "type": "port", "lon": 62.3, "lat": 25.1,
              "criticality": 4, "workers": 120},
    "forecasts": {"name": "weekly", "model": "sepp", "valid_from": "2025-01-01T00:00:00Z",
                  "valid_to": "2025-01-08T00:00:00Z", "params": {"bandwidth_m": 500},
                  "values": [{"kind": "segment", "key": "N10-3", "value": 0.75}]},
    "movements": {"name": "shift change", "origin": "gwadar", "destination": "turbat",
                  "window_start": "2025-01-01T06:00:00Z", "window_end": "2025-01-01T09:00:00Z",
                  "people": 40, "vehicles": 3},
    "sensors": {k: v for k, v in SENSOR.items() if k not in ("tlp", "rel_to")},
    "plans": {"title": "notional night patrols", "forces": ["ORG-A"],
              "content": {"patrols": [{"route": ["n1", "n2"], "start": "22:00"}]}},
}  # fmt: skip
LISTS = tuple(f"list-{r}" for r in RECORDS)
GETS = tuple(f"get-{r}" for r in RECORDS)
LOOP = [""]  # the server's event loop (``serve --loop``; "": serve's default)
WORKLOADS = ("read-list", "read-get", *LISTS, *GETS, "write", "write-sensor")

PEER = textwrap.dedent(
    """
    import sqlite3, sys
    from fastapi import FastAPI, Request
    path = sys.argv[1]
    app = FastAPI()
    def db():
        c = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=FULL")
        c.execute("PRAGMA busy_timeout=30000")
        return c
    con = db()
    con.execute("CREATE TABLE IF NOT EXISTS incidents (id INTEGER PRIMARY KEY, time TEXT, lon REAL,"
                " lat REAL, type TEXT, description TEXT, tlp TEXT, originator TEXT)")
    @app.get("/api/v1/incidents")
    def list_(limit: int = 50):
        c = db()
        try:
            total = c.execute("SELECT count(*) FROM incidents").fetchone()[0]
            q = "SELECT * FROM incidents ORDER BY time, id LIMIT ?"
            rows = c.execute(q, (limit,)).fetchall()
        finally:
            c.close()
        keys = ["id", "time", "lon", "lat", "type", "description", "tlp", "originator"]
        return {"items": [dict(zip(keys, r)) for r in rows], "total": total}
    @app.get("/api/v1/incidents/{i}")
    def get(i: int):
        c = db()
        try:
            r = c.execute("SELECT * FROM incidents WHERE id = ?", (i,)).fetchone()
        finally:
            c.close()
        return {"id": r[0]} if r else {"error": "not_found"}
    @app.post("/api/v1/incidents", status_code=201)
    async def post(request: Request):
        b = await request.json()
        c = db()
        try:
            c.execute("BEGIN IMMEDIATE")
            cols = "time, lon, lat, type, description, tlp, originator"
            cur = c.execute(f"INSERT INTO incidents ({cols})"
                            " VALUES (?,?,?,?,?,?,?)", (b["time"], b["lon"], b["lat"], b["type"],
                            b["description"], b["tlp"], "ORG-A"))
            c.execute("COMMIT")
        finally:
            c.close()
        return {"id": cur.lastrowid}
    """
)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited")
        try:
            httpx.get(base + "/api/v1/openapi.json", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "corridorguard", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def setup_ours(url: str, tmp: Path, env: dict[str, str]) -> dict[str, str]:
    import json

    for org in ("ORG-A", "ORG-B", "ORG-C"):
        _cli(env, "orgs", "create", org, "--db", url)
    tokens = {}
    roles = {"rep": "reporter", "ana": "analyst", "pla": "planner"}
    for user, org in (("rep-a", "ORG-A"), ("ana-b", "ORG-B"), ("ana-c", "ORG-C"),
                      ("pla-a", "ORG-A")):  # fmt: skip
        role = roles[user[:3]]
        _cli(env, "users", "create", user, "--org", org, "--role", role, "--password-stdin",
             "--db", url, stdin="a long benchmark password\n")  # fmt: skip
        tokens[user] = json.loads(_cli(env, "tokens", "create", "--user", user, "--db", url,
                                       "--json"))["token"]  # fmt: skip
    return tokens


async def drive(
    base: str, clients: int, seconds: float, make: object, tokens: dict[str, str]
) -> tuple[list[float], int]:
    lat: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(k: int, client: httpx.AsyncClient) -> None:
        nonlocal errors
        rng = random.Random(k)
        while time.monotonic() < stop:
            method, path, body, token, ok = make(rng)  # type: ignore[operator]
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            t0 = time.perf_counter()
            try:
                r = await client.request(method, path, json=body, headers=headers)
                good = r.status_code in ok
            except httpx.HTTPError:
                good = False
            lat.append(time.perf_counter() - t0)
            errors += not good

    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        await asyncio.gather(*(worker(k, client) for k in range(clients)))
    return lat, errors


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else 0.0


WRK_LUA = """
local token, kind, ids, body = "%(token)s", "%(kind)s", %(ids)d, [[%(body)s]]
math.randomseed(%(seed)d)
function request()
  local h = {}
  if token ~= "" then h["Authorization"] = "Bearer " .. token end
  if kind == "write" or kind == "write-sensor" then
    h["Content-Type"] = "application/json"
    local path = kind == "write" and "/api/v1/incidents" or "/api/v1/sensors"
    return wrk.format("POST", path, h, body)
  elseif kind == "read-get" then
    return wrk.format("GET", "/api/v1/incidents/" .. math.random(1, ids), h)
  elseif kind:sub(1, 4) == "get-" then
    return wrk.format("GET", "/api/v1/" .. kind:sub(5) .. "/" .. math.random(1, ids), h)
  elseif kind:sub(1, 5) == "list-" then
    return wrk.format("GET", "/api/v1/" .. kind:sub(6) .. "?limit=50", h)
  end
  return wrk.format("GET", "/api/v1/incidents?limit=50", h)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%.0f %%.0f %%.0f %%d\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def run_wrk(base: str, kind: str, token: str, ids: int, args: argparse.Namespace) -> tuple:
    import json

    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    body = json.dumps(SENSOR if kind == "write-sensor" else BODY)
    script.write_text(WRK_LUA % {"token": token, "kind": kind, "ids": ids, "body": body, "seed": 1})
    cmd = ["wrk", "-t2", f"-c{args.clients}", f"-d{args.seconds:.0f}s", "--timeout", "30s",
           "-s", str(script), base]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    script.unlink()
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    n, dur_us, p50, p95, p99, errors = (float(v) for v in line.split()[1:])
    return n / (dur_us / 1e6), p50 / 1000, p95 / 1000, p99 / 1000, int(errors)


def _lister(resource: str, token: str) -> Any:
    return lambda r: ("GET", f"/api/v1/{resource}?limit=50", None, token, {200})


def _getter(resource: str, token: str, ids: int) -> Any:
    return lambda r: ("GET", f"/api/v1/{resource}/{r.randint(1, ids)}", None, token, {200})


def run_httpx(base: str, kind: str, token: str, ids: int, args: argparse.Namespace) -> tuple:
    make = {
        "read-list": lambda r: ("GET", "/api/v1/incidents?limit=50", None, token, {200}),
        "read-get": lambda r: ("GET", f"/api/v1/incidents/{r.randint(1, ids)}", None, token, {200}),
        "write": lambda r: ("POST", "/api/v1/incidents", BODY, token, {201}),
        "write-sensor": lambda r: ("POST", "/api/v1/sensors", SENSOR, token, {201}),
        **{k: _lister(k[5:], token) for k in LISTS},
        **{k: _getter(k[4:], token, ids) for k in GETS},
    }[kind]
    lat, errors = asyncio.run(drive(base, args.clients, args.seconds, make, {}))
    return len(lat) / args.seconds, pct(lat, 50), pct(lat, 95), pct(lat, 99), errors


def run(
    name: str,
    base: str,
    tokens: dict[str, str],
    args: argparse.Namespace,
    ids: int,
    workloads: list[str],
) -> None:
    gen = run_wrk if args.generator == "wrk" else run_httpx
    for kind in workloads:
        if name.startswith("peer") and kind not in ("read-list", "read-get", "write"):
            continue
        writer = {"write": "rep-a", "write-sensor": "pla-a"}
        token = tokens.get(writer.get(kind, "ana-b"), "")
        n = args.seed_records if kind in GETS else ids
        thr, p50, p95, p99, errors = gen(base, kind, token, n, args)
        load = os.getloadavg()[0]
        print(
            f"{name:<30} {kind:<14} {thr:8.1f} req/s  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
            f"p99 {p99:7.1f} ms  errors {errors}  load {load:.1f}",
            flush=True,
        )


def seed(base: str, token: str, n: int) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=base, timeout=60) as c:
        for _ in range(n):
            c.post("/api/v1/incidents", json=BODY, headers=headers)


def seed_records(base: str, token: str, n: int) -> None:
    """``n`` records of each resource, AMBER REL-TO ORG-B; half the plans proposed."""
    headers = {"Authorization": f"Bearer {token}"}
    marking = {"tlp": "AMBER", "rel_to": ["ORG-B"]}
    with httpx.Client(base_url=base, timeout=60, headers=headers) as c:
        for path, body in RECORDS.items():
            for k in range(n):
                r = c.post(f"/api/v1/{path}", json={**body, **marking})
                r.raise_for_status()
                if path == "plans" and k % 2:
                    c.post(f"/api/v1/plans/{r.json()['id']}/propose", json={}).raise_for_status()


def analyze(url: str) -> None:
    """PostgreSQL: planner statistics of the seeded tables (what autovacuum would soon do; a
    table just filled from empty otherwise plans as if it held a few rows)."""
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        engine.dispose()


def serve_ours(url: str, env: dict[str, str], workers: int) -> tuple[str, subprocess.Popen[bytes]]:
    port = _port()
    cmd = [sys.executable, "-m", "corridorguard", "serve", "--db", url, "--port", str(port),
           "--workers", str(workers), *(["--loop", LOOP[0]] if LOOP[0] else [])]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env)
    base = f"http://127.0.0.1:{port}"
    _wait(base, proc)
    return base, proc


def main() -> None:
    import shutil

    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2, help="also measure with N uvicorn workers")
    ap.add_argument("--seed-incidents", type=int, default=1000)
    ap.add_argument("--seed-records", type=int, default=200, help="of each other resource")
    ap.add_argument("--generator", choices=("wrk", "httpx"), default=None)
    ap.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated")
    ap.add_argument("--no-peer", action="store_true", help="skip the bare FastAPI peer")
    ap.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="",
                    help="the server's event loop (default: serve's own choice)")  # fmt: skip
    args = ap.parse_args()
    LOOP[0] = args.loop
    args.workloads = [w for w in args.workloads.split(",") if w]
    unknown = sorted(set(args.workloads) - set(WORKLOADS))
    if unknown:
        raise SystemExit(f"unknown workloads: {unknown}; choose from {WORKLOADS}")
    if args.generator is None:
        args.generator = "wrk" if shutil.which("wrk") else "httpx"
    tmp = Path(tempfile.mkdtemp(prefix="cg-bench-"))
    from corridorguard.audit.checkpoint import generate_private_key, private_key_pem

    key = tmp / "audit.pem"
    key.write_bytes(private_key_pem(generate_private_key()))
    env = {**os.environ, "PYTHONPATH": SRC, "CORRIDORGUARD_AUDIT_KEY_FILE": str(key)}
    gen = args.generator
    print(f"{args.clients} concurrent clients (closed loop, {gen}), {args.seconds:.0f} s "
          f"per workload, {args.seed_incidents} seeded incidents and {args.seed_records} of "
          f"each other resource (AMBER REL-TO ORG-B), {os.cpu_count()} CPUs, "
          f"server loop {args.loop or 'serve default'}")  # fmt: skip
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    targets = [] if args.no_sqlite else [("SQLite", f"sqlite:///{tmp / 'bench.sqlite3'}")]
    if os.environ.get("CORRIDORGUARD_BENCH_PG_URL"):
        targets.append(("PostgreSQL", os.environ["CORRIDORGUARD_BENCH_PG_URL"]))
    for backend, given in targets:
        with fresh_schema(given) as url:
            bench_backend(backend, url, tmp, env, args)
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    if not args.no_peer:
        run_peer(tmp, env, args)


@contextlib.contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """PostgreSQL: ``url`` with ``search_path`` on a new schema (dropped afterwards), so every
    run starts from an empty database; SQLite: ``url`` itself (a fresh file)."""
    if not url.startswith("postgresql"):
        yield url
        return
    import uuid
    from urllib.parse import quote

    from sqlalchemy import create_engine, text

    schema = f"cg_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def bench_backend(
    backend: str, url: str, tmp: Path, env: dict[str, str], args: argparse.Namespace
) -> None:
    """Every read workload with 1 and N workers, then the writes (so the reads of every worker
    count see the same seeded data, not the rows an earlier write workload added)."""
    tokens = setup_ours(url, tmp, env)
    seeded = False
    reads = [k for k in args.workloads if not k.startswith("write")]
    writes = [k for k in args.workloads if k.startswith("write")]
    for phase in (reads, writes):
        for workers in sorted({1, args.workers}) if phase else ():
            base, proc = serve_ours(url, env, workers)
            try:
                if not seeded:
                    seed(base, tokens["rep-a"], args.seed_incidents)
                    seed_records(base, tokens["pla-a"], args.seed_records)
                    seeded = True
                    analyze(url)
                name = f"corridorguard {backend} w={workers}"
                run(name, base, tokens, args, args.seed_incidents, phase)
            finally:
                proc.terminate()
                proc.wait()


def run_peer(tmp: Path, env: dict[str, str], args: argparse.Namespace) -> None:
    """The peer: bare FastAPI + sqlite3, same table shape, no auth / policy / audit."""
    peer_py = tmp / "peer.py"
    peer_py.write_text(PEER)
    port = _port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import sys; sys.argv=['p', {str(tmp / 'peer.sqlite3')!r}]; "
            f"exec(open({str(peer_py)!r}).read()); import uvicorn; "
            f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning')",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, proc)
        seed(base, "", args.seed_incidents)
        run("peer FastAPI+sqlite3 w=1", base, {}, args, args.seed_incidents, args.workloads)
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
