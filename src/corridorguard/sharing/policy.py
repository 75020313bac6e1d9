"""Releasability: who may see, edit and pass on a marked record (TLP 2.0 + REL-TO).

This is the *one* policy of the platform. :func:`visible_to`, :func:`editable_by` and
:func:`may_pass_on` are the pure reference over plain dataclasses; :func:`visibility_clause`
and :func:`editable_clause` compile the same rules to SQLAlchemy expressions for every read and
write path (get, list, search, export, sync, STIX/TAXII, CoT). Tests check that the compiled
filter returns exactly the records the reference allows, in random worlds.

The rules (see ``docs/sharing.md``):

============  ==============================================  ==================================
TLP           visible to                                      may be passed on (sync/export)
============  ==============================================  ==================================
CLEAR         every organisation on the instance              to anyone, also public channels
GREEN         every organisation on the instance              to any named organisation
AMBER         originator + organisations in ``rel_to``        by those, to any named organisation
AMBER+STRICT  originator + organisations in ``rel_to``        originator: to ``rel_to`` orgs;
                                                              others: only within their own org
RED           the record's creator + named recipients         never
============  ==============================================  ==================================

Oversight users see the audit log and aggregate figures, never record contents: every function
here answers ``False`` for them. Everything fails closed: an unknown marking, an anonymous actor
or an actor without an organisation sees nothing. Editing needs visibility first (visible is not
editable): only the originating organisation's analysts, planners, commanders and admins, or the
record's own creator, may edit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Protocol, TypeVar, runtime_checkable

from sqlalchemy import ColumnElement, and_, exists, false, literal, or_, select

from corridorguard.errors import ValidationError

__all__ = [
    "PUBLIC",
    "TLP",
    "Actor",
    "Marked",
    "Marking",
    "MarkingColumns",
    "Role",
    "editable_by",
    "editable_clause",
    "may_pass_on",
    "releasable",
    "visibility_clause",
    "visible_to",
]

PUBLIC: Final = "*"
"""``to_org`` of :func:`may_pass_on` meaning a publicly accessible channel."""


class TLP(StrEnum):
    """Traffic Light Protocol 2.0 levels (FIRST, 2022)."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"

    @classmethod
    def parse(cls, value: str | TLP) -> TLP:
        """``"amber+strict"``, ``"TLP:AMBER+STRICT"``, ``"WHITE"`` (TLP 1.0) -> :class:`TLP`."""
        if isinstance(value, TLP):
            return value
        text = str(value).strip().upper().removeprefix("TLP:").replace("_", "+")
        if text == "WHITE":
            return cls.CLEAR
        try:
            return cls(text)
        except ValueError:
            raise ValidationError(f"unknown TLP marking {value!r}", field="tlp") from None


class Role(StrEnum):
    """User roles (issue 7 §2)."""

    REPORTER = "reporter"
    ANALYST = "analyst"
    PLANNER = "planner"
    COMMANDER = "commander"
    OVERSIGHT = "oversight"
    ADMIN = "admin"


_EDITORS: Final = frozenset({Role.ANALYST, Role.PLANNER, Role.COMMANDER, Role.ADMIN})
_OPERATIONAL: Final = frozenset(Role) - {Role.OVERSIGHT}
_EVERYONE: Final = (TLP.CLEAR, TLP.GREEN)
_AMBERS: Final = (TLP.AMBER, TLP.AMBER_STRICT)


@dataclass(frozen=True)
class Actor:
    """Who is asking: a user of an organisation with one role."""

    user_id: str
    org: str
    role: Role

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "role", Role(self.role))
        except ValueError:
            raise ValidationError(f"unknown role {self.role!r}", field="role") from None


@dataclass(frozen=True)
class Marking:
    """The releasability of one record.

    ``rel_to`` are organisation names; ``red_recipients`` user ids (TLP:RED is for named
    people); ``created_by`` the user who created the record (set by the server).
    """

    originator: str
    tlp: TLP
    rel_to: frozenset[str] = field(default_factory=frozenset)
    red_recipients: frozenset[str] = field(default_factory=frozenset)
    created_by: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tlp", TLP.parse(self.tlp))
        object.__setattr__(self, "rel_to", frozenset(self.rel_to))
        object.__setattr__(self, "red_recipients", frozenset(self.red_recipients))


@runtime_checkable
class Marked(Protocol):
    """Anything that carries a :class:`Marking` (incident, site, route records)."""

    @property
    def marking(self) -> Marking: ...


def _marking(record: Marking | Marked) -> Marking:
    return record if isinstance(record, Marking) else record.marking


def _operational(actor: Actor | None) -> bool:
    return actor is not None and bool(actor.org) and actor.role in _OPERATIONAL


def visible_to(actor: Actor | None, record: Marking | Marked) -> bool:
    """May ``actor`` read the contents of ``record``?"""
    if not _operational(actor):
        return False
    assert actor is not None
    m = _marking(record)
    if m.tlp in _EVERYONE:
        return True
    if m.tlp in _AMBERS:
        return actor.org == m.originator or actor.org in m.rel_to
    # TLP.RED (Marking only holds the five TLP values)
    return actor.user_id == m.created_by or actor.user_id in m.red_recipients


def editable_by(actor: Actor | None, record: Marking | Marked) -> bool:
    """May ``actor`` change ``record``? Needs visibility and the originating organisation."""
    if not visible_to(actor, record):
        return False
    assert actor is not None
    m = _marking(record)
    if actor.org != m.originator:
        return False
    return actor.role in _EDITORS or (m.created_by is not None and actor.user_id == m.created_by)


def may_pass_on(actor: Actor | None, record: Marking | Marked, to_org: str) -> bool:
    """May ``actor`` pass ``record`` on (sync, export, TAK) to organisation ``to_org``?

    ``to_org`` is :data:`PUBLIC` for a publicly accessible channel.
    """
    if not visible_to(actor, record) or not to_org:
        return False
    assert actor is not None
    m = _marking(record)
    if m.tlp is TLP.CLEAR:
        return True
    if to_org == PUBLIC:
        return False
    if m.tlp in (TLP.GREEN, TLP.AMBER):
        return True
    if m.tlp is TLP.AMBER_STRICT:
        if actor.org == m.originator:
            return to_org == m.originator or to_org in m.rel_to
        return to_org == actor.org
    return False


_R = TypeVar("_R", bound=Marked)


def releasable(
    actor: Actor | None, records: Iterable[_R], *, to_org: str | None = None
) -> list[_R]:
    """The records ``actor`` may export: visible, and if ``to_org`` is given, passable to it.

    Every export path (STIX, CoT, TAK) goes through this function.
    """
    if to_org is None:
        return [r for r in records if visible_to(actor, r)]
    return [r for r in records if may_pass_on(actor, r, to_org)]


# ------------------------------------------------------------------ SQL compilation


@dataclass(frozen=True)
class MarkingColumns:
    """Where a table keeps its marking, for :func:`visibility_clause`.

    REL-TO and RED recipients live in association tables (portable to SQLite and PostgreSQL):
    ``rel_to = (rel_table.c.record_id, rel_table.c.org)`` and
    ``red_recipients = (red_table.c.record_id, red_table.c.user_id)``.
    """

    id: Any
    originator: Any
    tlp: Any
    created_by: Any
    rel_to: tuple[Any, Any]
    red_recipients: tuple[Any, Any]


def _member(pair: tuple[Any, Any], record_id: Any, value: str) -> ColumnElement[bool]:
    rid, col = pair
    return exists(select(literal(1)).where(rid == record_id, col == value))


def visibility_clause(actor: Actor | None, columns: MarkingColumns) -> ColumnElement[bool]:
    """SQL filter equal to :func:`visible_to` (unknown TLP strings are never visible)."""
    if not _operational(actor):
        return false()
    assert actor is not None
    c = columns
    return or_(
        c.tlp.in_([t.value for t in _EVERYONE]),
        and_(
            c.tlp.in_([t.value for t in _AMBERS]),
            or_(c.originator == actor.org, _member(c.rel_to, c.id, actor.org)),
        ),
        and_(
            c.tlp == TLP.RED.value,
            or_(c.created_by == actor.user_id, _member(c.red_recipients, c.id, actor.user_id)),
        ),
    )


def editable_clause(actor: Actor | None, columns: MarkingColumns) -> ColumnElement[bool]:
    """SQL filter equal to :func:`editable_by`."""
    if not _operational(actor):
        return false()
    assert actor is not None
    who = literal(True) if actor.role in _EDITORS else columns.created_by == actor.user_id
    return and_(visibility_clause(actor, columns), columns.originator == actor.org, who)
