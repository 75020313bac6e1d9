"""The hot read paths as ready JSON bytes: ``/incidents`` (one record, one page) and the lists
and gets of sites, forecasts, movements, sensors and plans (:meth:`Reads.records`,
:meth:`Reads.record`, :class:`RecordList`).

Same answer as building :class:`~corridorguard.api.schemas.incidents.IncidentPublic` models and
serialising them (a test compares the bytes), at a fraction of the cost (issue 7's load goal):

* the statement is :func:`~corridorguard.api.queries.visible_incidents` (the one policy filter,
  compiled to SQL) with only the columns the answer needs, built and compiled **once per caller
  and search** (an LRU of :class:`_Plan`), then run on the driver's cursor with its parameters
  already processed; only the limit, offset or id change per request;
* one statement per request: the page carries the total (SQLite: an uncorrelated scalar
  subquery over the same filtered rows; PostgreSQL and the other resources: a CTE of the
  visible ``(id, order key)`` pairs, filtered once, gives both the total and the page's ids),
  and each TLP:RED row its named recipients as a correlated JSON aggregate (the other
  resources: REL-TO, RED recipients and a plan's approvals), so a request is one round trip
  and one consistent snapshot without ``BEGIN``/``COMMIT``;
* rows are mapped to dicts in the response model's field order and written with ``orjson``
  (the same bytes pydantic writes for these types: shortest round-trip floats, ``Z`` times).

Where a read runs (:meth:`IncidentReads.run`): SQLite reads run on the event loop (a local file,
well under a millisecond: no worker-thread hop); reads of a database server run in worker
threads, at most :data:`SERVER_READS` at a time per process. Measured on the 2-core machine with
PostgreSQL on it (``bench/bench_api.py``): unbounded threads let 15 queries thrash the cores
(list p95 330-1,500 ms), the event loop waits idle while the server works (1 worker: list
p95 1.5 s); two at a time kept the list p95 under 200 ms with 1 and 2 processes.

Filters with datetimes go through the columns' bind processors (UTC, naive text on SQLite)
exactly as SQLAlchemy would apply them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, get_args

import orjson
from pydantic import BaseModel
from sqlalchemy import Engine, Select, and_, bindparam, case, func, select
from starlette.concurrency import run_in_threadpool

from corridorguard.api.queries import (
    IncidentSearch,
    iso,
    search_conditions,
    visible_incidents,
    visible_rows,
)
from corridorguard.sharing.policy import Actor, MarkingColumns, visibility_clause
from corridorguard.store.marks import INCIDENT_MARKING, IncidentMetaRow, IncidentRedRow
from corridorguard.store.models import IncidentRow

__all__ = ["SERVER_READS", "IncidentReads", "Reads", "RecordList"]

_I = IncidentRow.__table__
_META = IncidentMetaRow.__table__
_RED = IncidentRedRow.__table__

#: Columns of the answer, in the order :func:`_item` reads them.
_COLUMNS = (
    _I.c.id,
    _I.c.time,
    _I.c.lon,
    _I.c.lat,
    _I.c.type,
    _I.c.description,
    _I.c.tlp,
    _I.c.rel_to,
    _I.c.originator,
    _META.c.created_by,
    _META.c.created_at,
    _I.c.imported_at,
    _I.c.source,
    _I.c.fatalities_best,
    _I.c.place,
)
_PLAN_CACHE = 512

#: The incident marking with the creator read per row by a subquery (PostgreSQL's page: only
#: RED rows ask for it, instead of a hash join of every row with ``incident_meta``).
_MARKING_BY_SUBQUERY = dataclasses.replace(
    INCIDENT_MARKING,
    created_by=select(_META.c.created_by).where(_META.c.incident_id == _I.c.id).scalar_subquery(),
)

#: Reads of a database server (PostgreSQL) in flight at once per server process.
SERVER_READS = 2


@dataclass(frozen=True)
class _Plan:
    """A compiled statement: driver SQL, and its fixed parameters already processed."""

    sql: str
    names: tuple[str, ...] | None  # positional order (qmark drivers); None: named parameters
    fixed: dict[str, Any]

    def params(self, dynamic: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = {**self.fixed, **dynamic}
        if self.names is None:
            return values
        return tuple(values[n] for n in self.names)


def _red_list(dialect: str) -> Any:
    """Named RED recipients of the outer row as a JSON array (RED rows only, else NULL)."""
    agg = func.json_agg if dialect == "postgresql" else func.json_group_array
    recipients = select(agg(_RED.c.user_id)).where(_RED.c.incident_id == _I.c.id).scalar_subquery()
    return case((_I.c.tlp == "RED", recipients), else_=None)


def _utc_reader(dialect: str) -> Callable[[Any], datetime]:
    """The driver's datetime value as an aware UTC datetime (as ``UTCDateTime`` reads it)."""
    if dialect == "sqlite":

        def from_text(value: Any) -> datetime:
            t = value if isinstance(value, datetime) else datetime.fromisoformat(value)
            return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)

        return from_text

    def from_driver(value: Any) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    return from_driver


def _json_list(value: Any) -> list[str]:
    if value is None:
        return []
    return list(orjson.loads(value) if isinstance(value, str | bytes) else value)


# ------------------------------------------------------------------ other marked resources


@dataclass(frozen=True)
class RecordList:
    """How ``GET /<resources>`` of one marked resource answers (sites, forecasts, movements,
    sensors, plans): its table and marking, the list model (its items' fields, in their order,
    are the keys of every item) and the page order (``(column, descending)`` pairs, last the
    id as tie-breaker). ``approvals``: the plan-approval table (plans only).

    An item's keys are the model's fields: ``rel_to`` and ``red_recipients`` come from the
    marking's association tables (sorted), ``approvals`` from ``approvals``, every other key is
    the table's column of that name (datetimes written as :func:`~corridorguard.api.queries.iso`).
    """

    kind: str
    table: Any  # a Table (or a mapped class's __table__)
    marking: MarkingColumns
    page: type[BaseModel]
    order: tuple[tuple[Any, bool], ...]
    approvals: Any = None

    @property
    def model(self) -> type[BaseModel]:
        """The item model (``items: list[Model]`` of :attr:`page`)."""
        item = get_args(self.page.model_fields["items"].annotation)[0]
        assert isinstance(item, type) and issubclass(item, BaseModel)
        return item

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.model.model_fields)

    @property
    def columns(self) -> tuple[Any, ...]:
        return tuple(self.table.c[f] for f in self.fields if f in self.table.c)


_COMPUTED = ("rel_to", "red_recipients", "approvals")


def _agg(dialect: str, value: Any) -> Any:
    return (func.json_agg if dialect == "postgresql" else func.json_group_array)(value)


def _aware(value: Any) -> datetime:
    t = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _approvals(value: Any) -> list[dict[str, Any]]:
    """``[[org, username, decision, decided_at], ...]`` as the API's approvals, in decision
    order (time, then organisation: the order of ``GET /plans/{id}``)."""
    rows = [(_aware(d), org, user, dec) for org, user, dec, d in _json_rows(value)]
    rows.sort(key=lambda r: (r[0], r[1]))
    return [
        {"org": org, "username": user, "decision": dec, "decided_at": iso(t)}
        for t, org, user, dec in rows
    ]


def _json_rows(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(orjson.loads(value) if isinstance(value, str | bytes) else value)


class _RecordReads:
    """:meth:`Reads.records` (a mixin: it shares the plan cache, the gate and the runner)."""

    dialect: str
    engine: Engine
    _readers: dict[str, list[Callable[[Any], Any] | None]]

    def _compile(self, stmt: Select[Any], dynamic: dict[str, Any]) -> _Plan:
        raise NotImplementedError

    def _plan(self, key: tuple[Any, ...], build: Callable[[], _Plan]) -> _Plan:
        raise NotImplementedError

    def _fetch(
        self, plan: _Plan, dynamic: dict[str, Any], described: list[Any] | None = None
    ) -> list[Any]:
        raise NotImplementedError

    def _extras(self, spec: RecordList) -> list[Any]:
        """Per-row aggregates: REL-TO organisations, RED recipients (and a plan's approvals)."""
        t = spec.table
        out = []
        for pair in (spec.marking.rel_to, spec.marking.red_recipients):
            rid, col = pair
            out.append(select(_agg(self.dialect, col)).where(rid == t.c.id).scalar_subquery())
        if spec.approvals is not None:
            a = spec.approvals.c
            build = func.json_build_array if self.dialect == "postgresql" else func.json_array
            row = build(a.org, a.username, a.decision, a.decided_at)
            out.append(select(_agg(self.dialect, row)).where(a.plan_id == t.c.id).scalar_subquery())
        return out

    def _record_page(self, spec: RecordList, base: Select[Any]) -> _Plan:
        """One statement: the page's rows with their marking lists, and the total (the policy
        filter evaluated once, over narrow rows, as for incidents on PostgreSQL)."""
        t = spec.table
        keys = [c for c, _ in spec.order if c is not t.c.id]
        v = base.with_only_columns(t.c.id, *keys).cte(f"cg_visible_{spec.kind}")

        def by(source: Any) -> list[Any]:
            cols = [source.c[c.name] for c, _ in spec.order]
            return [c.desc() if d else c for c, (_, d) in zip(cols, spec.order, strict=True)]

        ids = (
            select(v)
            .order_by(*by(v))
            .limit(bindparam("cg_limit", 1))
            .offset(bindparam("cg_offset", 0))
            .subquery("cg_page")
        )
        total = select(func.count()).select_from(v).scalar_subquery()
        stmt = (
            select(*spec.columns, *self._extras(spec), total)
            .select_from(ids.join(t, t.c.id == ids.c.id))
            .order_by(*by(ids))
        )
        return self._compile(stmt, {"cg_limit": 1, "cg_offset": 0})

    def _record_count(self, base: Select[Any]) -> _Plan:
        return self._compile(select(func.count()).select_from(base.subquery()), {})

    def _reader(self, spec: RecordList, types: list[Any]) -> list[Callable[[Any], Any] | None]:
        """SQLAlchemy's result processors of the spec's columns, given the driver's type codes
        (as a ``Result`` applies them)."""
        found = self._readers.get(spec.kind)
        if found is None:
            dialect = self.engine.dialect
            found = [
                c.type._cached_result_processor(dialect, code)
                for c, code in zip(spec.columns, types, strict=False)
            ]
            self._readers[spec.kind] = found
        return found

    def _record_items(
        self, spec: RecordList, rows: list[Any], types: list[Any]
    ) -> list[dict[str, Any]]:
        procs = self._reader(spec, types)
        n = len(procs)
        names = [c.name for c in spec.columns]
        items = []
        for r in rows:
            values: dict[str, Any] = {}
            for k, (name, proc) in enumerate(zip(names, procs, strict=True)):
                v = r[k] if proc is None else proc(r[k])
                values[name] = iso(v) if isinstance(v, datetime) else v
            values["rel_to"] = sorted(_json_list(r[n]))
            values["red_recipients"] = sorted(_json_list(r[n + 1]))
            if spec.approvals is not None:
                values["approvals"] = _approvals(r[n + 2])
            items.append({f: values[f] for f in spec.fields})
        return items

    def records(
        self,
        spec: RecordList,
        actor: Actor | None,
        key: tuple[Any, ...],
        conds: Callable[[], Sequence[Any]],
        limit: int,
        offset: int,
    ) -> bytes:
        """The JSON of one page of ``spec``'s records ``actor`` may see (``items``, ``total``,
        ``limit``, ``offset``): :func:`~corridorguard.api.queries.visible_rows` and ``conds()``
        (the list's filters; ``key`` identifies their values, built only on a plan-cache miss).
        """

        def base() -> Select[Any]:
            stmt = visible_rows(actor, spec.table, spec.marking)
            extra = list(conds())
            return stmt.where(and_(*extra)) if extra else stmt

        plan = self._plan(
            ("records", spec.kind, actor, key), lambda: self._record_page(spec, base())
        )
        types: list[Any] = []
        rows = self._fetch(plan, {"cg_limit": limit, "cg_offset": offset}, types)
        if rows:
            total = int(rows[0][-1])
        elif offset == 0:
            total = 0
        else:  # past the end: no row carries the total
            count = self._plan(
                ("records-count", spec.kind, actor, key), lambda: self._record_count(base())
            )
            total = int(self._fetch(count, {})[0][0])
        values = {"items": self._record_items(spec, rows, types), "total": total}
        values |= {"limit": limit, "offset": offset}
        page = {k: values[k] for k in spec.page.model_fields}  # the list model's key order
        try:
            return orjson.dumps(page)
        except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits in a JSON field
            return spec.page.model_validate(page).model_dump_json().encode()

    def record(self, spec: RecordList, actor: Actor | None, rid: int) -> bytes | None:
        """The JSON of one of ``spec``'s records if ``actor`` may see it (``GET /<resources>/
        {id}``: the list's item, the same policy), else ``None`` (missing or hidden alike)."""

        def build() -> _Plan:
            t = spec.table
            stmt = (
                visible_rows(actor, t, spec.marking)
                .with_only_columns(*spec.columns, *self._extras(spec))
                .where(t.c.id == bindparam("cg_id", 1, type_=t.c.id.type))
            )
            return self._compile(stmt, {"cg_id": 1})

        plan = self._plan(("record", spec.kind, actor), build)
        types: list[Any] = []
        rows = self._fetch(plan, {"cg_id": rid}, types)
        if not rows:
            return None
        item = self._record_items(spec, rows, types)[0]
        try:
            return orjson.dumps(item)
        except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits in a JSON field
            return spec.model.model_validate(item).model_dump_json().encode()


class Reads(_RecordReads):
    """Compiled get/list statements for one engine (thread-safe): incidents, and the lists of
    the other marked resources (:meth:`records`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._plans: OrderedDict[tuple[Any, ...], _Plan] = OrderedDict()
        self._lock = threading.Lock()
        self._utc = _utc_reader(self.dialect)
        self._gate: asyncio.Semaphore | None = None
        self._readers: dict[str, list[Callable[[Any], Any] | None]] = {}

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a read (``self.page``, ``self.one``) from an ``async`` endpoint (see the module
        docstring: inline for SQLite, else a worker thread, :data:`SERVER_READS` at a time)."""
        if self.dialect == "sqlite":
            return fn(*args)
        if self._gate is None:
            self._gate = asyncio.Semaphore(SERVER_READS)
        async with self._gate:
            return await run_in_threadpool(fn, *args)

    # ------------------------------------------------------------------ plans

    def _compile(self, stmt: Select[Any], dynamic: dict[str, Any]) -> _Plan:
        compiled = stmt.compile(dialect=self.engine.dialect)
        state = compiled.construct_expanded_state(dynamic)
        # every bind's processor (the expanded state lists only those of expanded IN lists):
        # a datetime must reach SQLite as the column's text, not as sqlite3's own rendering
        procs: dict[str, Any] = {**compiled._bind_processors, **state.processors}
        fixed = {
            k: (procs[k](v) if k in procs and procs[k] is not None else v)
            for k, v in state.parameters.items()
            if k not in dynamic
        }
        names = tuple(state.positiontup) if state.positiontup is not None else None
        return _Plan(state.statement, names, fixed)

    def _plan(self, key: tuple[Any, ...], build: Callable[[], _Plan]) -> _Plan:
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
                return plan
        plan = build()
        with self._lock:
            self._plans[key] = plan
            while len(self._plans) > _PLAN_CACHE:
                self._plans.popitem(last=False)
        return plan

    def _base(self, actor: Actor | None, search: IncidentSearch | None) -> Select[Any]:
        return visible_incidents(actor, search)

    def _page_plan(self, actor: Actor | None, search: IncidentSearch | None) -> _Plan:
        def build() -> _Plan:
            if self.dialect != "postgresql":
                return self._page_local(self._base(actor, search))
            # the same policy and search; the creator by subquery (asked by RED rows only)
            policy = visibility_clause(actor, _MARKING_BY_SUBQUERY)
            return self._page_server(select(_I).where(policy, *search_conditions(search)))

        return self._plan(("page", actor, search), build)

    def _page_local(self, base: Select[Any]) -> _Plan:
        """SQLite: the page walks the time index and stops after ``limit`` rows; the total is a
        scalar subquery over the same filter (both cheap on a local file)."""
        total = (
            select(func.count())
            .select_from(base.with_only_columns(_I.c.id).subquery())
            .scalar_subquery()
        )
        stmt = (
            base.with_only_columns(*_COLUMNS, _red_list(self.dialect), total)
            .order_by(_I.c.time, _I.c.id)
            .limit(bindparam("cg_limit", 1))
            .offset(bindparam("cg_offset", 0))
        )
        return self._compile(stmt, {"cg_limit": 1, "cg_offset": 0})

    def _page_server(self, base: Select[Any]) -> _Plan:
        """PostgreSQL: the policy filter runs **once**, over narrow ``(id, time)`` rows (a CTE
        read twice, so materialised): the count and the page's ids come from it, and only the
        page's rows are read in full. PostgreSQL's generic plan of the single-pass form
        evaluated the filter twice over every row (count, then a sort of wide rows)."""
        v = base.with_only_columns(_I.c.id, _I.c.time).cte("cg_visible")
        ids = (
            select(v.c.id, v.c.time)
            .order_by(v.c.time, v.c.id)
            .limit(bindparam("cg_limit", 1))
            .offset(bindparam("cg_offset", 0))
            .subquery("cg_page")
        )
        total = select(func.count()).select_from(v).scalar_subquery()
        rows = ids.join(_I, _I.c.id == ids.c.id).outerjoin(_META, _META.c.incident_id == _I.c.id)
        stmt = (
            select(*_COLUMNS, _red_list(self.dialect), total)
            .select_from(rows)
            .order_by(ids.c.time, ids.c.id)
        )
        return self._compile(stmt, {"cg_limit": 1, "cg_offset": 0})

    def _count_plan(self, actor: Actor | None, search: IncidentSearch | None) -> _Plan:
        def build() -> _Plan:
            base = self._base(actor, search).with_only_columns(_I.c.id)
            return self._compile(select(func.count()).select_from(base.subquery()), {})

        return self._plan(("count", actor, search), build)

    def _one_plan(self, actor: Actor | None) -> _Plan:
        def build() -> _Plan:
            stmt = (
                self._base(actor, None)
                .with_only_columns(*_COLUMNS, _red_list(self.dialect))
                .where(_I.c.id == bindparam("cg_id", 1, type_=_I.c.id.type))
            )
            return self._compile(stmt, {"cg_id": 1})

        return self._plan(("one", actor), build)

    # ------------------------------------------------------------------ running

    def _fetch(
        self, plan: _Plan, dynamic: dict[str, Any], described: list[Any] | None = None
    ) -> list[Any]:
        """Run one statement on a pooled connection, outside any explicit transaction
        (``described``, if given, receives the cursor's column type codes)."""
        raw = self.engine.raw_connection()
        try:
            dbapi = raw.driver_connection
            pg = self.dialect == "postgresql"
            if pg:  # one statement is its own snapshot: no BEGIN/ROLLBACK round trips
                dbapi.autocommit = True  # type: ignore[union-attr]
            try:
                cur = raw.cursor()
                try:
                    cur.execute(plan.sql, plan.params(dynamic))
                    if described is not None:
                        described.extend(d[1] for d in cur.description)
                    return list(cur.fetchall())
                finally:
                    cur.close()
            finally:
                if pg:
                    dbapi.autocommit = False  # type: ignore[union-attr]
        finally:
            raw.close()

    def _item(self, r: Sequence[Any]) -> dict[str, Any]:
        utc = self._utc
        created = r[10] if r[10] is not None else r[11]
        return {
            "id": r[0],
            "time": iso(utc(r[1])),
            "lon": r[2],
            "lat": r[3],
            "type": r[4],
            "description": r[5],
            "tlp": r[6],
            "rel_to": sorted(_json_list(r[7])),
            "red_recipients": sorted(_json_list(r[15])),
            "originator": r[8],
            "created_by": r[9],
            "created_at": iso(utc(created)),
            "source": r[12],
            "fatalities": r[13],
            "place": r[14],
        }

    def one(self, actor: Actor | None, incident_id: int) -> bytes | None:
        """The JSON of one visible incident, or ``None`` (missing or not visible alike)."""
        rows = self._fetch(self._one_plan(actor), {"cg_id": incident_id})
        return orjson.dumps(self._item(rows[0])) if rows else None

    def page(
        self, actor: Actor | None, search: IncidentSearch | None, limit: int, offset: int
    ) -> bytes:
        """The JSON of one page (``items``, ``total``, ``limit``, ``offset``), oldest first."""
        rows = self._fetch(self._page_plan(actor, search), {"cg_limit": limit, "cg_offset": offset})
        if rows:
            total = int(rows[0][16])
        elif offset == 0:
            total = 0
        else:  # past the end: no row carries the total
            total = int(self._fetch(self._count_plan(actor, search), {})[0][0])
        items = [self._item(r) for r in rows]
        return orjson.dumps({"items": items, "total": total, "limit": limit, "offset": offset})


#: The former name (incidents were the first resource on this path).
IncidentReads = Reads
