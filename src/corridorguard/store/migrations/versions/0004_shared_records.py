"""Records received from partners: ``shared_plans`` (+ REL-TO and RED tables) and
``stix_versions`` (the version history of records received over STIX/TAXII).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from corridorguard.store.models import StringList, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "shared_plans",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("originator", sa.String(length=200), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.Column("stix_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lineage", sa.String(length=100), nullable=False),
        sa.Column("forces", StringList(), nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("decided", UTCDateTime(), nullable=True),
        sa.Column("approvals", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("modified", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')",
            name=op.f("ck_shared_plans_tlp"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shared_plans")),
        sa.UniqueConstraint(
            "originator", "stix_id", name=op.f("uq_shared_plans_originator_stix_id")
        ),
    )
    for kind, col in (("rel_to", "org"), ("red_recipients", "user_id")):
        name = f"shared_plan_{kind}"
        op.create_table(
            name,
            sa.Column("record_id", _ID, nullable=False),
            sa.Column(col, sa.String(length=200 if col == "org" else 100), nullable=False),
            sa.ForeignKeyConstraint(
                ["record_id"],
                ["shared_plans.id"],
                name=op.f(f"fk_{name}_record_id_shared_plans"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("record_id", col, name=op.f(f"pk_{name}")),
        )
    op.create_table(
        "stix_versions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("record_id", _ID, nullable=False),
        sa.Column("stix_id", sa.String(length=100), nullable=False),
        sa.Column("modified", UTCDateTime(), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stix_versions")),
        sa.UniqueConstraint(
            "kind", "record_id", "modified", name=op.f("uq_stix_versions_kind_record_id_modified")
        ),
    )
    op.create_index(op.f("ix_stix_versions_stix_id"), "stix_versions", ["stix_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_stix_versions_stix_id"), table_name="stix_versions")
    op.drop_table("stix_versions")
    op.drop_table("shared_plan_red_recipients")
    op.drop_table("shared_plan_rel_to")
    op.drop_table("shared_plans")
