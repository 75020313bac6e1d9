"""Incident import speed: UCDP GED Syria (16,566 rows) into SQLite, end to end (parse + insert).

Timed: reading the CSV through committing the transaction. Not timed: creating the empty
database and its schema (for us: opening the store, which runs the Alembic migration).

Compares, on the same file and the same machine in one run:

- ``corridorguard``: ``read_incidents(path, "ucdp")`` + ``store.incidents.add_many`` into a fresh
  store (WAL, synchronous=FULL, unique key, two indexes, CHECK constraints; one transaction);
- ``stdlib csv + sqlite3``: a hand-written peer doing the same work (csv reader, the same type
  conversion and range checks, ``executemany`` of ``INSERT ... ON CONFLICT DO NOTHING`` into an
  identical table with the same pragmas and indexes);
- ``pandas read_csv + to_sql``: ``pandas.read_csv`` then ``DataFrame.to_sql`` (sqlite3 connection,
  same pragmas and table; pandas validates nothing and cannot skip duplicates, so it does less).

Prints the median of several runs, rows per second and the ratio peer time / our time. Optionally
also into PostgreSQL when ``CORRIDORGUARD_TEST_PG_URL`` is set.

Run: ``python bench/bench_import.py [--repeat 7]``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from corridorguard.incidents import read_incidents  # noqa: E402
from corridorguard.store import open_store  # noqa: E402

OURS = "corridorguard (read_incidents + add_many)"
GED = ROOT.parent / "shared" / "data" / "real" / "ucdp" / "ged_syria.csv"
TYPES = {"1": "state-based", "2": "non-state", "3": "one-sided"}


Elapsed = tuple[float, float]  # (wall seconds, CPU seconds of this process)


def _now() -> Elapsed:
    return time.perf_counter(), time.process_time()


def _since(t0: Elapsed) -> Elapsed:
    return time.perf_counter() - t0[0], time.process_time() - t0[1]


def _fresh(tmp: Path, name: str) -> Path:
    path = tmp / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def _schema_sql() -> list[str]:
    """The incidents table exactly as migration 0001 creates it on SQLite (from a fresh store)."""
    with (
        tempfile.TemporaryDirectory() as d,
        open_store(f"sqlite:///{d}/s.sqlite3") as store,
        store.read() as conn,
    ):
        rows = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'incidents' AND sql IS NOT NULL"
        ).all()
    return [r[0] for r in rows]


def _connect(path: Path, schema: list[str], *, autocommit: bool = True) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}")
    for sql in schema:
        conn.execute(sql)
    if not autocommit:
        conn.isolation_level = ""  # sqlite3 opens a transaction before DML; pandas commits
    return conn


def run_ours(tmp: Path) -> tuple[int, Elapsed]:
    path = _fresh(tmp, "ours.sqlite3")
    with open_store(f"sqlite:///{path}") as store:  # schema created before the clock starts
        t0 = _now()
        result = read_incidents(GED, "ucdp")
        added = store.incidents.add_many(result.records, validate=False)
        return added.imported, _since(t0)


def run_stdlib(tmp: Path, schema: list[str]) -> tuple[int, Elapsed]:
    path = _fresh(tmp, "stdlib.sqlite3")
    conn = _connect(path, schema)
    t0 = _now()
    cols = (
        "source, source_id, time, time_end, time_precision, lon, lat, location_precision, type,"
        " fatalities_best, fatalities_low, fatalities_high, description, place, country, admin1"
    )
    sql = (
        f"INSERT INTO incidents ({cols}) VALUES ({', '.join('?' * 16)}) "
        "ON CONFLICT (source, source_id) DO NOTHING"
    )
    rows = []
    with open(GED, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            lon, lat = float(r["longitude"]), float(r["latitude"])
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError(r["id"])
            start = datetime.fromisoformat(r["date_start"]).replace(tzinfo=UTC)
            end = datetime.fromisoformat(r["date_end"]).replace(tzinfo=UTC)
            rows.append(
                (
                    "ucdp",
                    r["id"],
                    start.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    end.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    int(r["date_prec"]),
                    lon,
                    lat,
                    int(r["where_prec"]),
                    TYPES[r["type_of_violence"]],
                    int(r["best"]),
                    int(r["low"]),
                    int(r["high"]),
                    r["dyad_name"],
                    r["where_coordinates"] or None,
                    r["country"] or None,
                    r["adm_1"] or None,
                )
            )
    conn.execute("BEGIN IMMEDIATE")
    n = conn.executemany(sql, rows).rowcount
    conn.execute("COMMIT")
    elapsed = _since(t0)
    conn.close()
    return n, elapsed


def run_pandas(tmp: Path, schema: list[str]) -> tuple[int, Elapsed]:
    import pandas as pd

    path = _fresh(tmp, "pandas.sqlite3")
    conn = _connect(path, schema, autocommit=False)
    t0 = _now()
    df = pd.read_csv(
        GED,
        usecols=[
            "id",
            "date_start",
            "date_end",
            "date_prec",
            "longitude",
            "latitude",
            "where_prec",
            "type_of_violence",
            "best",
            "low",
            "high",
            "dyad_name",
            "where_coordinates",
            "country",
            "adm_1",
        ],
    )
    out = pd.DataFrame(
        {
            "source": "ucdp",
            "source_id": df["id"].astype(str),
            "time": pd.to_datetime(df["date_start"]).dt.strftime("%Y-%m-%d %H:%M:%S.%f"),
            "time_end": pd.to_datetime(df["date_end"]).dt.strftime("%Y-%m-%d %H:%M:%S.%f"),
            "time_precision": df["date_prec"],
            "lon": df["longitude"],
            "lat": df["latitude"],
            "location_precision": df["where_prec"],
            "type": df["type_of_violence"].astype(str).map(TYPES),
            "fatalities_best": df["best"],
            "fatalities_low": df["low"],
            "fatalities_high": df["high"],
            "description": df["dyad_name"],
            "place": df["where_coordinates"],
            "country": df["country"],
            "admin1": df["adm_1"],
        }
    )
    n = out.to_sql("incidents", conn, if_exists="append", index=False)
    elapsed = _since(t0)
    conn.close()
    return int(n or 0), elapsed


def run_ours_pg(url: str) -> tuple[int, Elapsed]:
    from sqlalchemy import create_engine, text

    admin = create_engine(url)
    with admin.begin() as c:
        c.execute(text("DROP SCHEMA IF EXISTS cg_bench CASCADE; CREATE SCHEMA cg_bench"))
    sep = "&" if "?" in url else "?"
    try:
        with open_store(f"{url}{sep}options=-csearch_path%3Dcg_bench") as store:
            t0 = _now()
            result = read_incidents(GED, "ucdp")
            n = store.incidents.add_many(result.records, validate=False).imported
            return n, _since(t0)
    finally:
        with admin.begin() as c:
            c.execute(text("DROP SCHEMA cg_bench CASCADE"))
        admin.dispose()


def median_time(fn: Callable[[], tuple[int, Elapsed]], repeat: int, expect: int) -> Elapsed:
    """Medians of wall and CPU time of ``fn`` (which returns ``(rows, (wall, cpu))``)."""
    walls, cpus = [], []
    for _ in range(repeat):
        n, (wall, cpu) = fn()
        walls.append(wall)
        cpus.append(cpu)
        assert n == expect, (fn, n)
    return statistics.median(walls), statistics.median(cpus)


def _timed_parse() -> tuple[int, Elapsed]:
    t0 = _now()
    n = len(read_incidents(GED, "ucdp").records)
    return n, _since(t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rows = 16_566
    schema = _schema_sql()
    runs: dict[str, Callable[[], tuple[int, Elapsed]]] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        runs = {
            "parse only (read_incidents)": _timed_parse,
            OURS: lambda: run_ours(tmp),
            "stdlib csv + sqlite3 executemany": lambda: run_stdlib(tmp, schema),
            "pandas read_csv + to_sql": lambda: run_pandas(tmp, schema),
        }
        for fn in runs.values():  # warm the page cache and imports
            fn()
        walls: dict[str, list[float]] = {name: [] for name in runs}
        cpus: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeat):  # interleaved, so load changes hit every contender alike
            for name, fn in runs.items():
                n, (wall, cpu) = fn()
                assert n == rows, (name, n)
                walls[name].append(wall)
                cpus[name].append(cpu)
    results = {
        name: (statistics.median(walls[name]), statistics.median(cpus[name])) for name in runs
    }
    pg = os.environ.get("CORRIDORGUARD_TEST_PG_URL")
    if pg:
        results["corridorguard into PostgreSQL"] = median_time(lambda: run_ours_pg(pg), 3, rows)
    ours = results[OURS][0]
    print(
        f"UCDP GED Syria, {rows} rows, SQLite file (WAL, synchronous=FULL); median of {args.repeat}"
    )
    print(f"  {'':44s} {'wall':>7s}     {'rows/s':>9s}  ratio   {'CPU':>6s}    CPU rows/s")
    for name, (wall, cpu) in results.items():
        print(
            f"  {name:44s} {wall * 1000:7.0f} ms  {rows / wall:9,.0f}  {wall / ours:5.2f}"
            f"   {cpu * 1000:6.0f} ms  {rows / cpu:9,.0f}"
        )
    print(f"  (load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
