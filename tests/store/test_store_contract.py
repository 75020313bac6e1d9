"""The incident repository contract, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, text
from sqlalchemy.exc import IntegrityError

from corridorguard.errors import ConfigError, NotFoundError
from corridorguard.incidents import Incident, read_incidents
from corridorguard.store import Base, IncidentFilter, IncidentRow, Store, open_store
from corridorguard.store.migrate import downgrade, head_revision, upgrade

T0 = datetime(2024, 3, 26, 6, 30, tzinfo=UTC)


def inc(i: int, **kw: object) -> Incident:
    base = {
        "source": "test",
        "source_id": f"e{i}",
        "time": T0 + timedelta(days=i),
        "lon": 60.0 + i * 0.5,
        "lat": 25.0 + i * 0.25,
        "type": "Armed assault" if i % 2 else "Bombing/Explosion",
    }
    base.update(kw)
    return Incident(**base)  # type: ignore[arg-type]


def test_fresh_store_is_at_head_and_empty(store: Store) -> None:
    info = store.info()
    assert info["revision"] == head_revision() == info["head"]
    assert info["counts"] == {"incidents": 0}
    assert store.incidents.count() == 0


def test_add_many_counts_imported_and_duplicates(store: Store) -> None:
    repo = store.incidents
    assert repo.add_many([inc(i) for i in range(5)]).imported == 5
    again = repo.add_many([inc(i) for i in range(3, 8)])
    assert (again.imported, again.duplicates) == (3, 2)
    inside = repo.add_many([inc(20), inc(20, lon=1.0), inc(21)])  # same key twice in one batch
    assert (inside.imported, inside.duplicates) == (2, 1)
    assert repo.get_by_key("test", "e20").incident.lon == inc(20).lon  # the first one wins
    assert repo.count() == 10


def test_every_field_round_trips(store: Store) -> None:
    full = inc(
        1,
        time_end=T0 + timedelta(days=3),
        time_precision=2,
        location_precision=3,
        subtype="Suicide bomb",
        fatalities_best=6,
        fatalities_low=5,
        fatalities_high=7,
        target_category="Business",
        description='Convoy hit near Besham; "quoted", multi\nline, ünïcödé ✓',
        place="Besham",
        country="Pakistan",
        admin1="Khyber Pakhtunkhwa",
        reference="Reuters, 2024-03-26",
        originator="Agency A",
        tlp="AMBER+STRICT",
        rel_to=("Agency B", "Oversight Board"),
    )
    bare = inc(2)
    store.incidents.add_many([full, bare])
    got = store.incidents.get_by_key("test", "e1")
    assert got.incident == full
    assert got.imported_at.tzinfo is not None
    assert store.incidents.get(got.id) == got
    assert store.incidents.get_by_key("test", "e2").incident == bare


def test_missing_records_raise_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.incidents.get(12345)
    with pytest.raises(NotFoundError):
        store.incidents.get_by_key("test", "nope")


def test_times_are_stored_in_utc(store: Store) -> None:
    karachi = timezone(timedelta(hours=5))
    local = datetime(2024, 10, 6, 23, 0, tzinfo=karachi)
    store.incidents.add_many([inc(1, time=local)])
    got = store.incidents.get_by_key("test", "e1").incident.time
    assert got == local and got.tzinfo == UTC and got.hour == 18


def test_list_filters_and_order(store: Store) -> None:
    repo = store.incidents
    repo.add_many([inc(i) for i in range(10)] + [inc(99, source="other", time=T0)])
    every = repo.list()
    assert [s.incident.time for s in every] == sorted(s.incident.time for s in every)
    since, until = T0 + timedelta(days=2), T0 + timedelta(days=5)
    window = repo.list(IncidentFilter(since=since, until=until))
    assert [s.incident.source_id for s in window] == ["e2", "e3", "e4"]  # until is exclusive
    box = IncidentFilter(bbox=(60.9, 25.0, 62.1, 30.0))
    assert [s.incident.source_id for s in repo.list(box)] == ["e2", "e3", "e4"]
    kinds = IncidentFilter(types=["Armed assault"], sources=["test"])
    assert {s.incident.source_id for s in repo.list(kinds)} == {"e1", "e3", "e5", "e7", "e9"}
    assert repo.count(kinds) == 5 and repo.count(box) == 3 and repo.count() == 11
    page = repo.list(limit=3, offset=2)
    assert [s.id for s in page] == [s.id for s in every[2:5]]


def test_stats(store: Store) -> None:
    store.incidents.add_many(
        [
            inc(0, fatalities_best=3),
            inc(1, fatalities_best=4),
            inc(400, source="other", lon=70.0, lat=30.0),
        ]
    )
    stats = store.incidents.stats()
    assert stats.total == 3
    assert stats.by_source == {"other": 1, "test": 2}
    assert stats.by_type == {"Armed assault": 1, "Bombing/Explosion": 2}
    assert stats.by_year == {2024: 2, 2025: 1}
    assert (stats.fatalities_best, stats.with_fatalities) == (7, 2)
    assert stats.first == T0 and stats.last == T0 + timedelta(days=400)
    assert store.incidents.stats(IncidentFilter(sources=["other"])).total == 1


@pytest.mark.parametrize("name", ["out.csv", "out.geojson", "out.csv.gz"])
def test_export_reimports_identically(store: Store, tmp_path: Path, name: str) -> None:
    records = [
        inc(i, rel_to=("B",) if i % 2 else (), tlp="GREEN" if i % 3 else "CLEAR") for i in range(7)
    ]
    store.incidents.add_many(records)
    path = tmp_path / name
    assert store.incidents.export(path) == 7
    fmt = "geojson" if name.endswith("geojson") else "csv"
    assert read_incidents(path, fmt).records == records


def test_a_failing_import_leaves_the_store_unchanged(store: Store) -> None:
    repo = store.incidents
    repo.add_many([inc(0)])
    repo.chunk_size = 2  # several chunks, the bad record in the last one
    bad = [inc(i) for i in range(1, 6)] + [inc(6, tlp="PURPLE")]
    with pytest.raises(IntegrityError):
        repo.add_many(bad, validate=False)  # the database's CHECK rejects it mid-transaction
    assert repo.count() == 1
    with pytest.raises(ValueError, match="tlp"):
        repo.add_many(bad)  # validated before anything is written
    assert repo.count() == 1


def test_model_matches_the_migrations(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_downgrade_then_upgrade(store: Store) -> None:
    store.incidents.add_many([inc(1)])
    assert downgrade(store.engine, "base") == (head_revision(), None)
    assert store.info()["counts"] == {}
    assert upgrade(store.engine) == (None, head_revision())
    assert store.incidents.count() == 0


def test_open_refuses_unknown_or_unmanaged_schemas(store: Store, db_url: str) -> None:
    with store.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(ConfigError, match="newer"):
        open_store(db_url)
    with store.write() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    with pytest.raises(ConfigError, match="no corridorguard schema revision"):
        open_store(db_url)
    with open_store(db_url, upgrade="never") as unchecked:
        assert unchecked.info()["revision"] is None


def test_orm_session_writes_in_one_transaction(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session() as session:
        session.add(IncidentRow(source="orm", source_id="1", time=T0, lon=1.0, lat=2.0, type="x"))
        session.flush()
        raise RuntimeError("abort")
    assert store.incidents.count() == 0
    with store.session() as session:
        session.add(IncidentRow(source="orm", source_id="1", time=T0, lon=1.0, lat=2.0, type="x"))
    got = store.incidents.get_by_key("orm", "1").incident
    assert (got.tlp, got.rel_to, got.description, got.time) == ("CLEAR", (), "", T0)


_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30).map(str.strip)
_when = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
)
_opt_text = st.none() | _text.filter(bool)
_count = st.none() | st.integers(0, 10_000)
incidents = st.builds(
    Incident,
    source=st.sampled_from(["ucdp", "gtd", "x"]),
    source_id=st.text("abcdef0123456789-", min_size=1, max_size=12),
    time=_when,
    lon=st.floats(-180, 180),
    lat=st.floats(-90, 90),
    type=_text.filter(bool),
    time_end=st.none(),
    time_precision=st.integers(1, 5),
    location_precision=st.integers(1, 7),
    subtype=_opt_text,
    fatalities_best=_count,
    fatalities_low=_count,
    fatalities_high=_count,
    target_category=_opt_text,
    description=_text,
    place=_opt_text,
    country=_opt_text,
    admin1=_opt_text,
    reference=_opt_text,
    originator=_opt_text,
    tlp=st.sampled_from(["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]),
    rel_to=st.lists(_text.filter(bool), max_size=3).map(tuple),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=st.lists(incidents, max_size=8))
def test_property_stored_records_read_back_unchanged(store: Store, records: list[Incident]) -> None:
    with store.write() as conn:
        conn.execute(delete(IncidentRow))
    result = store.incidents.add_many(records)
    first: dict[tuple[str, str], Incident] = {}
    for r in records:
        first.setdefault((r.source, r.source_id), r)
    assert result.imported == len(first) and result.duplicates == len(records) - len(first)
    for key, record in first.items():
        assert store.incidents.get_by_key(*key).incident == record
