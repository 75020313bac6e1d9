"""Releasability and provenance tables next to the incidents table, and idempotency keys.

The store's ``incidents`` table keeps ``originator``, ``tlp`` and ``rel_to`` (a JSON list). The
one releasability policy (:func:`corridorguard.sharing.policy.visibility_clause`) wants REL-TO
and TLP:RED recipients in association tables, and the creating user for RED records:

* ``incident_rel_to(incident_id, org)`` — kept equal to ``incidents.rel_to`` by database
  triggers (revision 0002), so records imported by any path (CLI, API, sync) are covered;
* ``incident_red_recipients(incident_id, user_id)`` — named recipients of RED records;
* ``incident_meta(incident_id, created_by, created_at)`` — provenance set by the server.

:data:`INCIDENT_MARKING` is the :class:`~corridorguard.sharing.policy.MarkingColumns` every read
path passes to the policy.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from corridorguard.sharing.policy import MarkingColumns
from corridorguard.store.models import Base, IncidentRow, UTCDateTime

__all__ = [
    "INCIDENT_MARKING",
    "IdempotencyRow",
    "IncidentMetaRow",
    "IncidentRedRow",
    "IncidentRelToRow",
]

_ID = BigInteger().with_variant(Integer, "sqlite")


class IncidentMetaRow(Base):
    """Server-side provenance of an incident: who created it (user id) and when."""

    __tablename__ = "incident_meta"

    incident_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IncidentRelToRow(Base):
    """One organisation in an incident's REL-TO list (maintained by triggers)."""

    __tablename__ = "incident_rel_to"

    incident_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    org: Mapped[str] = mapped_column(String(200), primary_key=True)


class IncidentRedRow(Base):
    """One named recipient (user id) of a TLP:RED incident."""

    __tablename__ = "incident_red_recipients"

    incident_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(100), primary_key=True)


class IdempotencyRow(Base):
    """A POST answered under an ``Idempotency-Key``: replayed verbatim on a retry."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(_ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


_I = IncidentRow.__table__
_META = IncidentMetaRow.__table__
_REL = IncidentRelToRow.__table__
_RED = IncidentRedRow.__table__

#: Where incidents keep their marking; queries must outer-join ``incident_meta`` for
#: ``created_by`` (see :func:`corridorguard.api.queries.incident_select`).
INCIDENT_MARKING = MarkingColumns(
    id=_I.c.id,
    originator=_I.c.originator,
    tlp=_I.c.tlp,
    created_by=_META.c.created_by,
    rel_to=(_REL.c.incident_id, _REL.c.org),
    red_recipients=(_RED.c.incident_id, _RED.c.user_id),
)
