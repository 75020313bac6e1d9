"""Plan versions over STIX: ``plans.modified``.

A plan version's public part (its STIX ``course-of-action``) changes while the version lives:
a draft is edited, proposed, approved by one force and then the other, or rejected. Each of
those is a new STIX version, so partners polling TAXII with ``added_after`` see it; before
this revision the object's ``modified`` moved only when the plan was decided, so a partner
never saw a draft become proposed or a joint plan's first approval.

* ``plans.modified`` — when the version's public part last changed (creation, edit,
  proposal, each decision): the STIX ``modified`` and TAXII date added of the plan.

Backfill of draft and proposed versions: the newest approval, else the creation time.
Approved and rejected versions are immutable (the ``plans_frozen`` trigger of revision 0002)
and keep ``NULL``: readers fall back to the decision time, which is what the backfill would
have written. Nullable like ``incidents.modified`` (revision 0005); every write path sets it
and readers fall back to ``decided_at`` / ``created_at``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from corridorguard.store.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("plans", sa.Column("modified", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE plans SET modified = coalesce((SELECT max(a.decided_at) "
        "FROM plan_approvals AS a WHERE a.plan_id = plans.id), created_at) "
        "WHERE status IN ('draft', 'proposed')"
    )


def downgrade() -> None:
    op.drop_column("plans", "modified")
