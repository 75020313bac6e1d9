"""Incident versions: ``incidents.modified`` and ``incidents.added_at``; version contents.

* ``incidents.modified`` — the STIX ``modified`` of the version the row holds: for records of
  this instance the time of their creation or last correction (``PATCH``); for records
  received over STIX/TAXII the originator's ``modified``.
* ``incidents.added_at`` — the TAXII date added of that version: when it was created,
  corrected or received here (``imported_at`` stays the time the row was first written).
* ``stix_versions.objects`` — the STIX objects of each version (JSON), so TAXII
  ``match[version]`` and ``/versions/`` can serve earlier versions' contents.

Backfill: ``modified`` = the newest held version of records received over STIX/TAXII, else the
creation time (``incident_meta.created_at``, else ``imported_at``); ``added_at`` =
``imported_at``. Versions recorded before this revision keep no contents (``objects`` NULL).
The columns stay nullable in the schema (SQLite cannot add a NOT NULL column without a constant
default, and rebuilding ``incidents`` would drop its triggers); every write path sets them and
readers fall back to ``imported_at``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from corridorguard.store.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("modified", UTCDateTime(), nullable=True))
    op.add_column("incidents", sa.Column("added_at", UTCDateTime(), nullable=True))
    op.add_column("stix_versions", sa.Column("objects", sa.JSON(), nullable=True))
    op.execute(
        "UPDATE incidents SET modified = (SELECT max(v.modified) FROM stix_versions AS v "
        "WHERE v.kind = 'incident' AND v.record_id = incidents.id) "
        "WHERE source IN ('stix', 'taxii')"
    )
    op.execute(
        "UPDATE incidents SET modified = coalesce((SELECT m.created_at FROM incident_meta AS m "
        "WHERE m.incident_id = incidents.id), imported_at) WHERE modified IS NULL"
    )
    op.execute("UPDATE incidents SET added_at = imported_at")
    op.create_index(op.f("ix_incidents_added_at"), "incidents", ["added_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_incidents_added_at"), table_name="incidents")
    op.drop_column("stix_versions", "objects")
    op.drop_column("incidents", "added_at")
    op.drop_column("incidents", "modified")
