"""Cursor-on-Target XML and the TAK sender (against a loopback TCP listener)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corridorguard.errors import ConfigError, ValidationError
from corridorguard.sharing.cot import (
    INCIDENT_TYPE,
    ROUTE_TYPE,
    SITE_TYPE,
    WAYPOINT_TYPE,
    cot_events,
    cot_incident,
    cot_route,
    parse_cot,
    to_bytes,
)
from corridorguard.sharing.policy import TLP, Actor, Role, may_pass_on, visible_to
from corridorguard.sharing.records import IncidentRecord, RouteRecord, SiteRecord
from corridorguard.sharing.tak import push_to_tak, send_cot, send_cot_async

A, B, C = "ORG-A", "ORG-B", "ORG-C"
alice = Actor("alice", A, Role.PLANNER)
bob = Actor("bob", B, Role.ANALYST)
carol = Actor("carol", C, Role.ANALYST)
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _inc(i: int, tlp: TLP, **kw) -> IncidentRecord:
    return IncidentRecord(
        id=str(i),
        source="schematic",
        source_id=None,
        time="2026-11-20T08:30:00Z",
        lon=73.05,
        lat=33.68,
        type="ambush",
        description="schematic <test> & data",
        fatalities=2,
        tlp=tlp,
        originator=A,
        **kw,
    )


SITE = SiteRecord(
    id="s1", name="Bridge-7", kind="bridge", lon=74.0, lat=35.0, tlp=TLP.GREEN, originator=A
)
ROUTE = RouteRecord(
    id="r1",
    name="PTL-ALPHA",
    points=((73.0, 33.6), (73.1, 33.7), (73.2, 33.65)),
    callsign="ALPHA-1",
    start="2026-11-28T06:00:00Z",
    tlp=TLP.AMBER,
    originator=A,
    rel_to=frozenset({B}),
)


def test_incident_event_shape() -> None:
    ev = parse_cot(to_bytes(cot_incident(_inc(1, TLP.AMBER, rel_to=frozenset({B})), now=NOW)))
    assert ev.tag == "event" and ev.get("version") == "2.0"
    assert ev.get("type") == INCIDENT_TYPE and ev.get("uid") == "corridorguard.incident.1"
    assert (
        ev.get("time") == "2026-11-27T12:00:00.000Z"
        and ev.get("stale") == "2026-11-27T18:00:00.000Z"
    )
    pt = ev.find("point")
    assert pt is not None and float(pt.get("lat", "0")) == pytest.approx(33.68)
    assert float(pt.get("lon", "0")) == pytest.approx(73.05)
    remarks = ev.findtext("detail/remarks") or ""
    assert remarks.startswith("TLP:AMBER REL TO ORG-B | ORG-A | ambush at 2026-11-20T08:30:00.000Z")
    assert "<test> & data" in remarks  # escaped on the wire, intact after parsing
    mark = ev.find("detail/__corridorguard")
    assert mark is not None and mark.get("tlp") == "AMBER" and mark.get("rel_to") == B


def test_route_is_b_m_r_with_waypoint_links() -> None:
    site = parse_cot(cot_events(alice, sites=[SITE], now=NOW)[0])
    assert site.get("type") == SITE_TYPE
    assert site.find("detail/contact").get("callsign") == "Bridge-7"  # type: ignore[union-attr]
    ev = parse_cot(to_bytes(cot_route(ROUTE, now=NOW)))
    assert ev.get("type") == ROUTE_TYPE
    links = ev.findall("detail/link")
    assert [lk.get("type") for lk in links] == [WAYPOINT_TYPE] * 3
    assert [lk.get("point") for lk in links] == [
        "33.6000000,73.0000000",
        "33.7000000,73.1000000",
        "33.6500000,73.2000000",
    ]
    assert ev.find("detail/link_attr") is not None
    with pytest.raises(ValidationError):
        RouteRecord(id="x", name="x", points=((0, 0),), tlp=TLP.GREEN, originator=A)


def test_events_apply_the_policy() -> None:
    incidents = [
        _inc(1, TLP.GREEN),
        _inc(2, TLP.AMBER_STRICT, rel_to=frozenset({B})),
        _inc(3, TLP.RED),
    ]
    uids = lambda evs: [parse_cot(e).get("uid") for e in evs]  # noqa: E731
    assert uids(cot_events(carol, incidents=incidents, sites=[SITE], routes=[ROUTE], now=NOW)) == [
        "corridorguard.incident.1",
        "corridorguard.site.s1",
    ]
    assert len(cot_events(bob, incidents=incidents, routes=[ROUTE], now=NOW)) == 3
    assert uids(cot_events(bob, incidents=incidents, routes=[ROUTE], to_org=C, now=NOW)) == [
        "corridorguard.incident.1",
        "corridorguard.route.r1",
    ]
    assert cot_events(Actor("o", A, Role.OVERSIGHT), incidents=incidents, now=NOW) == []


def test_parse_cot_refuses_entities_and_non_events() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><event>&a;</event>'
    with pytest.raises(ValidationError):
        parse_cot(bomb)
    with pytest.raises(ValidationError):
        parse_cot(b"<point/>")
    with pytest.raises(ValidationError):
        parse_cot(b"not xml")


class _Listener:
    """A loopback TCP server that records every byte it receives."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.done = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while chunk := await reader.read(65536):
            self.data.extend(chunk)
        writer.close()
        self.done.set()


def _split_events(data: bytes) -> list[bytes]:
    return [m.group(0) for m in re.finditer(rb"<event .*?</event>", data, re.S)]


def test_tak_sender_against_a_local_listener() -> None:
    async def run() -> tuple[int, bytes]:
        listener = _Listener()
        server = await asyncio.start_server(listener.handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        events = cot_events(
            bob, incidents=[_inc(1, TLP.GREEN)], sites=[SITE], routes=[ROUTE], now=NOW
        )
        sent = await send_cot_async(events, f"tcp://127.0.0.1:{port}")
        await asyncio.wait_for(listener.done.wait(), 5)
        server.close()
        await server.wait_closed()
        return sent, bytes(listener.data)

    sent, data = asyncio.run(run())
    assert sent == len(data) > 0
    got = [parse_cot(e) for e in _split_events(data)]
    assert [e.get("uid") for e in got] == [
        "corridorguard.incident.1",
        "corridorguard.site.s1",
        "corridorguard.route.r1",
    ]


def test_push_to_tak_sends_only_what_may_be_passed_on() -> None:
    import socket
    import threading

    received = bytearray()
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def serve() -> None:
        conn, _ = srv.accept()
        with conn:
            while chunk := conn.recv(65536):
                received.extend(chunk)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    incidents = [
        _inc(1, TLP.GREEN),
        _inc(2, TLP.AMBER_STRICT, rel_to=frozenset({B})),
        _inc(3, TLP.RED, red_recipients=frozenset({"bob"})),
    ]
    n = push_to_tak(bob, f"tcp://127.0.0.1:{port}", to_org=C, incidents=incidents, routes=[ROUTE])
    t.join(5)
    srv.close()
    uids = [parse_cot(e).get("uid") for e in _split_events(bytes(received))]
    assert n == 2 and uids == ["corridorguard.incident.1", "corridorguard.route.r1"]
    assert all(
        may_pass_on(bob, r, C) for r in incidents if f"corridorguard.incident.{r.id}" in uids
    )


def test_push_with_nothing_releasable_does_not_connect() -> None:
    red = _inc(9, TLP.RED, red_recipients=frozenset({"bob"}))
    assert push_to_tak(bob, "tcp://192.0.2.1:8087", to_org=B, incidents=[red]) == 0


def test_sender_errors_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        send_cot([b"<event/>"], "udp://127.0.0.1:6969")
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here now
    with pytest.raises(ConfigError):
        send_cot([b"<event/>"], f"tcp://127.0.0.1:{port}", timeout=2)


ORGS = [A, B, C]
ACTORS = [Actor(f"u-{o}-{r.value}", o, r) for o in ORGS for r in (Role.REPORTER, Role.OVERSIGHT)]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(ORGS),
            st.sampled_from(list(TLP)),
            st.frozensets(st.sampled_from(ORGS), max_size=2),
        ),
        min_size=1,
        max_size=10,
    ),
    st.sampled_from([None, *ORGS]),
)
def test_random_worlds_cot_exactly_the_releasable(recs, to_org) -> None:
    incidents = [
        IncidentRecord(
            id=str(i),
            source="s",
            source_id=None,
            time=NOW,
            lon=70.0,
            lat=30.0,
            type="t",
            tlp=tlp,
            originator=org,
            rel_to=rel,
        )
        for i, (org, tlp, rel) in enumerate(recs)
    ]
    for actor in ACTORS:
        got = {
            parse_cot(e).get("uid")
            for e in cot_events(actor, incidents=incidents, to_org=to_org, now=NOW)
        }
        want = {
            f"corridorguard.incident.{r.id}"
            for r in incidents
            if (visible_to(actor, r) if to_org is None else may_pass_on(actor, r, to_org))
        }
        assert got == want
