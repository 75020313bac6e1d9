"""The curated CPEC incident layer: complete rows, plausible places, a source for each."""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, datetime

import pytest

from corridorguard.errors import NotFoundError
from corridorguard.incidents import builtin_incidents, builtin_path, check_incident

# Events the issue names, by local date.
REQUIRED = {
    date(2004, 5, 3): "Gwadar",
    date(2018, 8, 11): "Dalbandin",
    date(2018, 11, 23): "Karachi",
    date(2019, 5, 11): "Gwadar",
    date(2021, 7, 14): "Dasu",
    date(2021, 8, 20): "Gwadar",
    date(2022, 4, 26): "Karachi",
    date(2023, 8, 13): "Gwadar",
    date(2024, 3, 20): "Gwadar",
    date(2024, 3, 26): "Besham",
    date(2024, 10, 6): "Karachi",
}


@pytest.fixture(scope="module")
def cpec() -> list:
    return builtin_incidents("cpec")


def test_layer_has_the_named_events(cpec: list) -> None:
    assert len(cpec) >= 12
    by_date = {r.time.date(): r for r in cpec}
    for day, town in REQUIRED.items():
        assert day in by_date, day
        assert town in (by_date[day].place or ""), (day, by_date[day].place)


def test_rows_are_complete_and_valid(cpec: list) -> None:
    assert len({r.source_id for r in cpec}) == len(cpec)
    for r in cpec:
        assert check_incident(r) == []
        assert r.source == "cpec" and r.tlp == "CLEAR" and r.country == "Pakistan"
        assert r.time >= datetime(2004, 1, 1, tzinfo=UTC)
        assert 60.5 <= r.lon <= 77.5 and 23.5 <= r.lat <= 37.5  # inside Pakistan's extent
        assert r.location_precision == 2  # approximate, within about 25 km
        assert r.fatalities_best is not None and r.description and r.type and r.target_category
        assert "as reported" in r.description or "official" in r.description
        # Publisher, then the report's date, which is on or after the event.
        m = re.fullmatch(r"([A-Z][A-Za-z .]+), (\d{4}-\d{2}-\d{2})", r.reference or "")
        assert m, r.reference
        assert date.fromisoformat(m.group(2)) >= r.time.date()


def test_coordinates_are_flagged_approximate_and_documented() -> None:
    path = builtin_path("cpec")
    with open(path, newline="", encoding="utf-8") as fh:
        assert {row["coordinates"] for row in csv.DictReader(fh)} == {"approximate"}
    source = (path.parent / "SOURCE.md").read_text(encoding="utf-8")
    assert "approximate" in source.lower() and "own words" in source


def test_unknown_layer() -> None:
    with pytest.raises(NotFoundError, match="no built-in incident layer"):
        builtin_incidents("nowhere")
