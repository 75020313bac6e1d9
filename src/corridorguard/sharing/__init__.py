"""Sharing: one releasability policy (TLP 2.0 + REL-TO), STIX 2.1 and Cursor-on-Target.

Every export function takes the actor and filters through :func:`releasable`; see
``docs/sharing.md``.
"""

from corridorguard.sharing.policy import (
    PUBLIC,
    TLP,
    Actor,
    Marked,
    Marking,
    MarkingColumns,
    Role,
    editable_by,
    editable_clause,
    may_pass_on,
    releasable,
    visibility_clause,
    visible_to,
)
from corridorguard.sharing.records import IncidentRecord, RouteRecord, SiteRecord

__all__ = [
    "PUBLIC",
    "TLP",
    "Actor",
    "IncidentRecord",
    "Marked",
    "Marking",
    "MarkingColumns",
    "Role",
    "RouteRecord",
    "SiteRecord",
    "editable_by",
    "editable_clause",
    "may_pass_on",
    "releasable",
    "visibility_clause",
    "visible_to",
]
