"""The fast lists and gets of sites, forecasts, movements, sensors and plans (``Reads.records``,
``Reads.record``: one compiled statement under the one policy, orjson) answer byte for byte what
the response models wrote before, for every caller, marking, filter and page (a get: every id,
visible or not), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, get_args

import pytest
from api_world import (
    AGENCIES,
    NEEDS_PG,
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
from pydantic import BaseModel
from sqlalchemy import and_, func, or_, select

from corridorguard.api.queries import marking_lists, visible_rows
from corridorguard.api.routes import forecasts, movements, plans, sensors, sites
from corridorguard.api.routes._marked import Resource, common_filters
from corridorguard.api.schemas.plans import PlanList, PlanPublic
from corridorguard.api.schemas.resources import ForecastList, MovementList, SensorList, SiteList
from corridorguard.store.plans import PLAN_MARKING, PlanRow

USERS = [user_name(o, r) for o in AGENCIES for r in ROLES]
TLPS = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
T0, T1 = "2025-01-01T06:00:00Z", "2025-01-01T09:00:00.250000+02:00"
_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=10)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.floats(allow_nan=False,
    allow_infinity=False) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


def _marking(draw: st.DrawFn) -> dict[str, Any]:
    tlp = draw(st.sampled_from(TLPS))
    m: dict[str, Any] = {
        "tlp": tlp,
        "rel_to": draw(st.lists(st.sampled_from(AGENCIES), unique=True, max_size=2)),
    }
    if tlp == "RED":
        m["red_recipients"] = draw(st.lists(st.sampled_from(USERS), unique=True, max_size=3))
    return m


@st.composite
def site_bodies(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "name": draw(_text.filter(str.strip)) or "s",
        "type": draw(st.sampled_from(["port", "bridge", "camp ✓"])),
        "lon": draw(st.floats(-180, 180)),
        "lat": draw(st.floats(-90, 90)),
        "criticality": draw(st.integers(0, 5) | st.floats(0, 5)),
        "workers": draw(st.integers(0, 1000)),
        "operator": draw(st.none() | st.just("CPEC Co")),
        "notional": draw(st.booleans()),
        "description": draw(_text),
        **_marking(draw),
    }


@st.composite
def forecast_bodies(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(st.sampled_from([T0, "2024-12-31T23:00:00Z", "2025-02-01T00:00:00.5Z"]))
    return {
        "name": "weekly",
        "model": draw(st.sampled_from(["sepp", "kde"])),
        "valid_from": start,
        "valid_to": "2025-03-01T00:00:00Z",
        "cell_m": draw(st.none() | st.floats(1, 10_000)),
        "seed": draw(st.none() | st.integers(0, 2**63 - 1)),
        "params": draw(st.dictionaries(_text, _json, max_size=3)),
        "values": [{"kind": "segment", "key": "N10-3", "value": 0.75}],
        **_marking(draw),
    }


@st.composite
def movement_bodies(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "name": "shift change",
        "origin": draw(st.sampled_from(["gwadar", "pasni"])),
        "destination": "turbat",
        "window_start": draw(st.sampled_from([T0, "2025-01-01T05:00:00.000001Z"])),
        "window_end": T1,
        "people": draw(st.integers(0, 100)),
        "vehicles": draw(st.integers(1, 10)),
        **_marking(draw),
    }


@st.composite
def sensor_bodies(draw: st.DrawFn) -> dict[str, Any]:
    placed = draw(st.booleans())
    return {
        "name": "cam",
        "kind": draw(st.sampled_from(["camera", "drone", "checkpoint"])),
        "lon": 62.25 if placed else None,
        "lat": 25.0 if placed else None,
        "segment": None if placed else "N10-3",
        "fov_deg": draw(st.none() | st.integers(1, 360) | st.floats(1, 360)),
        "parameters": draw(st.dictionaries(_text, _json, max_size=3)),
        **_marking(draw),
    }


@st.composite
def plan_bodies(draw: st.DrawFn) -> dict[str, Any]:
    m = _marking(draw)
    joint = m["tlp"] != "RED" and draw(st.booleans())
    return {
        "title": draw(_text.filter(str.strip)) or "p",
        "forces": ["ORG-A", "ORG-B"] if joint else ["ORG-A"],
        "content": draw(st.dictionaries(_text, _json, max_size=3)),
        **m,
    }


# path, body strategy, creator, reference conditions from query parameters, order, list model
Conds = Callable[[Resource, dict[str, Any]], list[Any]]


def _common(res: Resource, p: dict[str, Any]) -> list[Any]:
    return common_filters(res, tlp=p.get("tlp"), originator=p.get("originator"), q=p.get("q"))


def _at(p: dict[str, Any], name: str) -> datetime | None:
    v = p.get(name)
    return None if v is None else datetime.fromisoformat(v)


def _forecast_conds(res: Resource, p: dict[str, Any]) -> list[Any]:
    c, at = res.tables.table.c, _at(p, "valid_at")
    extra = [] if at is None else [c.valid_from <= at, c.valid_to > at]
    return _common(res, p) + extra + ([c.model == p["model"]] if "model" in p else [])


def _movement_conds(res: Resource, p: dict[str, Any]) -> list[Any]:
    c, since = res.tables.table.c, _at(p, "since")
    extra = [] if since is None else [c.window_end > since]
    if "node" in p:
        extra.append(or_(c.origin == p["node"], c.destination == p["node"]))
    return _common(res, p) + extra


KINDS: dict[str, tuple[Any, str, Resource, Conds, type[BaseModel], Any]] = {
    "sites": (site_bodies(), "analyst-org-a", sites.SITE, _common, SiteList, ()),
    "forecasts": (
        forecast_bodies(),
        "planner-org-a",
        forecasts.FORECAST,
        _forecast_conds,
        ForecastList,
        (forecasts.FORECASTS.table.c.valid_from.desc(),),
    ),
    "movements": (
        movement_bodies(),
        "planner-org-a",
        movements.MOVEMENT,
        _movement_conds,
        MovementList,
        (movements.MOVEMENTS.table.c.window_start,),
    ),
    "sensors": (sensor_bodies(), "commander-org-a", sensors.SENSOR, _common, SensorList, ()),
}
CREATORS = {
    "sites": ["analyst-org-a", "planner-org-b", "admin-org-c"],
    "forecasts": ["planner-org-a", "analyst-org-b", "analyst-org-c"],
    "movements": ["planner-org-a", "commander-org-b", "planner-org-c"],
    "sensors": ["commander-org-a", "planner-org-b", "planner-org-c"],
    "plans": ["planner-org-a", "commander-org-a"],
}
FILTERS: dict[str, list[dict[str, Any]]] = {
    "sites": [{}, {"tlp": ["RED", "AMBER"]}, {"originator": "ORG-B", "q": "a"}],
    "forecasts": [{}, {"valid_at": "2025-01-01T07:00:00+00:00"}, {"model": "kde", "q": "%"}],
    "movements": [{}, {"since": "2025-01-01T06:30:00+00:00"}, {"node": "pasni"}],
    "sensors": [{}, {"tlp": ["CLEAR"]}, {"q": "_"}],
    "plans": [{}, {"status": "approved"}, {"status": "draft"}],
}


def reference_marked(w: World, path: str, user: str, p: dict[str, Any]) -> bytes:
    """The list as ``_marked.list_records`` and the response model wrote it."""
    _, _, res, conds, model, order = KINDS[path]
    t = res.tables
    stmt = visible_rows(w.actors[user], t.table, t.marking)
    extra = conds(res, p)
    if extra:
        stmt = stmt.where(and_(*extra))
    limit, offset = p["limit"], p["offset"]
    with w.store.read() as conn:
        total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        page = stmt.order_by(*order, t.table.c.id).limit(limit).offset(offset)
        rows = conn.execute(page).all()
        rel, red = marking_lists(conn, t.marking, [r.id for r in rows])
    items = [res.public(r._mapping, rel.get(r.id, ()), red.get(r.id, ())) for r in rows]
    body = {"items": items, "total": total, "limit": limit, "offset": offset}
    return model.model_validate(body).model_dump_json().encode()


def reference_plans(w: World, user: str, p: dict[str, Any]) -> bytes:
    """The plan list as the ORM path (``plans._public``) and the response model wrote it."""
    stmt = select(PlanRow).where(visible_rows(w.actors[user], PlanRow.__table__, PLAN_MARKING)
                                 .whereclause)  # fmt: skip
    if "status" in p:
        stmt = stmt.where(PlanRow.status == p["status"])
    with w.store.session(write=False) as s:
        total = s.scalar(select(func.count()).select_from(stmt.subquery()))
        q = stmt.order_by(PlanRow.id.desc()).limit(p["limit"]).offset(p["offset"])
        items = [plans._public(s, r) for r in s.scalars(q).all()]
    body = {"items": items, "total": total, "limit": p["limit"], "offset": p["offset"]}
    return PlanList.model_validate(body).model_dump_json().encode()


def check_list(w: World, path: str, user: str, p: dict[str, Any]) -> None:
    r = w.get(user, f"/api/v1/{path}", **p)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    want = reference_plans(w, user, p) if path == "plans" else reference_marked(w, path, user, p)
    assert r.content == want


def reference_get(w: World, path: str, user: str, rid: int) -> bytes | None:
    """One record as the response-model path wrote it (``_marked.get_record``, ``plans.get_plan``
    before the fast path), or ``None`` when the caller may not see it."""
    actor = w.actors[user]
    if path == "plans":
        with w.store.session(write=False) as s:
            row = s.scalar(plans._visible(actor).where(PlanRow.id == rid))
            found = None if row is None else plans._public(s, row)
        return (
            None if found is None else PlanPublic.model_validate(found).model_dump_json().encode()
        )
    _, _, res, _, page, _ = KINDS[path]
    model = get_args(page.model_fields["items"].annotation)[0]
    t = res.tables
    with w.store.read() as conn:
        row = conn.execute(
            visible_rows(actor, t.table, t.marking).where(t.table.c.id == rid)
        ).first()
        if row is None:
            return None
        rel, red = marking_lists(conn, t.marking, [rid])
    item = res.public(row._mapping, rel.get(rid, ()), red.get(rid, ()))
    return bytes(model.model_validate(item).model_dump_json().encode())


MISSING = 10**12


def check_get(w: World, path: str, user: str, rid: int) -> None:
    """The fast get equals the reference; hidden and missing ids get the same 404."""
    r = w.get(user, f"/api/v1/{path}/{rid}")
    want = reference_get(w, path, user, rid)
    if want is None:
        missing = w.get(user, f"/api/v1/{path}/{MISSING}")
        assert (r.status_code, missing.status_code) == (404, 404), r.text
        assert r.text == missing.text.replace(str(MISSING), str(rid))
        return
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.content == want


def max_id(w: World, path: str) -> int:
    table = PlanRow.__table__ if path == "plans" else KINDS[path][2].tables.table
    with w.store.read() as conn:
        return int(conn.execute(select(func.max(table.c.id))).scalar() or 0)


def add_plan(w: World, creator: str, body: dict[str, Any], fate: str) -> None:
    r = w.post(creator, "/api/v1/plans", body)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    if fate == "draft" or body["tlp"] == "RED":  # RED: the commanders may not see it
        return
    assert w.post(creator, f"/api/v1/plans/{pid}/propose", {}).status_code == 200
    if fate == "proposed":
        return
    for force in body["forces"] if fate == "approved" else body["forces"][:1]:
        how = "approve" if fate == "approved" else "reject"
        done = w.post(user_name(force, "commander"), f"/api/v1/plans/{pid}/{how}", {})
        assert done.status_code == 200, done.text


@st.composite
def additions(draw: st.DrawFn) -> tuple[str, str, dict[str, Any], str]:
    path = draw(st.sampled_from([*KINDS, "plans"]))
    body = draw(plan_bodies() if path == "plans" else KINDS[path][0])
    fate = draw(st.sampled_from(["draft", "proposed", "approved", "rejected"]))
    return path, draw(st.sampled_from(CREATORS[path])), body, fate


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    new=st.lists(additions(), max_size=4),
    path=st.sampled_from([*KINDS, "plans"]),
    user=st.sampled_from(USERS),
    which=st.integers(0, 2),
    limit=st.integers(1, 12),
    offset=st.integers(0, 14),
)
def test_lists_equal_the_response_models(
    shared_world: World,
    new: list[tuple[str, str, dict[str, Any], str]],
    path: str,
    user: str,
    which: int,
    limit: int,
    offset: int,
) -> None:
    w = shared_world
    for kind, creator, body, fate in new:
        if kind == "plans":
            add_plan(w, creator, body, fate)
        else:
            r = w.post(creator, f"/api/v1/{kind}", body)
            assert r.status_code == 201, r.text
    check_list(w, path, user, {**FILTERS[path][which], "limit": limit, "offset": offset})
    for rid in range(max(1, max_id(w, path) - 3), max_id(w, path) + 2):  # the newest, one missing
        check_get(w, path, user, rid)


def test_a_resource_page_past_the_end_still_counts(shared_world: World) -> None:
    w = shared_world
    r = w.post("analyst-org-a", "/api/v1/sites", {**SITE, "tlp": "GREEN"})
    assert r.status_code == 201
    total = w.get("analyst-org-b", "/api/v1/sites").json()["total"]
    for offset in (total, total + 5):
        page = w.get("analyst-org-b", "/api/v1/sites", offset=offset).json()
        assert page["items"] == [] and page["total"] == total
    check_list(w, "sites", "analyst-org-b", {"limit": 3, "offset": total + 1})


def test_filters_are_checked_before_any_read(shared_world: World) -> None:
    w = shared_world
    assert w.get("analyst-org-a", "/api/v1/sites", bbox="1,2,3").status_code == 422
    assert w.get("analyst-org-a", "/api/v1/sensors", bbox="x").status_code == 422
    naive = {"valid_at": "2025-01-01T07:00:00"}
    assert w.get("analyst-org-a", "/api/v1/forecasts", **naive).status_code == 422
    for path in (*KINDS, "plans"):
        assert w.get("oversight-board", f"/api/v1/{path}").status_code == 403
        assert w.get(None, f"/api/v1/{path}").status_code == 401


SITE = {"name": "Port ✓", "type": "port", "lon": 62.3, "lat": 25.1, "criticality": 4}
FORECAST = {
    "name": "weekly", "model": "sepp", "valid_from": T0, "valid_to": T1, "cell_m": 250,
    "params": {"a": [1, 2.5, None, "é\u2028"], "b": {"c": True}},
    "values": [{"kind": "cell", "key": "c1", "lon": 62.0, "lat": 25.0, "value": 0.25}],
}  # fmt: skip
MOVEMENT = {"name": "shift", "origin": "gwadar", "destination": "turbat",
            "window_start": T0, "window_end": T1, "people": 40, "vehicles": 3}  # fmt: skip
SENSOR = {"name": "cam 1", "kind": "camera", "lon": 62.3, "lat": 25.1, "fov_deg": 60,
          "parameters": {"fps": 25}}  # fmt: skip
PLAN = {"title": "Night patrols", "content": {"patrols": [{"route": ["n1", "n2"]}]}}


def _fixed(w: World) -> None:
    rows = [
        ("sites", "analyst-org-a", {**SITE, "tlp": "AMBER", "rel_to": ["ORG-B", "ORG-C"]}),
        ("sites", "admin-org-c", {**SITE, "tlp": "RED", "red_recipients": ["analyst-org-b"]}),
        ("sites", "planner-org-b", {**SITE, "tlp": "GREEN", "operator": "x", "notional": True}),
        ("forecasts", "planner-org-a", {**FORECAST, "tlp": "GREEN"}),
        ("forecasts", "analyst-org-b", {**FORECAST, "tlp": "AMBER", "model": "kde",
                                        "valid_from": "2024-12-31T23:00:00Z"}),
        ("movements", "planner-org-a", {**MOVEMENT, "tlp": "AMBER+STRICT", "rel_to": ["ORG-C"]}),
        ("movements", "planner-org-c", {**MOVEMENT, "tlp": "CLEAR", "origin": "pasni"}),
        ("sensors", "commander-org-a", {**SENSOR, "tlp": "CLEAR"}),
        ("sensors", "planner-org-b", {**SENSOR, "tlp": "RED", "lon": None, "lat": None,
                                      "segment": "N10-3"}),
    ]  # fmt: skip
    for path, creator, body in rows:
        r = w.post(creator, f"/api/v1/{path}", body)
        assert r.status_code == 201, r.text
    add_plan(w, "planner-org-a", {**PLAN, "tlp": "GREEN", "forces": ["ORG-A", "ORG-B"]},
             "approved")  # fmt: skip
    add_plan(w, "planner-org-a", {**PLAN, "tlp": "AMBER", "forces": ["ORG-A"]}, "rejected")
    add_plan(w, "commander-org-a", {**PLAN, "tlp": "RED", "forces": ["ORG-A"],
                                    "red_recipients": ["planner-org-b"]}, "draft")  # fmt: skip


@pytest.mark.postgres
@NEEDS_PG
def test_lists_equal_the_response_models_on_postgresql(tmp_path: Path) -> None:
    with pg_schema() as url:
        t: Template = make_template(tmp_path, url)
        w = open_world(t, url)
        try:
            _fixed(w)
            # ids beyond 32 bits reach PostgreSQL as the column's BIGINT (a 404, not a 500)
            assert w.get("analyst-org-a", f"/api/v1/incidents/{MISSING}").status_code == 404
            for path in (*KINDS, "plans"):
                for user in USERS:
                    for p in FILTERS[path]:
                        check_list(w, path, user, {**p, "limit": 100, "offset": 0})
                    check_list(w, path, user, {"limit": 1, "offset": 1})
                    check_list(w, path, user, {"limit": 2, "offset": 50})
                    for rid in range(1, max_id(w, path) + 2):
                        check_get(w, path, user, rid)
        finally:
            w.client.close()
            w.store.close()


def test_lists_equal_the_response_models_fixed(world: World) -> None:
    _fixed(world)
    for path in (*KINDS, "plans"):
        for user in USERS:
            check_list(world, path, user, {"limit": 100, "offset": 0})
            for rid in range(1, max_id(world, path) + 2):
                check_get(world, path, user, rid)


def test_gets_check_the_caller_before_any_read(world: World) -> None:
    """Oversight: 403 (audited), anonymous: 401, as on the response-model path."""
    _fixed(world)
    for path in (*KINDS, "plans"):
        assert world.get("oversight-board", f"/api/v1/{path}/1").status_code == 403
        assert world.get(None, f"/api/v1/{path}/1").status_code == 401
        assert world.get("analyst-org-a", f"/api/v1/{path}/0").status_code == 422


def test_time_filters_at_their_exact_boundaries(world: World) -> None:
    """Datetime filters reach the database through the columns' bind processors (on SQLite the
    column's own text): a bound equal to a stored time is inclusive or exclusive as written."""
    t = "2024-03-20T10:00:00.000034+00:00"
    body = {"lon": 66.5, "lat": 25.1, "time": t, "type": "ied", "description": "", "tlp": "GREEN"}
    assert world.post("reporter-org-a", "/api/v1/incidents", body).status_code == 201
    since = world.get("analyst-org-b", "/api/v1/incidents", since=t).json()
    until = world.get("analyst-org-b", "/api/v1/incidents", until=t).json()
    assert (since["total"], until["total"]) == (1, 0)  # since is inclusive, until exclusive
    start, end = "2025-01-01T06:00:00.000034+00:00", "2025-01-01T09:00:00+00:00"
    move = {**MOVEMENT, "window_start": start, "window_end": end, "tlp": "GREEN"}
    assert world.post("planner-org-a", "/api/v1/movements", move).status_code == 201
    counts = [
        world.get("analyst-org-b", "/api/v1/movements", **q).json()["total"]
        for q in ({"until": start}, {"since": end}, {"since": start, "until": end})
    ]
    assert counts == [0, 0, 1]  # windows overlapping [since, until): none at the edges
    check_list(world, "movements", "analyst-org-b", {"since": start, "limit": 5, "offset": 0})
    fc = {**FORECAST, "valid_from": start, "valid_to": end, "tlp": "GREEN"}
    assert world.post("planner-org-a", "/api/v1/forecasts", fc).status_code == 201
    at = [
        world.get("analyst-org-b", "/api/v1/forecasts", valid_at=v).json()["total"]
        for v in (start, end)
    ]
    assert at == [1, 0]  # valid_from inclusive, valid_to exclusive
