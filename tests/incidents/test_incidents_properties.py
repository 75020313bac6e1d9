"""Properties: export -> import is the identity; bad rows are reported at their physical line."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridorguard.errors import ImportRejected
from corridorguard.incidents import Incident, read_incidents, write_incidents

_chars = st.characters(blacklist_categories=("Cs", "Cc"))
_word = st.text(_chars, min_size=1, max_size=20).map(str.strip).filter(bool)
_free = st.text(
    st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\r\x00", whitelist_categories=None
    ),
    max_size=60,
).filter(lambda s: all(c == "\n" or c >= " " for c in s))
_opt = st.none() | _word
_count = st.none() | st.integers(0, 100_000)
_time = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def incidents(draw: st.DrawFn) -> Incident:
    start = draw(_time)
    end = draw(
        st.none() | st.timedeltas(timedelta(0), timedelta(days=400)).map(lambda d: start + d)
    )
    lon = draw(st.floats(-180, 180))
    lat = draw(st.floats(-90, 90).filter(lambda y: y != 0.0 or lon != 0.0))
    return Incident(
        source=draw(st.sampled_from(["ucdp", "gtd", "agency"])),
        source_id=draw(_word.filter(lambda s: ";" not in s)),
        time=start,
        lon=lon,
        lat=lat,
        type=draw(_word),
        time_end=end,
        time_precision=draw(st.integers(1, 5)),
        location_precision=draw(st.integers(1, 7)),
        subtype=draw(_opt),
        fatalities_best=draw(_count),
        fatalities_low=draw(_count),
        fatalities_high=draw(_count),
        target_category=draw(_opt),
        description=draw(_free),
        place=draw(_opt),
        country=draw(_opt),
        admin1=draw(_opt),
        reference=draw(_opt),
        originator=draw(_opt),
        tlp=draw(st.sampled_from(["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"])),
        rel_to=tuple(
            draw(st.lists(_word.filter(lambda s: ";" not in s and "|" not in s), max_size=3))
        ),
    )


_fast = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_fast
@given(
    records=st.lists(incidents(), max_size=12),
    name=st.sampled_from(["x.csv", "x.csv.gz", "x.geojson"]),
)
def test_export_then_import_is_the_identity(
    tmp_path: Path, records: list[Incident], name: str
) -> None:
    path = tmp_path / name
    write_incidents(records, path)
    fmt = "geojson" if name.endswith("geojson") else "csv"
    assert read_incidents(path, fmt).records == records


HEADER = ["id", "type_of_violence", "latitude", "longitude", "date_start", "source_headline"]
BAD = {
    "latitude": ("latitude", "abc", "not a number: 'abc'"),
    "date": ("date_start", "2019-02-30", "not an ISO-8601 date: '2019-02-30'"),
    "type": ("type_of_violence", "7", "'7' not one of 1, 2, 3"),
}


@_fast
@given(
    rows=st.lists(
        st.tuples(st.sampled_from([None, *BAD]), st.text('ab \n,"', max_size=12)),
        min_size=1,
        max_size=25,
    )
)
def test_bad_rows_are_reported_at_their_physical_line(
    tmp_path: Path, rows: list[tuple[str | None, str]]
) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    expected: list[str] = []
    for i, (fault, headline) in enumerate(rows):
        line = buf.getvalue().count("\n") + 1  # where this record starts
        cells = dict(
            zip(HEADER, [str(i), "1", "35.5", "36.5", "2019-02-01", headline], strict=True)
        )
        if fault is not None:
            column, value, reason = BAD[fault]
            cells[column] = value
            expected.append(f"line {line}: {column}: {reason}")
        writer.writerow([cells[h] for h in HEADER])
    path = tmp_path / "rows.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    good = [str(i) for i, (fault, _) in enumerate(rows) if fault is None]
    if expected:
        try:
            read_incidents(path, "ucdp")
        except ImportRejected as exc:
            assert [str(r) for r in exc.rows] == expected
        else:
            raise AssertionError("bad rows were accepted")
    kept = read_incidents(path, "ucdp", skip_bad=True)
    assert [r.source_id for r in kept.records] == good
    assert [str(r) for r in kept.skipped] == expected
