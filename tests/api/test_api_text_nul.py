"""NUL characters: PostgreSQL cannot store them, so every text the API takes refuses them with a
422 naming the field, on both backends (never a 500)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_world import (
    NEEDS_PG,
    Template,
    World,
    copy_world,
    incident,
    make_template,
    open_world,
    pg_schema,
)

_PG = pytest.param(
    "postgresql",
    marks=[
        pytest.mark.postgres,
        NEEDS_PG,
    ],
)


@pytest.fixture(params=["sqlite", _PG])
def any_world(
    request: pytest.FixtureRequest, template: Template, tmp_path: Path
) -> Iterator[World]:
    if request.param == "sqlite":
        w = copy_world(template, tmp_path)
        try:
            yield w
        finally:
            w.client.close()
            w.store.close()
        return
    with pg_schema() as url:
        w = open_world(make_template(tmp_path, url), url)
        try:
            yield w
        finally:
            w.client.close()
            w.store.close()


def _refused(r, field: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["field"] == field and "NUL" in body["message"]


def test_nul_in_bodies_queries_and_paths_is_a_422(any_world: World) -> None:
    w = any_world
    analyst, planner = w.h("analyst-org-a"), w.h("planner-org-a")
    for field in ("type", "description", "place"):
        _refused(
            w.client.post("/api/v1/incidents", json=incident(**{field: "a\x00b"}), headers=analyst),
            field,
        )
    ok = w.client.post("/api/v1/incidents", json=incident(), headers=analyst)
    assert ok.status_code == 201, ok.text
    path = f"/api/v1/incidents/{ok.json()['id']}"
    _refused(w.client.patch(path, json={"description": "x\x00"}, headers=analyst), "description")
    _refused(w.client.get("/api/v1/incidents?type=a%00", headers=analyst), "type")
    plan = {"title": "t", "forces": ["ORG-A"], "tlp": "GREEN"}
    _refused(
        w.client.post("/api/v1/plans", json={**plan, "title": "t\x00"}, headers=planner), "title"
    )
    _refused(
        w.client.post("/api/v1/plans", json={**plan, "content": {"k": "v\x00"}}, headers=planner),
        "content",
    )
    # nothing was written by the refused requests, and the good row is intact
    listed = w.client.get("/api/v1/incidents", headers=analyst).json()
    assert [i["id"] for i in listed["items"]] == [ok.json()["id"]]
