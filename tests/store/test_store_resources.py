"""Revision 0003 (sites, forecasts + values, movements, sensors) on both backends: the tables
and their constraints, the immutable forecast values, downgrade and upgrade again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from corridorguard.store import Store, open_store
from corridorguard.store.migrate import current_revision, downgrade, head_revision, upgrade
from corridorguard.store.resources import FORECAST_VALUES, FORECASTS, MOVEMENTS, RESOURCES, SENSORS

NOW = datetime(2025, 1, 1, tzinfo=UTC)
MARK = {"originator": "ORG-A", "tlp": "AMBER", "created_by": "u", "created_at": NOW}


def _forecast(store: Store) -> int:
    with store.write() as conn:
        values = {
            **MARK, "name": "f", "model": "kde", "valid_from": NOW,
            "valid_to": NOW.replace(day=2), "unit": "events", "params": {"k": 1}, "n_values": 1,
        }  # fmt: skip
        fid = conn.execute(insert(FORECASTS.table).values(**values)).inserted_primary_key[0]
        conn.execute(
            insert(FORECAST_VALUES).values(forecast_id=fid, idx=0, kind="cell", key="c", value=1.0)
        )
        conn.execute(insert(FORECASTS.rel).values(record_id=fid, org="ORG-B"))
    return int(fid)


def test_forecast_values_refuse_update_and_delete(store: Store) -> None:
    _forecast(store)
    for sql in ("UPDATE forecast_values SET value = 2", "DELETE FROM forecast_values"):
        with pytest.raises(DBAPIError, match="immutable"), store.write() as conn:
            conn.execute(text(sql))
    with store.read() as conn:
        assert conn.execute(select(FORECAST_VALUES.c.value)).scalar_one() == 1.0


def test_constraints_hold_in_the_database(store: Store) -> None:
    bad_rows = [
        (MOVEMENTS.table, {  # window backwards
            "name": "m", "origin": "a", "destination": "b", "window_start": NOW,
            "window_end": NOW, "people": 1, "vehicles": 1, "force": "ORG-A",
        }),
        (SENSORS.table, {"name": "s", "kind": "camera", "status": "planned", "parameters": {}}),
        (SENSORS.table, {  # unknown kind
            "name": "s", "kind": "sonar", "status": "planned", "lon": 1.0, "lat": 1.0,
            "parameters": {},
        }),
    ]  # fmt: skip
    for table, values in bad_rows:
        with pytest.raises(IntegrityError), store.write() as conn:
            conn.execute(insert(table).values(**MARK, **values))
    with pytest.raises(IntegrityError), store.write() as conn:
        sensor = {"name": "s", "kind": "drone", "status": "planned", "lon": 1.0, "lat": 1.0}
        conn.execute(
            insert(SENSORS.table).values(**{**MARK, "tlp": "PINK"}, **sensor, parameters={})
        )


def test_downgrade_to_0002_and_upgrade_again(db_url: str) -> None:
    with open_store(db_url) as store:
        _forecast(store)
        assert current_revision(store.engine) == head_revision()
        downgrade(store.engine, "0002")
        names = set(inspect(store.engine).get_table_names())
        assert not names & {r.table.name for r in RESOURCES.values()}
        assert "forecast_values" not in names and "plans" in names
        upgrade(store.engine)
        with store.read() as conn:
            assert conn.execute(select(func.count()).select_from(FORECASTS.table)).scalar_one() == 0
        _forecast(store)  # the triggers are back
        with pytest.raises(DBAPIError, match="immutable"), store.write() as conn:
            conn.execute(text("DELETE FROM forecast_values"))
