"""Revision 0005 (incident versions) on a database holding rows written at revision 0004:
``modified`` and ``added_at`` backfilled, ``stix_versions.objects`` added; down and up again."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, insert, select

from corridorguard.store.marks import IncidentMetaRow
from corridorguard.store.migrate import current_revision, downgrade, upgrade
from corridorguard.store.models import IncidentRow, UTCDateTime
from corridorguard.store.shared import STIX_VERSIONS

T = datetime(2024, 3, 20, 10, tzinfo=UTC)
IMPORTED = datetime(2026, 5, 1, 8, tzinfo=UTC)
CREATED = datetime(2026, 5, 2, 9, tzinfo=UTC)
RECEIVED = (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))


def _rows_at_0004(conn: object) -> None:
    from sqlalchemy import Column, Integer, MetaData, String, Table

    md = MetaData()  # the 0004 shape: no modified / added_at / objects yet
    inc = Table(
        "incidents",
        md,
        Column("id", Integer, primary_key=True),
        Column("source", String),
        Column("source_id", String),
        Column("time", UTCDateTime()),
        Column("lon", Integer),
        Column("lat", Integer),
        Column("type", String),
        Column("originator", String),
        Column("imported_at", UTCDateTime()),
    )
    ver = Table(
        "stix_versions",
        md,
        Column("id", Integer, primary_key=True),
        Column("kind", String),
        Column("record_id", Integer),
        Column("stix_id", String),
        Column("modified", UTCDateTime()),
        Column("added_at", UTCDateTime()),
        Column("digest", String),
    )
    base = {"time": T, "lon": 66, "lat": 25, "type": "raid", "imported_at": IMPORTED}
    conn.execute(insert(inc), [  # type: ignore[attr-defined]
        {"id": 1, "source": "api", "source_id": "a", "originator": "ORG-A", **base},
        {"id": 2, "source": "taxii", "source_id": "incident--x", "originator": "ORG-B", **base},
        {"id": 3, "source": "acled", "source_id": "9", "originator": None, **base},
    ])  # fmt: skip
    meta = IncidentMetaRow.__table__
    conn.execute(insert(meta).values(incident_id=1, created_by="u", created_at=CREATED))  # type: ignore[attr-defined]
    for k, m in enumerate(RECEIVED):
        conn.execute(  # type: ignore[attr-defined]
            insert(ver).values(
                kind="incident", record_id=2, stix_id="incident--x", modified=m,
                added_at=m, digest=str(k),
            )
        )  # fmt: skip


def _check(url: str) -> None:
    engine = create_engine(url)
    try:
        upgrade(engine, "0004")
        with engine.begin() as conn:
            _rows_at_0004(conn)
        assert upgrade(engine) == ("0004", current_revision(engine))
        t = IncidentRow.__table__
        with engine.connect() as conn:
            got = {
                r.id: (r.modified, r.added_at)
                for r in conn.execute(select(t.c.id, t.c.modified, t.c.added_at))
            }
            objs = list(conn.execute(select(STIX_VERSIONS.c.objects)).scalars())
        assert got == {
            1: (CREATED, IMPORTED),  # ours: its creation time
            2: (RECEIVED[1], IMPORTED),  # received: the newest version held
            3: (IMPORTED, IMPORTED),  # a public dataset row: its import time
        }
        assert objs == [None, None]  # earlier versions' contents were not kept before 0005
        downgrade(engine, "0004")
        assert current_revision(engine) == "0004"
        upgrade(engine)
        with engine.connect() as conn:
            again = dict(conn.execute(select(t.c.id, t.c.modified)).all())
        assert again == {k: v[0] for k, v in got.items()}
    finally:
        engine.dispose()


def test_0005_backfills_and_reverts(db_url: str) -> None:
    """Once per backend (SQLite, PostgreSQL)."""
    _check(db_url)
