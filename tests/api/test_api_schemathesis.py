"""schemathesis against the OpenAPI 3.1 spec, as every role and anonymously: no 5xx, every
response conforms to the spec (status codes, content types, schemas), auth never ignored
(``ignored_auth``), invalid data rejected (``negative_data_rejection``).

``make test`` runs 100 generated examples per operation, each sent as every role and
anonymously (7 callers): every answer must be < 500, and 401 for the anonymous caller of a
secured operation; the spec checks (status code, content type, response schema, negative data
rejected) run on one answer per distinct status code per case (the caller order rotates from
case to case), and schemathesis' ``ignored_auth`` probes (no token, an invalid token) on one
caller per case (rotating). Measured: about 6 min of worker time for 56 operations, in 12
shards that pytest-xdist spreads over its workers, on the 2-core machine
(``CORRIDORGUARD_FUZZ_EXAMPLES`` lowers the count for local runs).

To fit the CI budget the calls skip schemathesis' ``requests`` + thread-portal transport: one
``httpx.AsyncClient`` over ``httpx.ASGITransport`` runs the app in-process on one event loop kept
for the module (about 3x cheaper per call), over one app and one database per module, on a
RAM-backed directory when the machine has one (``/dev/shm``: no fsync cost). The slow target
(``-m slow``) runs 500 examples per operation.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from api_world import Template, World, copy_world, incident
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

# Schema-valid bodies may still be refused on meaning (unknown organisation names, a time
# outside 1900-2200, a role that may not act): a 422/403 there is correct, not a finding.
SEMANTIC = [positive_data_acceptance]
# every role, and anonymous
CALLERS = (
    "reporter-org-a",
    "analyst-org-b",
    "planner-org-b",
    "commander-org-a",
    "admin-org-c",
    "oversight-board",
    None,
)
EXAMPLES = int(os.environ.get("CORRIDORGUARD_FUZZ_EXAMPLES", "100"))  # >= 100 in make test
SLOW_EXAMPLES = 500


class AsgiCaller:
    """Send schemathesis cases to the app in-process, on one event loop."""

    def __init__(self, app: Any) -> None:
        self.runner = asyncio.Runner()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        self.calls = 0

    def call(self, case: schemathesis.Case, headers: dict[str, str]) -> httpx.Response:
        kw = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
        data = kw.get("data")
        if kw.get("files") is not None or (data is not None and not isinstance(data, str | bytes)):
            raise AssertionError(f"unexpected request body kind for {case.path}: {sorted(kw)}")
        headers = dict(kw.get("headers") or {})
        if kw.get("cookies"):
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in kw["cookies"].items())
        request = self.client.request(
            kw["method"],
            kw["url"],
            params=kw.get("params"),
            headers=headers,
            json=kw.get("json"),
            content=data,
        )
        self.calls += 1
        return self.runner.run(request)

    def close(self) -> None:
        self.runner.run(self.client.aclose())
        self.runner.close()


@pytest.fixture(scope="module")
def fuzz_world(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world for the module, on tmpfs where there is one."""
    shm = Path("/dev/shm")
    tmp = Path(tempfile.mkdtemp(prefix="cg-fuzz-", dir=shm)) if shm.is_dir() else None
    w = copy_world(template, tmp or tmp_path_factory.mktemp("fuzz"))
    try:
        for tlp in ("GREEN", "AMBER", "RED"):  # some records to find
            assert w.post("reporter-org-a", "/api/v1/incidents", incident(tlp)).status_code == 201
        yield w
    finally:
        w.client.close()
        w.store.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def caller(fuzz_world: World) -> Iterator[AsgiCaller]:
    c = AsgiCaller(fuzz_world.client.app)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def api_schema(fuzz_world: World) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz_world.client.app)


def fuzz(
    schema: schemathesis.BaseSchema,
    w: World,
    caller: AsgiCaller,
    examples: int,
    users: tuple[str | None, ...] = CALLERS,
    *,
    shard: int = 0,
    shards: int = 1,
) -> dict[str, int]:
    """``examples`` generated cases per operation, each sent as every user; returns counts.

    Operations are dealt round-robin into ``shards``; this runs shard ``shard`` (separate tests,
    so that pytest-xdist spreads them over the cores)."""
    counter = {"ops": 0, "cases": 0}
    for i, result in enumerate(schema.get_all_operations()):
        if i % shards == shard:
            fuzz_operation(result.ok(), w, caller, examples, users, counter)
    return {"operations": counter["ops"], "cases": counter["cases"], "calls": caller.calls}


def fuzz_operation(
    op: Any,
    w: World,
    caller: AsgiCaller,
    examples: int,
    users: tuple[str | None, ...],
    counter: dict[str, int],
) -> None:
    """One operation: every case as every user."""
    secured = bool(op.definition.raw.get("security", op.schema.raw_schema.get("security")))

    @given(case=op.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        counter["cases"] += 1
        k = counter["cases"]
        order = (*users[k % len(users) :], *users[: k % len(users)])  # rotate
        probe = order[0]  # schemathesis' own ignored_auth probes: one caller per case
        validated: set[int] = set()
        for user in order:
            headers = w.h(user)
            response = caller.call(case, headers)
            assert response.status_code < 500, (user, case.method, case.path, response.text)
            if secured and user is None:  # auth enforced, for every case
                assert response.status_code == 401, (user, case.method, case.path)
            if user != probe and response.status_code in validated:
                continue  # the spec checks ran on an answer with this status for this case
            validated.add(response.status_code)
            case.validate_response(
                response,
                headers=headers,
                additional_checks=[ignored_auth] if user == probe else [],
                excluded_checks=SEMANTIC if user == probe else [*SEMANTIC, ignored_auth],
            )

    run()
    counter["ops"] += 1


SHARDS = 12


@pytest.mark.parametrize("shard", range(SHARDS))
def test_openapi_conformance(
    api_schema: schemathesis.BaseSchema, fuzz_world: World, caller: AsgiCaller, shard: int
) -> None:
    t0 = time.perf_counter()
    got = fuzz(api_schema, fuzz_world, caller, EXAMPLES, shard=shard, shards=SHARDS)
    print(f"schemathesis shard {shard}: {got}, {time.perf_counter() - t0:.1f} s")
    assert got["operations"] >= 20 // SHARDS
    # hypothesis stops early only when an operation's input space is exhausted (no parameters)
    assert got["cases"] >= EXAMPLES * (got["operations"] // 2)


def test_the_spec_has_every_resource(api_schema: schemathesis.BaseSchema) -> None:
    """The shards fuzz what the spec lists: make sure it lists every resource."""
    paths = {r.ok().path for r in api_schema.get_all_operations()}
    for part in ("incidents", "plans", "sites", "forecasts", "movements", "sensors", "audit"):
        assert any(p.startswith(f"/api/v1/{part}") for p in paths), part
    assert len(paths) >= 30


@pytest.mark.slow
@pytest.mark.parametrize("shard", range(SHARDS))
def test_openapi_conformance_slow(
    api_schema: schemathesis.BaseSchema, fuzz_world: World, caller: AsgiCaller, shard: int
) -> None:
    got = fuzz(api_schema, fuzz_world, caller, SLOW_EXAMPLES, shard=shard, shards=SHARDS)
    assert got["operations"] >= 20 // SHARDS
