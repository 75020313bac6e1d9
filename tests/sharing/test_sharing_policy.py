"""Releasability: the contract, and the SQL filter equal to the pure reference (zero leaks)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select

from corridorguard.errors import ValidationError
from corridorguard.sharing.policy import (
    PUBLIC,
    TLP,
    Actor,
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

A, B, C, D = "ORG-A", "ORG-B", "ORG-C", "ORG-D"
alice = Actor("alice", A, Role.ANALYST)
arthur = Actor("arthur", A, Role.REPORTER)
bob = Actor("bob", B, Role.PLANNER)
carol = Actor("carol", C, Role.COMMANDER)
olga = Actor("olga", D, Role.OVERSIGHT)


def test_tlp_parsing() -> None:
    assert TLP.parse("amber+strict") is TLP.AMBER_STRICT
    assert TLP.parse("TLP:AMBER_STRICT") is TLP.AMBER_STRICT
    assert TLP.parse("tlp:white") is TLP.CLEAR
    assert TLP.parse(TLP.RED) is TLP.RED
    with pytest.raises(ValidationError):
        TLP.parse("PURPLE")
    with pytest.raises(ValidationError):
        Marking(A, "PURPLE")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Actor("x", A, "general")  # type: ignore[arg-type]
    assert Actor("x", A, "analyst").role is Role.ANALYST  # type: ignore[arg-type]


def test_contract_table() -> None:
    clear = Marking(A, TLP.CLEAR)
    green = Marking(A, TLP.GREEN)
    amber = Marking(A, TLP.AMBER, rel_to=frozenset({B}))
    strict = Marking(A, TLP.AMBER_STRICT, rel_to=frozenset({B}))
    red = Marking(A, TLP.RED, red_recipients=frozenset({"bob"}), created_by="arthur")
    # CLEAR and GREEN: every organisation on the instance
    assert all(visible_to(x, m) for x in (alice, bob, carol) for m in (clear, green))
    # AMBER and AMBER+STRICT: originator and rel_to
    for m in (amber, strict):
        assert visible_to(alice, m) and visible_to(bob, m) and not visible_to(carol, m)
    # RED: named recipients and the creator only (not the rest of the originator's org)
    assert visible_to(bob, red) and visible_to(arthur, red)
    assert not visible_to(alice, red) and not visible_to(carol, red)
    # oversight: no record contents at all; anonymous: nothing
    for m in (clear, green, amber, strict, red):
        assert not visible_to(olga, m) and not visible_to(None, m)
        assert not editable_by(olga, m) and not may_pass_on(olga, m, D)


def test_visible_is_not_editable() -> None:
    amber = Marking(A, TLP.AMBER, rel_to=frozenset({B}), created_by="arthur")
    assert visible_to(bob, amber) and not editable_by(bob, amber)  # partner reads, cannot edit
    assert editable_by(alice, amber)  # analyst of the originator
    assert editable_by(arthur, amber)  # the reporter who created it
    other_report = Marking(A, TLP.GREEN, created_by="alice")
    assert not editable_by(arthur, other_report)  # a reporter edits only their own
    red = Marking(A, TLP.RED, red_recipients=frozenset({"bob"}), created_by="arthur")
    assert not editable_by(alice, red)  # cannot edit what she cannot see


def test_passing_on() -> None:
    clear = Marking(A, TLP.CLEAR)
    green = Marking(A, TLP.GREEN)
    amber = Marking(A, TLP.AMBER, rel_to=frozenset({B}))
    strict = Marking(A, TLP.AMBER_STRICT, rel_to=frozenset({B}))
    red = Marking(A, TLP.RED, red_recipients=frozenset({"bob"}))
    assert may_pass_on(bob, clear, PUBLIC)
    assert not may_pass_on(bob, green, PUBLIC) and may_pass_on(bob, green, C)
    assert may_pass_on(bob, amber, C)  # AMBER may be passed on by rel_to orgs
    assert not may_pass_on(carol, amber, D)  # ... but not by those who cannot see it
    assert not may_pass_on(bob, strict, C)  # AMBER+STRICT may not
    assert may_pass_on(bob, strict, B)  # within the recipient's own organisation only
    assert may_pass_on(alice, strict, B) and not may_pass_on(alice, strict, C)
    assert not may_pass_on(bob, red, B) and not may_pass_on(bob, red, "")


# ------------------------------------------------------------------ random worlds vs SQL

ORGS = [A, B, C, D]
USERS = [
    Actor(f"{org.lower()}-{role.value}", org, role)
    for org in ORGS
    for role in (Role.REPORTER, Role.ANALYST, Role.COMMANDER, Role.OVERSIGHT)
]
ACTORS = [*USERS, Actor("outsider", "ORG-Z", Role.ADMIN), Actor("nobody", "", Role.ANALYST)]
USER_IDS = [u.user_id for u in USERS]

meta = MetaData()
records = Table(
    "records",
    meta,
    Column("id", Integer, primary_key=True),
    Column("originator", String, nullable=False),
    Column("tlp", String, nullable=False),
    Column("created_by", String),
)
rel_to = Table("rel_to", meta, Column("record_id", Integer), Column("org", String))
red = Table("red_recipients", meta, Column("record_id", Integer), Column("user_id", String))
COLS = MarkingColumns(
    id=records.c.id,
    originator=records.c.originator,
    tlp=records.c.tlp,
    created_by=records.c.created_by,
    rel_to=(rel_to.c.record_id, rel_to.c.org),
    red_recipients=(red.c.record_id, red.c.user_id),
)
ENGINE = create_engine("sqlite://")
meta.create_all(ENGINE)

markings = st.builds(
    Marking,
    originator=st.sampled_from(ORGS),
    tlp=st.sampled_from(list(TLP)),
    rel_to=st.frozensets(st.sampled_from([*ORGS, "ORG-Z"]), max_size=3),
    red_recipients=st.frozensets(st.sampled_from(USER_IDS), max_size=3),
    created_by=st.none() | st.sampled_from(USER_IDS),
)


def _load(world: list[Marking], junk: int = 0) -> None:
    with ENGINE.begin() as conn:
        for t in (records, rel_to, red):
            conn.execute(t.delete())
        for i, m in enumerate(world):
            conn.execute(
                insert(records).values(
                    id=i, originator=m.originator, tlp=m.tlp.value, created_by=m.created_by
                )
            )
            for org in m.rel_to:
                conn.execute(insert(rel_to).values(record_id=i, org=org))
            for uid in m.red_recipients:
                conn.execute(insert(red).values(record_id=i, user_id=uid))
        for k in range(junk):  # unknown markings in the table are never visible
            conn.execute(
                insert(records).values(id=10_000 + k, originator=A, tlp="amber", created_by=None)
            )


def _ids(clause) -> set[int]:
    with ENGINE.connect() as conn:
        return {row[0] for row in conn.execute(select(records.c.id).where(clause))}


@settings(max_examples=60, deadline=None)
@given(world=st.lists(markings, min_size=1, max_size=30), junk=st.integers(0, 2))
def test_sql_filter_equals_pure_reference(world: list[Marking], junk: int) -> None:
    _load(world, junk)
    for actor in [*ACTORS, None]:
        want = {i for i, m in enumerate(world) if visible_to(actor, m)}
        assert _ids(visibility_clause(actor, COLS)) == want, actor
        want_edit = {i for i, m in enumerate(world) if editable_by(actor, m)}
        assert _ids(editable_clause(actor, COLS)) == want_edit, actor
        assert want_edit <= want


@settings(max_examples=100, deadline=None)
@given(m=markings, actor=st.sampled_from(ACTORS), to_org=st.sampled_from([*ORGS, PUBLIC, "ORG-Z"]))
def test_passing_on_invariants(m: Marking, actor: Actor, to_org: str) -> None:
    ok = may_pass_on(actor, m, to_org)
    if ok:
        assert visible_to(actor, m)
        assert m.tlp is not TLP.RED
        assert to_org != PUBLIC or m.tlp is TLP.CLEAR
        if m.tlp is TLP.AMBER_STRICT and actor.org != m.originator:
            assert to_org == actor.org
    if actor.role is Role.OVERSIGHT:
        assert not ok and not visible_to(actor, m)


def test_releasable_filters_each_item() -> None:
    class Rec:
        def __init__(self, m: Marking) -> None:
            self.marking = m

    items = [Rec(Marking(A, TLP.GREEN)), Rec(Marking(A, TLP.AMBER_STRICT, rel_to=frozenset({B})))]
    assert releasable(bob, items) == items
    assert releasable(bob, items, to_org=C) == items[:1]
    assert releasable(olga, items) == []
