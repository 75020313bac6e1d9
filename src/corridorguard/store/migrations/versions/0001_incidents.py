"""Create the incidents table.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from corridorguard.store.models import StringList, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(128), nullable=False),
        sa.Column("time", UTCDateTime(), nullable=False),
        sa.Column("time_end", UTCDateTime(), nullable=True),
        sa.Column("time_precision", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column(
            "location_precision", sa.SmallInteger(), server_default=sa.text("1"), nullable=False
        ),
        sa.Column("type", sa.String(128), nullable=False),
        sa.Column("subtype", sa.String(128), nullable=True),
        sa.Column("fatalities_best", sa.Integer(), nullable=True),
        sa.Column("fatalities_low", sa.Integer(), nullable=True),
        sa.Column("fatalities_high", sa.Integer(), nullable=True),
        sa.Column("target_category", sa.String(128), nullable=True),
        sa.Column("description", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("place", sa.String(200), nullable=True),
        sa.Column("country", sa.String(100), nullable=True),
        sa.Column("admin1", sa.String(100), nullable=True),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("originator", sa.String(200), nullable=True),
        sa.Column("tlp", sa.String(16), server_default=sa.text("'CLEAR'"), nullable=False),
        sa.Column("rel_to", StringList(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column(
            "imported_at",
            UTCDateTime(),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_incidents_source_source_id")),
        sa.CheckConstraint(
            "tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')",
            name=op.f("ck_incidents_tlp"),
        ),
        sa.CheckConstraint(
            "time_precision BETWEEN 1 AND 5", name=op.f("ck_incidents_time_precision")
        ),
        sa.CheckConstraint(
            "location_precision BETWEEN 1 AND 7", name=op.f("ck_incidents_location_precision")
        ),
        sa.CheckConstraint(
            "lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90", name=op.f("ck_incidents_lonlat")
        ),
    )
    op.create_index(op.f("ix_incidents_time"), "incidents", ["time"])


def downgrade() -> None:
    op.drop_index(op.f("ix_incidents_time"), table_name="incidents")
    op.drop_table("incidents")
