"""Plans with approval: versions, forces, markings and approvals.

A plan belongs to one or two forces (organisations; two = a joint plan) and moves
``draft -> proposed -> approved | rejected``. Every organisation among its forces must have a
commander approve it; one rejection rejects it. Approved and rejected versions are immutable: the
database refuses an UPDATE of such a row (trigger, revision 0002) and a change makes a new
version (same ``lineage``, ``version + 1``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from corridorguard.sharing.policy import MarkingColumns
from corridorguard.store.models import Base, StringList, UTCDateTime

__all__ = [
    "PLAN_MARKING",
    "PLAN_STATUSES",
    "PlanApprovalRow",
    "PlanRedRow",
    "PlanRelToRow",
    "PlanRow",
]

_ID = BigInteger().with_variant(Integer, "sqlite")
PLAN_STATUSES = ("draft", "proposed", "approved", "rejected")


class PlanRow(Base):
    """One version of a plan."""

    __tablename__ = "plans"
    __table_args__ = (
        UniqueConstraint("lineage", "version"),
        CheckConstraint("status IN ('draft', 'proposed', 'approved', 'rejected')", name="status"),
        CheckConstraint("tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')", name="tlp"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    lineage: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    forces: Mapped[tuple[str, ...]] = mapped_column(StringList())
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    originator: Mapped[str] = mapped_column(String(200))
    tlp: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: when the version's public part last changed (its STIX ``modified``; revision 0006)
    modified: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PlanRelToRow(Base):
    """One organisation in a plan version's REL-TO list."""

    __tablename__ = "plan_rel_to"

    plan_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    org: Mapped[str] = mapped_column(String(200), primary_key=True)


class PlanRedRow(Base):
    """One named recipient (user id) of a TLP:RED plan version."""

    __tablename__ = "plan_red_recipients"

    plan_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(100), primary_key=True)


class PlanApprovalRow(Base):
    """A commander's decision on a plan version for one force (organisation)."""

    __tablename__ = "plan_approvals"
    __table_args__ = (CheckConstraint("decision IN ('approve', 'reject')", name="decision"),)

    plan_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    org: Mapped[str] = mapped_column(String(200), primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(8))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())


_P = PlanRow.__table__
PLAN_MARKING = MarkingColumns(
    id=_P.c.id,
    originator=_P.c.originator,
    tlp=_P.c.tlp,
    created_by=_P.c.created_by,
    rel_to=(PlanRelToRow.__table__.c.plan_id, PlanRelToRow.__table__.c.org),
    red_recipients=(PlanRedRow.__table__.c.plan_id, PlanRedRow.__table__.c.user_id),
)
