"""Partner sync remembers its last pull: ``sync_state``.

One row per partner source (base URL) and collection: the TAXII date added of the last object
taken (``X-TAXII-Date-Added-Last`` of the pull's last page) and when the pull ran. The next
``sync pull`` asks only for what was added after it (``--full`` reads everything again).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from corridorguard.store.models import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("collection", sa.String(100), nullable=False),
        sa.Column("last_added", UTCDateTime(), nullable=True),
        sa.Column("pulled_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_state")),
        sa.UniqueConstraint("source", "collection", name=op.f("uq_sync_state_source_collection")),
    )


def downgrade() -> None:
    op.drop_table("sync_state")
