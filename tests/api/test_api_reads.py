"""The fast incident reads (compiled statements, orjson) answer byte for byte what the response
models did: every field, every marking, every search filter, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_world import (
    AGENCIES,
    NEEDS_PG,
    PG_URL,
    ROLES,
    Template,
    World,
    make_template,
    open_world,
    pg_schema,
    user_name,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from corridorguard.api.queries import IncidentSearch, incident_public, red_recipients
from corridorguard.api.queries import visible_incidents as visible
from corridorguard.api.schemas.incidents import IncidentList, IncidentPublic
from corridorguard.store.models import IncidentRow

URL = "/api/v1/incidents"
_I = IncidentRow.__table__
USERS = [user_name(o, r) for o in AGENCIES for r in ROLES]
WRITERS = [user_name(o, r) for o in AGENCIES for r in ("reporter", "analyst", "planner")]
TLPS = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]


def reference_page(w: World, user: str, search: IncidentSearch, limit: int, offset: int) -> bytes:
    """The list answer as the pydantic response model wrote it before the fast path."""
    stmt = visible(w.actors[user], search)
    with w.store.read() as conn:
        total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = conn.execute(stmt.order_by(_I.c.time, _I.c.id).limit(limit).offset(offset)).all()
        reds = red_recipients(conn, [r.id for r in rows if r.tlp == "RED"])
    items = [incident_public(r, reds.get(r.id, ())) for r in rows]
    page = {"items": items, "total": total, "limit": limit, "offset": offset}
    return IncidentList.model_validate(page).model_dump_json().encode()


def reference_one(w: World, user: str, incident_id: int) -> bytes | None:
    with w.store.read() as conn:
        row = conn.execute(visible(w.actors[user]).where(_I.c.id == incident_id)).first()
        if row is None:
            return None
        item = incident_public(row, red_recipients(conn, [row.id]).get(row.id, ()))
    return IncidentPublic.model_validate(item).model_dump_json().encode()


def _params(search: IncidentSearch, limit: int, offset: int) -> dict[str, Any]:
    p: dict[str, Any] = {"limit": limit, "offset": offset}
    if search.since:
        p["since"] = search.since.isoformat()
    if search.until:
        p["until"] = search.until.isoformat()
    if search.types:
        p["type"] = list(search.types)
    if search.tlp:
        p["tlp"] = list(search.tlp)
    if search.originator:
        p["originator"] = search.originator
    if search.bbox:
        p["bbox"] = ",".join(map(str, search.bbox))
    if search.q:
        p["q"] = search.q
    return p


def check_reads(w: World, user: str, search: IncidentSearch, limit: int, offset: int) -> None:
    r = w.get(user, URL, **_params(search, limit, offset))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.content == reference_page(w, user, search, limit, offset)
    with w.store.read() as conn:
        ids = list(conn.scalars(select(_I.c.id)))
    for incident_id in [*ids[:: max(1, len(ids) // 8)], 10_000_000]:
        r = w.get(user, f"{URL}/{incident_id}")
        want = reference_one(w, user, incident_id)
        assert r.status_code == (404 if want is None else 200)
        if want is not None:
            assert r.content == want


_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
_times = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, None]).map(lambda z: z or UTC),
)


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    tlp = draw(st.sampled_from(TLPS))
    body: dict[str, Any] = {
        "lon": draw(st.floats(-180, 180, allow_nan=False)),
        "lat": draw(st.floats(-90, 90, allow_nan=False)),
        "time": draw(_times).isoformat(),
        "type": draw(st.sampled_from(["armed assault", "ied", "Ünïcode ✓", "a_b%c"])),
        "description": draw(_text),
        "tlp": tlp,
        "rel_to": draw(st.lists(st.sampled_from(AGENCIES), unique=True, max_size=2)),
        "fatalities": draw(st.none() | st.integers(0, 1_000_000)),
        "place": draw(st.none() | _text.filter(bool)),
    }
    if tlp == "RED":
        body["red_recipients"] = draw(st.lists(st.sampled_from(USERS), unique=True, max_size=3))
    return draw(st.sampled_from(WRITERS)), body


@st.composite
def searches(draw: st.DrawFn) -> IncidentSearch:
    since = draw(st.none() | _times)
    return IncidentSearch(
        since=since,
        until=draw(st.none() | _times) if since is None else since + timedelta(days=20_000),
        types=tuple(draw(st.lists(st.sampled_from(["ied", "Ünïcode ✓", "x"]), max_size=2))),
        tlp=tuple(draw(st.lists(st.sampled_from(TLPS), max_size=2))),
        originator=draw(st.none() | st.sampled_from(AGENCIES)),
        bbox=draw(st.none() | st.just((-180.0, -45.0, 90.0, 90.0))),
        q=draw(st.none() | st.sampled_from(["a", "%", "_", "ünï", "report"])),
    )


@pytest.fixture(scope="module")
def reads_world(shared_world: World) -> World:
    from corridorguard.incidents import builtin_incidents

    # public-dataset rows: no originator, no creator (created_at is the import time)
    recs = builtin_incidents("cpec")[:5]
    shared_world.store.incidents.add_many(recs)
    return shared_world


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    new=st.lists(bodies(), max_size=4),
    user=st.sampled_from(USERS),
    search=st.none() | searches(),
    limit=st.integers(1, 30),
    offset=st.integers(0, 40),
)
def test_reads_equal_the_response_models(
    reads_world: World,
    new: list[tuple[str, dict[str, Any]]],
    user: str,
    search: IncidentSearch | None,
    limit: int,
    offset: int,
) -> None:
    for writer, body in new:
        r = reads_world.post(writer, URL, body)
        assert r.status_code == 201, r.text
    check_reads(reads_world, user, search or IncidentSearch(), limit, offset)


def test_a_page_past_the_end_still_counts(reads_world: World) -> None:
    user = "analyst-org-b"
    total = reads_world.get(user, URL).json()["total"]
    assert total > 0
    for offset in (total, total + 1, 10_000_000):
        page = reads_world.get(user, URL, offset=offset).json()
        assert page["items"] == [] and page["total"] == total
    check_reads(reads_world, user, IncidentSearch(), 5, total + 3)


def test_plans_are_cached_per_caller_and_search(reads_world: World) -> None:
    reads = reads_world.client.app.state.ctx.reads  # type: ignore[attr-defined]
    reads._plans.clear()
    reads_world.get("analyst-org-a", URL, limit=3)
    n = len(reads._plans)
    assert n == 1
    for limit, offset in ((3, 0), (7, 2), (50, 1)):  # limit and offset are parameters
        reads_world.get("analyst-org-a", URL, limit=limit, offset=offset)
    assert len(reads._plans) == n
    reads_world.get("analyst-org-c", URL, limit=3)  # another caller: another filter
    assert len(reads._plans) == n + 1


FIXED = [
    ("reporter-org-a", {"tlp": "GREEN"}),
    ("reporter-org-a", {"tlp": "AMBER", "rel_to": ["ORG-B"]}),
    ("analyst-org-b", {"tlp": "AMBER+STRICT", "description": 'é\u2028 \t\n"\\/'}),
    ("planner-org-c", {"tlp": "RED", "red_recipients": ["analyst-org-b", "admin-org-a"]}),
    ("planner-org-c", {"tlp": "RED"}),
    ("reporter-org-b", {"tlp": "CLEAR", "time": "2024-03-20T10:00:00.123400+05:00"}),
    ("analyst-org-a", {"tlp": "AMBER", "lon": 1e-7, "lat": -0.0, "fatalities": 3, "place": "x"}),
]


@pytest.mark.postgres
@NEEDS_PG
def test_reads_equal_the_response_models_on_postgresql(tmp_path: Path) -> None:
    from api_world import incident

    from corridorguard.incidents import builtin_incidents

    with pg_schema() as url:
        t: Template = make_template(tmp_path, url)
        w = open_world(t, url)
        try:
            w.store.incidents.add_many(builtin_incidents("cpec")[:3])
            for writer, extra in FIXED:
                assert w.post(writer, URL, incident(**extra)).status_code == 201
            for user in USERS:
                check_reads(w, user, IncidentSearch(), 100, 0)
                check_reads(w, user, IncidentSearch(tlp=("RED", "AMBER"), q="é"), 2, 1)
                check_reads(w, user, IncidentSearch(), 4, 50)
        finally:
            w.client.close()
            w.store.close()


@pytest.mark.postgres
@NEEDS_PG
def test_an_idle_postgresql_connection_that_died_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ping on every checkout any more: one that sat idle is pinged, a dead one replaced."""
    from sqlalchemy import create_engine, text

    from corridorguard.store import engine as engine_module

    with pg_schema() as url:
        t = make_template(tmp_path, url)
        w = open_world(t, url)
        admin = create_engine(PG_URL)
        try:
            assert w.get("analyst-org-a", URL).status_code == 200
            w.store.engine.dispose()  # one pooled connection from here on
            assert w.get("analyst-org-a", f"{URL}/1").status_code == 404
            raw = w.store.engine.raw_connection()
            pid = raw.driver_connection.info.backend_pid  # type: ignore[union-attr]
            raw.close()
            with admin.begin() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            monkeypatch.setattr(engine_module, "PING_IDLE_SECONDS", 0.0)
            assert w.get("analyst-org-a", URL).status_code == 200
            assert w.get("analyst-org-a", URL, limit=1).json()["total"] == 0
        finally:
            admin.dispose()
            w.client.close()
            w.store.close()


def test_concurrent_requests_share_one_token_lookup(world: World) -> None:
    """When a token's cache entry is missing or expired, the requests in flight wait on one
    lookup instead of taking a worker thread (and a pooled connection) each."""
    import asyncio
    import time

    import httpx

    ctx = world.client.app.state.ctx  # type: ignore[attr-defined]
    real = ctx.resolve_identity
    calls: list[str] = []

    def slow(token: str) -> Any:
        calls.append(token)
        time.sleep(0.2)  # in a worker thread: the other requests arrive meanwhile
        return real(token)

    ctx.resolve_identity = slow

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=world.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            headers = world.h("analyst-org-b")
            rs = await asyncio.gather(*(client.get(URL, headers=headers) for _ in range(20)))
            bad = await client.get(URL, headers={"Authorization": "Bearer nope"})
        return [r.status_code for r in rs] + [bad.status_code]

    codes = asyncio.run(burst())
    assert codes == [200] * 20 + [401]
    assert calls == [world.tokens["analyst-org-b"], "nope"]
    assert not ctx.lookups
