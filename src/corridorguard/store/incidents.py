"""The incident repository: one interface, one SQL implementation for SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Select, and_, extract, func, select

from corridorguard.errors import NotFoundError, RowError
from corridorguard.incidents import Incident, check_incident, read_incidents, write_incidents
from corridorguard.store.engine import WRITE_OPTION
from corridorguard.store.models import IncidentRow

__all__ = [
    "AddResult",
    "ImportReport",
    "IncidentFilter",
    "IncidentRepository",
    "IncidentStats",
    "SqlIncidentRepository",
    "StoredIncident",
]

#: ``progress(done, total)`` during inserts (rows).
Progress = Callable[[int, int | None], None]

_T = IncidentRow.__table__
_TABLE = "incidents"
_FIELDS = Incident._fields
assert (_FIELDS[2], _FIELDS[6], _FIELDS[21], len(_FIELDS)) == ("time", "time_end", "rel_to", 22)
#: Inserted columns: the record's fields, then its STIX ``modified`` and TAXII date added
#: (revision 0005: both the time of the import).
_COLUMNS = (*_FIELDS, "modified", "added_at")


@dataclass(frozen=True)
class AddResult:
    """Outcome of :meth:`IncidentRepository.add_many`."""

    imported: int
    duplicates: int


@dataclass(frozen=True)
class ImportReport:
    """Outcome of :meth:`SqlIncidentRepository.import_file`.

    ``rejected`` counts the rows left out with ``skip_bad`` (listed in ``skipped``).
    """

    imported: int
    duplicates: int
    rejected: int = 0
    skipped: list[RowError] = field(default_factory=list)

    def to_dict(self) -> dict[str, int]:
        """``{"imported": n, "duplicates": k, "rejected": r}``."""
        return {"imported": self.imported, "duplicates": self.duplicates, "rejected": self.rejected}


@dataclass(frozen=True, slots=True)
class StoredIncident:
    """An incident as stored: database ``id``, the record, and when it was imported (UTC)."""

    id: int
    incident: Incident
    imported_at: datetime


@dataclass(frozen=True)
class IncidentFilter:
    """Which incidents to list, count or export. Every given criterion must hold.

    ``since`` is inclusive and ``until`` exclusive (UTC-aware datetimes, on the start ``time``);
    ``bbox`` is ``(min_lon, min_lat, max_lon, max_lat)``; ``types`` and ``sources`` match any of
    the given values.
    """

    since: datetime | None = None
    until: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    types: Sequence[str] = ()
    sources: Sequence[str] = ()


@dataclass(frozen=True)
class IncidentStats:
    """Summary figures of the stored incidents."""

    total: int
    by_source: dict[str, int] = field(default_factory=dict)
    by_type: dict[str, int] = field(default_factory=dict)
    by_year: dict[int, int] = field(default_factory=dict)
    fatalities_best: int = 0
    with_fatalities: int = 0
    first: datetime | None = None
    last: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "total": self.total,
            "by_source": self.by_source,
            "by_type": self.by_type,
            "by_year": {str(k): v for k, v in self.by_year.items()},
            "fatalities_best": self.fatalities_best,
            "with_fatalities": self.with_fatalities,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
        }


class IncidentRepository(Protocol):
    """What every incident store offers; the contract tests in ``tests/store`` pin it."""

    def add_many(
        self,
        incidents: Iterable[Incident],
        *,
        progress: Progress | None = None,
        validate: bool = True,
    ) -> AddResult:
        """Insert in ONE transaction; rows whose ``(source, source_id)`` exists are skipped."""
        ...

    def get(self, incident_id: int) -> StoredIncident:
        """The incident with database id ``incident_id`` (:class:`NotFoundError` if none)."""
        ...

    def get_by_key(self, source: str, source_id: str) -> StoredIncident:
        """The incident ``(source, source_id)`` (:class:`NotFoundError` if none)."""
        ...

    def list(
        self, flt: IncidentFilter | None = None, *, limit: int | None = None, offset: int = 0
    ) -> list[StoredIncident]:
        """Matching incidents ordered by ``time`` then ``id``."""
        ...

    def count(self, flt: IncidentFilter | None = None) -> int:
        """Number of matching incidents."""
        ...

    def stats(self, flt: IncidentFilter | None = None) -> IncidentStats:
        """Counts by source, type and year, and fatality totals."""
        ...

    def export(self, path: str | Path, flt: IncidentFilter | None = None) -> int:
        """Write matching incidents to ``.csv``/``.csv.gz``/``.geojson``; returns the count."""
        ...


def _where(stmt: Select[Any], flt: IncidentFilter | None) -> Select[Any]:
    if flt is None:
        return stmt
    conds = []
    if flt.since is not None:
        conds.append(_T.c.time >= flt.since)
    if flt.until is not None:
        conds.append(_T.c.time < flt.until)
    if flt.bbox is not None:
        x0, y0, x1, y1 = flt.bbox
        conds.append(_T.c.lon.between(x0, x1))
        conds.append(_T.c.lat.between(y0, y1))
    if flt.types:
        conds.append(_T.c.type.in_(list(flt.types)))
    if flt.sources:
        conds.append(_T.c.source.in_(list(flt.sources)))
    return stmt.where(and_(*conds)) if conds else stmt


def _sqlite_text(u: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME text, zero-padded (strftime does not pad years < 1000)."""
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d} "
        f"{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}"
    )


class SqlIncidentRepository:
    """:class:`IncidentRepository` over a SQLAlchemy engine (SQLite or PostgreSQL).

    Bulk inserts bypass per-row ORM work: the rows are turned into driver-ready tuples and sent
    with one ``executemany`` of ``INSERT ... ON CONFLICT (source, source_id) DO NOTHING`` per
    chunk, all chunks in one transaction.
    """

    chunk_size = 5000
    #: Rows per multi-row ``VALUES`` statement: SQLite (under 999 bound parameters) and others.
    sqlite_rows_per_statement = 999 // len(_COLUMNS)
    rows_per_statement = 500

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        one = "(" + ", ".join([mark] * len(_COLUMNS)) + ")"
        head = f"INSERT INTO {_TABLE} ({', '.join(_COLUMNS)}) VALUES "
        tail = " ON CONFLICT (source, source_id) DO NOTHING"
        self._insert_sql = head + one + tail
        self._per = self.sqlite_rows_per_statement if self._sqlite else self.rows_per_statement
        self._insert_many_sql = head + ", ".join([one] * self._per) + tail

    # -- writing ---------------------------------------------------------------------------

    def _driver_rows(
        self, chunk: list[Incident], *, validate: bool, now: datetime
    ) -> list[tuple[Any, ...]]:
        """Driver-ready tuples in :data:`_COLUMNS` order (times as the dialect stores them)."""
        if validate:
            for inc in chunk:
                bad = check_incident(inc)
                if bad:
                    raise ValueError(f"invalid incident {inc.source}/{inc.source_id}: {bad}")
        sqlite = self._sqlite
        ts: dict[datetime, Any] = {}
        get = ts.get
        dumps = json.dumps

        def conv(t: datetime) -> Any:
            u = t.astimezone(UTC)
            value = _sqlite_text(u) if sqlite else u
            ts[t] = value
            return value

        out: list[tuple[Any, ...]] = []
        append = out.append
        stamp = conv(now)
        for inc in chunk:  # field positions: see Incident (time 2, time_end 6, rel_to 21)
            t, e, rel = inc[2], inc[6], inc[21]
            start = get(t) or conv(t)
            end = None if e is None else (get(e) or conv(e))
            rel_json = dumps(list(rel), ensure_ascii=False) if rel else "[]"
            append((*inc[:2], start, *inc[3:6], end, *inc[7:21], rel_json, stamp, stamp))
        return out

    def _execute(self, conn: Connection, rows: list[tuple[Any, ...]]) -> int:
        per = self._per
        full = len(rows) // per * per
        done = 0
        if full:
            flat = [tuple(chain.from_iterable(rows[i : i + per])) for i in range(0, full, per)]
            done += max(conn.exec_driver_sql(self._insert_many_sql, flat).rowcount, 0)
        if full < len(rows):
            done += max(conn.exec_driver_sql(self._insert_sql, rows[full:]).rowcount, 0)
        return done

    def add_many(
        self,
        incidents: Iterable[Incident],
        *,
        progress: Progress | None = None,
        validate: bool = True,
    ) -> AddResult:
        """Insert ``incidents`` in one transaction; existing ``(source, source_id)`` are skipped.

        Duplicates within ``incidents`` count once: the first is kept. With ``validate`` (the
        default) records are checked with :func:`~corridorguard.incidents.check_incident`; an
        invalid one raises ``ValueError`` (a programming error: importers only produce valid
        records) and nothing is written. Pass ``validate=False`` for records that come straight
        from :func:`~corridorguard.incidents.read_incidents` (already checked).
        """
        records = incidents if isinstance(incidents, list) else list(incidents)
        total = len(records)
        imported = 0
        now = datetime.now(UTC)
        conn_ = self.engine.connect().execution_options(**{WRITE_OPTION: True})
        with conn_ as conn, conn.begin():
            for start in range(0, total, self.chunk_size):
                chunk = records[start : start + self.chunk_size]
                rows = self._driver_rows(chunk, validate=validate, now=now)
                imported += self._execute(conn, rows)
                if progress is not None:
                    progress(start + len(chunk), total)
        return AddResult(imported=imported, duplicates=total - imported)

    def import_file(
        self,
        path: str | Path,
        format: str,
        *,
        mapping: dict[str, Any] | None = None,
        skip_bad: bool = False,
        parse_progress: Progress | None = None,
        insert_progress: Progress | None = None,
        **read_options: Any,
    ) -> ImportReport:
        """Read ``path`` with :func:`~corridorguard.incidents.read_incidents` and add its rows.

        All or nothing: a file with a bad row raises
        :class:`~corridorguard.errors.ImportRejected` before anything is written (unless
        ``skip_bad``), and the rows go in in one transaction. ``read_options`` are passed on
        (``source``, ``tlp``, ``originator``, ``rel_to``).
        """
        result = read_incidents(
            path,
            format,
            mapping=mapping,
            skip_bad=skip_bad,
            progress=parse_progress,
            **read_options,
        )
        added = self.add_many(result.records, progress=insert_progress, validate=False)
        return ImportReport(
            imported=added.imported,
            duplicates=added.duplicates,
            rejected=result.rejected,
            skipped=result.skipped,
        )

    # -- reading ---------------------------------------------------------------------------

    @staticmethod
    def _stored(row: Any) -> StoredIncident:
        values = [row._mapping[name] for name in _FIELDS]
        return StoredIncident(row.id, Incident(*values), row.imported_at)

    def _fetch_one(self, conn: Connection, stmt: Select[Any], what: str) -> StoredIncident:
        row = conn.execute(stmt).first()
        if row is None:
            raise NotFoundError(f"no incident {what}")
        return self._stored(row)

    def get(self, incident_id: int) -> StoredIncident:
        stmt = select(_T).where(_T.c.id == incident_id)
        with self.engine.connect() as conn:
            return self._fetch_one(conn, stmt, f"with id {incident_id}")

    def get_by_key(self, source: str, source_id: str) -> StoredIncident:
        stmt = select(_T).where(_T.c.source == source, _T.c.source_id == source_id)
        with self.engine.connect() as conn:
            return self._fetch_one(conn, stmt, f"{source}/{source_id}")

    def iter(
        self, flt: IncidentFilter | None = None, *, batch: int = 2000
    ) -> Iterator[StoredIncident]:
        """Stream matching incidents ordered by ``time`` then ``id``."""
        stmt = _where(select(_T), flt).order_by(_T.c.time, _T.c.id)
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=batch).execute(stmt)
            for row in result:
                yield self._stored(row)

    def list(
        self, flt: IncidentFilter | None = None, *, limit: int | None = None, offset: int = 0
    ) -> list[StoredIncident]:
        stmt = _where(select(_T), flt).order_by(_T.c.time, _T.c.id).offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.engine.connect() as conn:
            return [self._stored(r) for r in conn.execute(stmt)]

    def count(self, flt: IncidentFilter | None = None) -> int:
        stmt = _where(select(func.count()).select_from(_T), flt)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def stats(self, flt: IncidentFilter | None = None) -> IncidentStats:
        year = extract("year", _T.c.time)
        with self.engine.connect() as conn:
            head = conn.execute(
                _where(
                    select(
                        func.count(),
                        func.coalesce(func.sum(_T.c.fatalities_best), 0),
                        func.count(_T.c.fatalities_best),
                        func.min(_T.c.time),
                        func.max(_T.c.time),
                    ).select_from(_T),
                    flt,
                )
            ).one()

            def groups(col: Any) -> dict[Any, int]:
                stmt = _where(select(col, func.count()).select_from(_T), flt).group_by(col)
                return {k: int(n) for k, n in conn.execute(stmt.order_by(col))}

            by_source, by_type = groups(_T.c.source), groups(_T.c.type)
            by_year = {int(k): n for k, n in groups(year).items()}
        return IncidentStats(
            total=int(head[0]),
            by_source=by_source,
            by_type=by_type,
            by_year=by_year,
            fatalities_best=int(head[1]),
            with_fatalities=int(head[2]),
            first=head[3],
            last=head[4],
        )

    def export(self, path: str | Path, flt: IncidentFilter | None = None) -> int:
        return write_incidents((s.incident for s in self.iter(flt)), path)


def _conforms(repo: SqlIncidentRepository) -> IncidentRepository:
    """Never called: lets mypy check that the SQL repository satisfies the protocol."""
    return repo
