"""UCDP GED import on the real Syria slice: counts, precision fields, bad rows by line."""

from __future__ import annotations

import csv
import gzip
import shutil
from pathlib import Path

import pytest

from corridorguard.errors import ImportRejected
from corridorguard.incidents import read_incidents

GED_ROWS = 16_566


@pytest.fixture(scope="module")
def ged(shared_data: Path) -> Path:
    return shared_data / "real" / "ucdp" / "ged_syria.csv"


@pytest.fixture(scope="module")
def ged_records(ged: Path) -> list:
    return read_incidents(ged, "ucdp").records


def test_ucdp_reads_every_event(ged_records: list) -> None:
    assert len(ged_records) == GED_ROWS
    assert len({r.source_id for r in ged_records}) == GED_ROWS
    first = ged_records[0]
    assert first.source == "ucdp" and first.source_id == "214797"
    assert (first.lon, first.lat) == (36.707602, 34.802462)
    assert first.time.isoformat() == "2016-01-01T00:00:00+00:00"
    assert first.type == "state-based" and first.fatalities_best == 4
    assert first.tlp == "CLEAR" and first.rel_to == ()


def test_ucdp_keeps_precision_distributions(ged_records: list) -> None:
    # Figures from ../shared/data/real/ucdp/SOURCE.md.
    where = [sum(r.location_precision == k for r in ged_records) for k in range(1, 7)]
    assert where == [9010, 5786, 334, 620, 562, 254]
    when = [sum(r.time_precision == k for r in ged_records) for k in range(1, 6)]
    assert when == [15480, 828, 21, 186, 51]
    assert sum(r.fatalities_best or 0 for r in ged_records) == 112_337
    types = [
        sum(r.type == t for r in ged_records) for t in ("state-based", "non-state", "one-sided")
    ]
    assert types == [11507, 4577, 482]


def _physical_line_of(path: Path, row_index: int) -> int:
    """Physical start line of data row ``row_index`` (0-based), counted independently."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        prev = reader.line_num
        for i, _ in enumerate(reader):
            if i == row_index:
                return prev + 1
            prev = reader.line_num
    raise AssertionError("row not found")


def _corrupt(src: Path, dst: Path, row_index: int, column: str, value: str) -> None:
    with (
        open(src, newline="", encoding="utf-8") as fi,
        open(dst, "w", newline="", encoding="utf-8") as fo,
    ):
        reader = csv.reader(fi)
        writer = csv.writer(fo, lineterminator="\n")
        header = next(reader)
        writer.writerow(header)
        col = header.index(column)
        for i, row in enumerate(reader):
            if i == row_index:
                row[col] = value
            writer.writerow(row)


def test_corrupted_row_is_rejected_with_its_physical_line(ged: Path, tmp_path: Path) -> None:
    # Pick a row after a multi-line quoted field, so line != row number + 1.
    bad = tmp_path / "bad.csv"
    _corrupt(ged, bad, 12_000, "latitude", "abc")
    line = _physical_line_of(bad, 12_000)
    assert line > 12_002  # multi-line fields come before it
    with pytest.raises(ImportRejected) as info:
        read_incidents(bad, "ucdp")
    assert [str(r) for r in info.value.rows] == [f"line {line}: latitude: not a number: 'abc'"]
    skipped = read_incidents(bad, "ucdp", skip_bad=True)
    assert len(skipped.records) == GED_ROWS - 1 and skipped.rejected == 1


def test_gzip_copy_reads_the_same(ged: Path, tmp_path: Path, ged_records: list) -> None:
    gz = tmp_path / "ged.csv.gz"
    with open(ged, "rb") as fi, gzip.open(gz, "wb") as fo:
        shutil.copyfileobj(fi, fo)
    assert read_incidents(gz, "ucdp").records == ged_records


def test_fast_path_equals_careful_path(ged: Path) -> None:
    from corridorguard.incidents._tabular import ReadOptions
    from corridorguard.incidents.formats import ucdp_converter

    with open(ged, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    # Odd but valid cells must take the careful path and give the same answer.
    odd = list(rows[0])
    odd[header.index("best")] = "4.0"
    odd[header.index("type_of_violence")] = " 1 "
    odd[header.index("date_start")] = "2016-01-01T00:00:00+00:00"
    rows.append(odd)
    fast = ucdp_converter(header, ReadOptions(), "x")
    careful = ucdp_converter(header, ReadOptions(), "x", fast_path=False)
    for row in rows:
        errs: list[tuple[str, str]] = []
        assert fast(row, errs) == careful(row, []) and errs == []
