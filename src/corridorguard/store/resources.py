"""Marked operational records: sites, forecasts (+ values), movements and sensors.

Every resource table carries the releasability marking the one policy reads
(:func:`corridorguard.sharing.policy.visibility_clause`): ``originator``, ``tlp`` and
``created_by`` columns, plus two association tables, ``<kind>_rel_to(record_id, org)`` and
``<kind>_red_recipients(record_id, user_id)``. :func:`marked_table` builds the three tables of a
resource the same way for all of them, and :class:`MarkedTables` hands the policy its
:class:`~corridorguard.sharing.policy.MarkingColumns`, so no resource has its own visibility code.

Red line: movements hold **counts** of people and vehicles, never data about individuals; no
table here has a column for a person other than the staff user who created a record.

Revision 0003 creates these tables; ``forecast_values`` refuses UPDATE and DELETE (the values
of an issued forecast are evidence of what a plan was based on: a new forecast is a new record).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Double,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from corridorguard.sharing.policy import MarkingColumns
from corridorguard.store.models import Base, UTCDateTime

__all__ = [
    "FORECASTS",
    "FORECAST_VALUES",
    "MOVEMENTS",
    "RESOURCES",
    "SENSORS",
    "SENSOR_KINDS",
    "SENSOR_STATUSES",
    "SITES",
    "MarkedTables",
    "marked_table",
]

_ID = BigInteger().with_variant(Integer, "sqlite")
_TLP_CHECK = "tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')"
SENSOR_KINDS: Final = ("camera", "drone", "checkpoint")
SENSOR_STATUSES: Final = ("planned", "active", "inactive")


@dataclass(frozen=True)
class MarkedTables:
    """A resource's table, its REL-TO and RED-recipient tables, and where the marking lives."""

    kind: str
    table: Table
    rel: Table
    red: Table

    @property
    def marking(self) -> MarkingColumns:
        """What :func:`~corridorguard.sharing.policy.visibility_clause` needs."""
        t = self.table
        return MarkingColumns(
            id=t.c.id,
            originator=t.c.originator,
            tlp=t.c.tlp,
            created_by=t.c.created_by,
            rel_to=(self.rel.c.record_id, self.rel.c.org),
            red_recipients=(self.red.c.record_id, self.red.c.user_id),
        )


def marked_table(kind: str, name: str, *columns: Any) -> MarkedTables:
    """Declare ``name`` (with the marking and provenance columns) and its association tables."""
    table = Table(
        name,
        Base.metadata,
        Column("id", _ID, primary_key=True, autoincrement=True),
        Column("originator", String(200), nullable=False),
        Column("tlp", String(16), nullable=False),
        Column("created_by", String(100), nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=True),
        *columns,
        CheckConstraint(_TLP_CHECK, name="tlp"),
    )
    fk = f"{name}.id"
    rel = Table(
        f"{kind}_rel_to",
        Base.metadata,
        Column("record_id", _ID, ForeignKey(fk, ondelete="CASCADE"), primary_key=True),
        Column("org", String(200), primary_key=True),
    )
    red = Table(
        f"{kind}_red_recipients",
        Base.metadata,
        Column("record_id", _ID, ForeignKey(fk, ondelete="CASCADE"), primary_key=True),
        Column("user_id", String(100), primary_key=True),
    )
    return MarkedTables(kind, table, rel, red)


def _lonlat(nullable: bool) -> list[Any]:
    return [Column("lon", Double, nullable=nullable), Column("lat", Double, nullable=nullable)]


SITES = marked_table(
    "site",
    "sites",
    Column("scenario", String(100), nullable=True),
    Column("key", String(100), nullable=True),
    Column("name", String(200), nullable=False),
    Column("type", String(64), nullable=False),
    *_lonlat(False),
    Column("criticality", Double, nullable=False),
    Column("workers", Integer, nullable=False, server_default=text("0")),
    Column("operator", String(200), nullable=True),
    Column("province", String(100), nullable=True),
    Column("node", String(100), nullable=True),
    Column("approximate", Boolean, nullable=False, server_default=text("true")),
    Column("notional", Boolean, nullable=False, server_default=text("false")),
    Column("description", Text, nullable=False, server_default=text("''")),
    Column("stix_id", String(100), nullable=True),
    CheckConstraint("lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90", name="lonlat"),
    CheckConstraint("criticality BETWEEN 0 AND 5", name="criticality"),
    CheckConstraint("workers >= 0", name="workers"),
    UniqueConstraint("originator", "stix_id"),
    UniqueConstraint("originator", "scenario", "key"),
)

FORECASTS = marked_table(
    "forecast",
    "forecasts",
    Column("name", String(200), nullable=False),
    Column("model", String(64), nullable=False),
    Column("scenario", String(100), nullable=True),
    Column("valid_from", UTCDateTime(), nullable=False),
    Column("valid_to", UTCDateTime(), nullable=False),
    Column("unit", String(64), nullable=False),
    Column("cell_m", Double, nullable=True),
    Column("crs", Text, nullable=True),
    Column("seed", BigInteger, nullable=True),
    Column("params", JSON, nullable=False),
    Column("description", Text, nullable=False, server_default=text("''")),
    Column("n_values", Integer, nullable=False),
    CheckConstraint("valid_to > valid_from", name="window"),
)

FORECAST_VALUES = Table(
    "forecast_values",
    Base.metadata,
    Column(
        "forecast_id",
        _ID,
        ForeignKey("forecasts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("idx", Integer, primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("key", String(100), nullable=False),
    *_lonlat(True),
    Column("value", Double, nullable=False),
    CheckConstraint("kind IN ('cell', 'segment')", name="kind"),
)

MOVEMENTS = marked_table(
    "movement",
    "movements",
    Column("name", String(200), nullable=False),
    Column("scenario", String(100), nullable=True),
    Column("origin", String(100), nullable=False),
    Column("destination", String(100), nullable=False),
    Column("window_start", UTCDateTime(), nullable=False),
    Column("window_end", UTCDateTime(), nullable=False),
    Column("people", Integer, nullable=False),
    Column("vehicles", Integer, nullable=False),
    Column("force", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=text("''")),
    CheckConstraint("window_end > window_start", name="window"),
    CheckConstraint("people >= 0 AND vehicles >= 1", name="counts"),
)

SENSORS = marked_table(
    "sensor",
    "sensors",
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("scenario", String(100), nullable=True),
    *_lonlat(True),
    Column("segment", String(100), nullable=True),
    Column("range_m", Double, nullable=True),
    Column("azimuth_deg", Double, nullable=True),
    Column("fov_deg", Double, nullable=True),
    Column("parameters", JSON, nullable=False),
    Column("description", Text, nullable=False, server_default=text("''")),
    CheckConstraint("kind IN ('camera', 'drone', 'checkpoint')", name="kind"),
    CheckConstraint("status IN ('planned', 'active', 'inactive')", name="status"),
    CheckConstraint("(lon IS NOT NULL AND lat IS NOT NULL) OR segment IS NOT NULL", name="place"),
)

#: Every marked resource of this module, by kind.
RESOURCES: Final = {r.kind: r for r in (SITES, FORECASTS, MOVEMENTS, SENSORS)}
