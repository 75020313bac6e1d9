"""Records received from partners through STIX/TAXII: plans' public parts and version history.

* ``shared_plans``: the public parts of a partner's plan (a STIX ``course-of-action``) as a
  read-only, marked record (same marking columns and REL-TO / RED tables as every resource,
  :func:`~corridorguard.store.resources.marked_table`). It is never a row of ``plans``: it
  cannot be edited, proposed or approved here, and no approval workflow reads it.
* ``stix_versions``: one row per STIX version (``modified``) of a record received over STIX
  or TAXII (incidents, sites, shared plans): the version's ``modified``, when it was added here
  and the SHA-256 of its canonical JSON, and (revision 0005) the version's STIX objects as this
  instance serves them (``objects``), so TAXII ``match[version]`` serves earlier versions. It
  also holds the versions of this instance's incidents from their first correction on. TAXII
  ``/objects/{id}/versions/`` lists these; the record itself holds the newest version.

Revision 0004 creates both tables; 0005 adds ``objects``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from corridorguard.store.models import Base, StringList, UTCDateTime
from corridorguard.store.resources import marked_table

__all__ = ["SHARED_PLANS", "STIX_VERSIONS", "SYNC_STATE"]

_ID = BigInteger().with_variant(Integer, "sqlite")

SHARED_PLANS = marked_table(
    "shared_plan",
    "shared_plans",
    Column("stix_id", String(100), nullable=False),
    Column("title", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("lineage", String(100), nullable=False),
    Column("forces", StringList(), nullable=False),
    Column("created", UTCDateTime(), nullable=False),
    Column("decided", UTCDateTime(), nullable=True),
    Column("approvals", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("modified", UTCDateTime(), nullable=False),
    UniqueConstraint("originator", "stix_id"),
)

STIX_VERSIONS = Table(
    "stix_versions",
    Base.metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("record_id", _ID, nullable=False),
    Column("stix_id", String(100), nullable=False),
    Column("modified", UTCDateTime(), nullable=False),
    Column("added_at", UTCDateTime(), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("objects", JSON, nullable=True),
    UniqueConstraint("kind", "record_id", "modified"),
    Index(None, "stix_id"),
)

SYNC_STATE = Table(
    "sync_state",
    Base.metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("source", String(500), nullable=False),
    Column("collection", String(100), nullable=False),
    Column("last_added", UTCDateTime(), nullable=True),
    Column("pulled_at", UTCDateTime(), nullable=False),
    UniqueConstraint("source", "collection"),
)
