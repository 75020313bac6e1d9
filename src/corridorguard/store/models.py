"""SQLAlchemy 2 declarative models of the store.

Every table belongs to :data:`Base.metadata`, whose naming convention gives every constraint and
index a stable name (so Alembic migrations can refer to them on both backends). To add a table
(e.g. organisations, users, audit entries): declare a model on :class:`Base` in a module under
``corridorguard.store``, import it in ``corridorguard.store.models`` (or in
``store/migrations/env.py``) and add an Alembic revision under ``store/migrations/versions/``
whose ``down_revision`` is the current head (see ``docs/incidents.md``, "Store").
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    Double,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["NAMING_CONVENTION", "Base", "IncidentRow", "StringList", "UTCDateTime"]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    PostgreSQL: ``timestamp with time zone``. SQLite: text ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC
    (fixed width, so text order is time order). Values read back are aware (UTC).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; the store holds UTC-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StringList(TypeDecorator[tuple[str, ...]]):
    """A tuple of strings stored as a JSON array in a text column (same on every backend)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str:
        return json.dumps(list(value or ()), ensure_ascii=False)

    def process_result_value(self, value: str | None, dialect: Dialect) -> tuple[str, ...]:
        return tuple(json.loads(value)) if value else ()


class Base(DeclarativeBase):
    """Declarative base of every store table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IncidentRow(Base):
    """One stored incident; the columns mirror :class:`corridorguard.incidents.Incident`.

    ``(source, source_id)`` is unique, so re-importing a file adds nothing. ``originator``,
    ``tlp`` and ``rel_to`` are the releasability marking (TLP 2.0 and a REL-TO list of
    organisation names); they are stored here and enforced by the sharing layer.
    """

    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        CheckConstraint("tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')", name="tlp"),
        CheckConstraint("time_precision BETWEEN 1 AND 5", name="time_precision"),
        CheckConstraint("location_precision BETWEEN 1 AND 7", name="location_precision"),
        CheckConstraint("lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90", name="lonlat"),
        Index(None, "time"),
        Index(None, "added_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    source: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(128))
    time: Mapped[datetime] = mapped_column(UTCDateTime())
    time_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    time_precision: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    lon: Mapped[float] = mapped_column(Double)
    lat: Mapped[float] = mapped_column(Double)
    location_precision: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    type: Mapped[str] = mapped_column(String(128))
    subtype: Mapped[str | None] = mapped_column(String(128))
    fatalities_best: Mapped[int | None] = mapped_column(Integer)
    fatalities_low: Mapped[int | None] = mapped_column(Integer)
    fatalities_high: Mapped[int | None] = mapped_column(Integer)
    target_category: Mapped[str | None] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, server_default=text("''"))
    place: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(100))
    admin1: Mapped[str | None] = mapped_column(String(100))
    reference: Mapped[str | None] = mapped_column(Text)
    originator: Mapped[str | None] = mapped_column(String(200))
    tlp: Mapped[str] = mapped_column(String(16), server_default=text("'CLEAR'"))
    rel_to: Mapped[tuple[str, ...]] = mapped_column(StringList(), server_default=text("'[]'"))
    imported_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), server_default=func.current_timestamp()
    )
    #: STIX ``modified`` of the version held (revision 0005; see ``docs/sharing.md``)
    modified: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: TAXII date added of that version (created, corrected or received here)
    added_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
