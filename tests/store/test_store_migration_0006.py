"""Revision 0006 (plan versions) on a database holding plans written at revision 0005:
``plans.modified`` backfilled for draft and proposed versions (the newest approval, else the
creation time), approved and rejected ones left to their decision time (they are immutable:
the upgrade must not trip the ``plans_frozen`` trigger); down and up again."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, insert, select

from corridorguard.store.migrate import current_revision, downgrade, upgrade
from corridorguard.store.plans import PlanApprovalRow, PlanRow

CREATED = datetime(2026, 5, 1, 8, tzinfo=UTC)
APPROVED_A = datetime(2026, 5, 2, 9, tzinfo=UTC)
DECIDED = datetime(2026, 5, 3, 10, tzinfo=UTC)

_COLUMNS = [c for c in PlanRow.__table__.c if c.name != "modified"]  # the 0005 shape


def _plan(pid: int, status: str, decided: datetime | None) -> dict[str, object]:
    return {
        "id": pid, "lineage": f"l{pid}", "version": 1, "title": "t", "description": "",
        "forces": ("ORG-A", "ORG-B"), "content": {}, "status": status, "originator": "ORG-A",
        "tlp": "GREEN", "created_by": "u", "created_at": CREATED, "decided_at": decided,
    }  # fmt: skip


def _check(url: str) -> None:
    engine = create_engine(url)
    try:
        upgrade(engine, "0005")
        with engine.begin() as conn:
            rows = [
                _plan(1, "draft", None),
                _plan(2, "proposed", None),  # one force has approved
                _plan(3, "approved", DECIDED),
                _plan(4, "rejected", DECIDED),
            ]
            stmt = insert(PlanRow.__table__).values(
                [{c.name: r[c.name] for c in _COLUMNS} for r in rows]
            )
            conn.execute(stmt)
            conn.execute(
                insert(PlanApprovalRow.__table__).values(
                    plan_id=2, org="ORG-A", username="c", decision="approve", decided_at=APPROVED_A
                )
            )
        assert upgrade(engine) == ("0005", current_revision(engine))
        t = PlanRow.__table__
        with engine.connect() as conn:
            got = dict(conn.execute(select(t.c.id, t.c.modified)).all())
        assert got == {1: CREATED, 2: APPROVED_A, 3: None, 4: None}
        downgrade(engine, "0005")
        assert current_revision(engine) == "0005"
        upgrade(engine)
        with engine.connect() as conn:
            assert dict(conn.execute(select(t.c.id, t.c.modified)).all()) == got
    finally:
        engine.dispose()


def test_0006_backfills_and_reverts(db_url: str) -> None:
    """Once per backend (SQLite, PostgreSQL)."""
    _check(db_url)
