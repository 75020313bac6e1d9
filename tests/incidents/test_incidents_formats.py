"""Every importer on small fixture files: fields, precision mapping, and bad rows by line."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from corridorguard.errors import ConfigError, ImportRejected, NotFoundError
from corridorguard.incidents import Incident, read_incidents, write_incidents


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def rejected(path: Path, fmt: str, **kw: object) -> list[str]:
    with pytest.raises(ImportRejected) as info:
        read_incidents(path, fmt, **kw)  # type: ignore[arg-type]
    return [str(r) for r in info.value.rows]


GTD = "\n".join(
    [
        "eventid,iyear,imonth,iday,country_txt,provstate,city,latitude,longitude,specificity,"
        "attacktype1_txt,targtype1_txt,nkill,summary",
        "201403260001,2014,3,26,Pakistan,Balochistan,Quetta,30.18,66.99,1,Bombing/Explosion,"
        'Police,3.0,"A bomb exploded, ""near"" a checkpoint."',
        "201400000002,2014,0,0,Pakistan,Sindh,Karachi,24.86,67.01,2,Armed Assault,Business,,",
        "201406000003,2014,6,0,Pakistan,,,33.6,73.0,4,Unknown,Unknown,0,",
        "",
    ]
)


def test_gtd_layout(tmp_path: Path) -> None:
    recs = read_incidents(write(tmp_path / "gtd.csv", GTD), "gtd").records
    a, b, c = recs
    assert (a.source, a.source_id, a.type, a.target_category) == (
        "gtd",
        "201403260001",
        "Bombing/Explosion",
        "Police",
    )
    assert (
        a.time == datetime(2014, 3, 26, tzinfo=UTC) and a.time_end is None and a.time_precision == 1
    )
    assert a.fatalities_best == 3 and a.description == 'A bomb exploded, "near" a checkpoint.'
    assert (a.place, a.admin1, a.country, a.location_precision) == (
        "Quetta",
        "Balochistan",
        "Pakistan",
        1,
    )
    # imonth = 0: only the year is known; iday = 0: only the month.
    assert (b.time, b.time_end, b.time_precision) == (
        datetime(2014, 1, 1, tzinfo=UTC),
        datetime(2014, 12, 31, tzinfo=UTC),
        5,
    )
    assert (c.time, c.time_end, c.time_precision) == (
        datetime(2014, 6, 1, tzinfo=UTC),
        datetime(2014, 6, 30, tzinfo=UTC),
        4,
    )
    assert (b.location_precision, c.location_precision) == (
        3,
        4,
    )  # specificity 2 -> district, 4 -> province
    assert b.fatalities_best is None and c.fatalities_best == 0


def test_gtd_bad_rows(tmp_path: Path) -> None:
    bad = (
        GTD
        + "201402300004,2014,2,30,Pakistan,,,30.1,66.9,1,X,Y,1,\n"
        + "201400000005,2014,1,1,Pakistan,,,,,5,X,Y,-2,\n"
    )
    assert rejected(write(tmp_path / "g.csv", bad), "gtd") == [
        "line 5: iday: 30 is not a day of 2014-02",
        "line 6: longitude: missing",
        "line 6: latitude: missing",
        "line 6: nkill: -2 is negative",
    ]


ACLED = "\n".join(
    [
        "event_id_cnty,event_date,year,time_precision,event_type,sub_event_type,actor1,country,"
        "admin1,location,latitude,longitude,geo_precision,source,notes,fatalities,"
        "civilian_targeting",
        "PAK1001,2023-08-13,2023,1,Battles,Armed clash,X,Pakistan,Balochistan,Gwadar,25.1216,"
        "62.3254,1,Dawn,Clash near the port.,2,",
        "PAK1002,13 August 2023,2023,2,Violence against civilians,Attack,X,Pakistan,Sindh,"
        "Karachi,24.86,67.01,2,Reuters,,0,Civilian targeting",
        "PAK1003,2023-09-01,2023,3,Explosions/Remote violence,Remote explosive/landmine/IED,X,"
        "Pakistan,Khyber Pakhtunkhwa,Besham,34.93,72.88,3,,,,",
        "",
    ]
)


def test_acled_layout(tmp_path: Path) -> None:
    a, b, c = read_incidents(write(tmp_path / "acled.csv", ACLED), "acled").records
    assert (a.source, a.source_id, a.type, a.subtype) == (
        "acled",
        "PAK1001",
        "Battles",
        "Armed clash",
    )
    assert (a.lon, a.lat, a.fatalities_best, a.reference, a.place) == (
        62.3254,
        25.1216,
        2,
        "Dawn",
        "Gwadar",
    )
    assert b.time == a.time == datetime(2023, 8, 13, tzinfo=UTC)  # both date styles
    assert b.target_category == "civilians" and a.target_category is None
    # ACLED precision 1/2/3 -> UCDP scales.
    assert [r.time_precision for r in (a, b, c)] == [1, 3, 4]
    assert [r.location_precision for r in (a, b, c)] == [1, 2, 4]
    assert c.fatalities_best is None


def test_acled_bad_rows(tmp_path: Path) -> None:
    bad = ACLED + "PAK1004,31/31/2023,2023,1,Battles,,X,Pakistan,,,95.0,60.0,4,,,1,\n"
    assert rejected(write(tmp_path / "a.csv", bad), "acled") == [
        "line 5: event_date: not a date: '31/31/2023'",
        "line 5: latitude: 95.0 out of range [-90, 90] (longitude and latitude look swapped)",
        "line 5: geo_precision: 4 not in 1..3",
    ]


def test_generic_csv_with_mapping_and_defaults(tmp_path: Path) -> None:
    src = write(
        tmp_path / "log.csv",
        "ref;x;y;when;what\n".replace(";", ",")
        + "A-1,66.97,30.19,26/03/2024 14:05,IED\n"
        + "A-2,67.01,24.86,27/03/2024 09:00,\n",
    )
    mapping = {
        "source_id": "ref",
        "lon": "x",
        "lat": "y",
        "time": "when",
        "type": "what",
        "time_format": "%d/%m/%Y %H:%M",
        "defaults": {"type": "unspecified", "country": "Pakistan"},
    }
    a, b = read_incidents(
        src,
        "csv",
        mapping=mapping,
        source="agency-log",
        tlp="AMBER",
        originator="Agency A",
        rel_to=["Agency B"],
    ).records
    assert (a.source, a.source_id, a.type, a.country) == ("agency-log", "A-1", "IED", "Pakistan")
    assert a.time == datetime(2024, 3, 26, 14, 5, tzinfo=UTC)
    assert (a.tlp, a.originator, a.rel_to) == ("AMBER", "Agency A", ("Agency B",))
    assert b.type == "unspecified"


def test_generic_csv_errors_use_the_file_column_names(tmp_path: Path) -> None:
    src = write(
        tmp_path / "log.csv", "ref,x,y,when\nA-1,66.9,30.1,2024-13-01\nA-2,abc,30.1,2024-01-01\n"
    )
    mapping = {"source_id": "ref", "lon": "x", "lat": "y", "time": "when"}
    assert rejected(src, "csv", mapping=mapping) == [
        "line 2: when: not an ISO-8601 date: '2024-13-01'",
        "line 3: x: not a number: 'abc'",
    ]


def test_generic_csv_without_ids_gets_stable_content_ids(tmp_path: Path) -> None:
    text = "time,lon,lat,type\n2024-01-01T10:00:00Z,66.9,30.1,theft\n2024-01-02,67.0,30.2,theft\n"
    one = read_incidents(write(tmp_path / "a.csv", text), "csv").records
    two = read_incidents(write(tmp_path / "b.csv", text), "csv").records
    assert [r.source_id for r in one] == [r.source_id for r in two]
    assert len({r.source_id for r in one}) == 2 and one[0].source_id.startswith("sha1:")
    assert one[0].time == datetime(2024, 1, 1, 10, tzinfo=UTC)


def test_mapping_is_checked(tmp_path: Path) -> None:
    src = write(tmp_path / "a.csv", "time,lon,lat\n2024-01-01,1,1\n")
    with pytest.raises(ConfigError, match="unknown incident field 'when'"):
        read_incidents(src, "csv", mapping={"when": "time"})
    with pytest.raises(ConfigError, match="csv and geojson formats only"):
        read_incidents(src, "ucdp", mapping={"time": "time"})
    with pytest.raises(ConfigError, match="unknown format"):
        read_incidents(src, "xlsx")
    with pytest.raises(NotFoundError):
        read_incidents(tmp_path / "missing.csv", "csv")


def test_missing_columns_are_reported_on_line_1(tmp_path: Path) -> None:
    src = write(tmp_path / "u.csv", "id,date_start,latitude\n1,2020-01-01,30\n")
    assert rejected(src, "ucdp") == [
        "line 1: longitude: required column missing",
        "line 1: type_of_violence: required column missing",
    ]
    # skip_bad cannot skip a broken header.
    with pytest.raises(ImportRejected):
        read_incidents(src, "ucdp", skip_bad=True)


UCDP_HEAD = (
    "id,type_of_violence,where_prec,latitude,longitude,date_prec,date_start,date_end,"
    "best,low,high,source_headline\n"
)


def test_line_numbers_follow_physical_lines(tmp_path: Path) -> None:
    text = (
        "\ufeff"  # a BOM before the header is fine
        + UCDP_HEAD
        + '1,1,1,35.0,36.0,1,2016-01-01,2016-01-01,1,1,1,"two\nline headline"\n'  # lines 2-3
        + "\n"  # line 4: blank, ignored
        + "2,1,1,35.0,36.0,1,2016-01-02,2016-01-01,1,1,1,x\n"  # line 5: end before start
        + '3,4,9,35.0,36.0,1,2016-01-03,,1,1,1,"a\r\nb\nc"\n'  # lines 6-8
        + "4,1,1,35.0,36.0\n"  # line 9: short row
        + "5,1,1,120.0,36.0,1,2016-01-05,,x,1,1,ok\n"  # line 10
    )
    src = write(tmp_path / "lines.csv", text)
    assert rejected(src, "ucdp") == [
        "line 5: date_end: before date_start",
        "line 6: where_prec: 9 not in 1..7",
        "line 6: type_of_violence: '4' not one of 1, 2, 3",
        "line 9: row: 5 fields, header has 12",
        "line 10: latitude: 120.0 out of range [-90, 90] (longitude and latitude look swapped)",
        "line 10: best: not a number: 'x'",
    ]
    kept = read_incidents(src, "ucdp", skip_bad=True)
    assert [r.source_id for r in kept.records] == ["1"] and kept.rejected == 4
    assert kept.records[0].description == ""  # UCDP description is the dyad name (absent here)


def test_unterminated_quote_is_reported(tmp_path: Path) -> None:
    src = write(
        tmp_path / "q.csv", UCDP_HEAD + '1,1,1,35.0,36.0,1,2016-01-01,,1,1,1,"never closed\n'
    )
    rows = rejected(src, "ucdp")
    assert len(rows) == 1 and rows[0].startswith("line 2: row: malformed CSV")


def test_gzip_is_detected_by_content(tmp_path: Path) -> None:
    body = UCDP_HEAD + "1,3,2,35.0,36.0,4,2016-01-01,2016-01-20,5,4,9,x\n"
    gz = tmp_path / "ged.csv.gz"
    gz.write_bytes(gzip.compress(body.encode()))
    disguised = tmp_path / "ged_gz.csv"
    disguised.write_bytes(gzip.compress(body.encode()))
    (a,) = read_incidents(gz, "ucdp").records
    assert read_incidents(disguised, "ucdp").records == [a]
    assert (a.type, a.target_category, a.location_precision, a.time_precision) == (
        "one-sided",
        "civilians",
        2,
        4,
    )
    assert (a.fatalities_low, a.fatalities_best, a.fatalities_high) == (4, 5, 9)
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(gzip.compress(body.encode())[:-12])
    assert rejected(broken, "ucdp")[0].startswith("line 1: file: cannot read")


def feature(lon: object, lat: object, **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def test_geojson_points_and_line_numbers(tmp_path: Path) -> None:
    good = feature(
        62.3,
        25.1,
        source="x",
        source_id="a",
        time="2024-03-20T10:00:00Z",
        type="attack",
        rel_to=["B", "C"],
        tlp="tlp:green",
        fatalities_best=2,
    )
    bad_geom = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
        "properties": {},
    }
    bad_time = feature(62.3, 25.1, time="yesterday")
    lines = [
        '{"type": "FeatureCollection",',
        ' "features": [',
        json.dumps(good) + ",",
        json.dumps(bad_geom) + ",",
        "",
        json.dumps(bad_time),
        "]}",
    ]
    src = write(tmp_path / "x.geojson", "\n".join(lines))
    assert rejected(src, "geojson") == [
        "line 4: features[1].geometry.type: 'LineString' not supported (Point only)",
        "line 6: features[2].time: not an ISO-8601 date: 'yesterday'",
    ]
    (rec,) = read_incidents(src, "geojson", skip_bad=True).records
    assert (rec.lon, rec.lat, rec.rel_to, rec.tlp, rec.fatalities_best) == (
        62.3,
        25.1,
        ("B", "C"),
        "GREEN",
        2,
    )


def test_geojson_with_mapping_and_single_feature(tmp_path: Path) -> None:
    one = feature(67.0, 24.9, date="2024-10-06", kind="VBIED", id=17)
    src = write(tmp_path / "one.json", json.dumps(one))
    (rec,) = read_incidents(
        src, "geojson", mapping={"time": "date", "type": "kind", "source_id": "id"}
    ).records
    assert (rec.source, rec.source_id, rec.type, rec.time.date().isoformat()) == (
        "geojson",
        "17",
        "VBIED",
        "2024-10-06",
    )
    assert rejected(
        write(tmp_path / "bad.json", '{"type": "FeatureCollection", "features": [\n}'), "geojson"
    )[0].startswith("line 2: json:")


def test_native_csv_round_trip_keeps_every_field(tmp_path: Path) -> None:
    rec = Incident(
        source="s",
        source_id="1",
        time=datetime(2020, 5, 1, 3, 4, 5, 600, tzinfo=UTC),
        lon=-0.5,
        lat=51.25,
        type="t",
        time_end=datetime(2020, 5, 2, tzinfo=UTC),
        time_precision=2,
        location_precision=5,
        subtype="u",
        fatalities_best=0,
        fatalities_low=0,
        fatalities_high=3,
        target_category="c",
        description='multi\nline, "quoted"',
        place="p",
        country="q",
        admin1="r",
        reference="Dawn, 2020-05-02",
        originator="Org",
        tlp="RED",
        rel_to=("A", "B"),
    )
    for name in ("r.csv", "r.csv.gz", "r.geojson"):
        path = tmp_path / name
        assert write_incidents([rec], path) == 1
        assert read_incidents(path, "geojson" if name.endswith("json") else "csv").records == [rec]


def test_progress_reports_bytes(tmp_path: Path) -> None:
    src = write(tmp_path / "g.csv", GTD)
    seen: list[tuple[int, int | None]] = []
    read_incidents(src, "gtd", progress=lambda done, total: seen.append((done, total)))
    size = src.stat().st_size
    assert seen and seen[-1] == (size, size)


def test_columnar_view(tmp_path: Path) -> None:
    result = read_incidents(write(tmp_path / "g.csv", GTD), "gtd")
    cols = result.columns()
    assert cols["lon"].tolist() == [66.99, 67.01, 73.0]
    assert cols["time"][0] == datetime(2014, 3, 26, tzinfo=UTC).timestamp()
    assert cols["fatalities"][1] != cols["fatalities"][1]  # NaN for unknown
    assert cols["location_precision"].tolist() == [1, 3, 4]


def test_encodings(tmp_path: Path) -> None:
    latin = GTD.replace("A bomb exploded", "Une bombe a explosé")
    filler = "".join(
        f"2014000000{i:02d},2014,1,1,Pakistan,,,30.1,66.9,1,X,Y,,\n" for i in range(40)
    )
    src = tmp_path / "gtd_latin1.csv"
    src.write_bytes((latin + filler).encode("latin-1"))  # the bad byte is on line 2
    assert rejected(src, "gtd") == ["line 2: row: byte 0xe9 is not valid utf-8 (see --encoding)"]
    with pytest.raises(ImportRejected):  # the file as a whole is unreadable: no partial import
        read_incidents(src, "gtd", skip_bad=True)
    recs = read_incidents(src, "gtd", encoding="latin-1").records
    assert recs[0].description.startswith("Une bombe a explosé") and len(recs) == 43
    with pytest.raises(ConfigError, match="unknown encoding"):
        read_incidents(src, "gtd", encoding="klingon")


def test_malformed_csv_row_is_reported_and_skippable(tmp_path: Path) -> None:
    text = (
        UCDP_HEAD
        + "1,1,1,35.0,36.0,1,2016-01-01,,1,1,1,ok\n"
        + '2,1,1,35.0,36.0,1,2016-01-01,,1,1,1,"quoted"junk\n'  # line 3: strict CSV error
        + "3,1,1,35.0,36.0,1,2016-01-01,,1,1,1,ok\n"
    )
    src = write(tmp_path / "m.csv", text)
    rows = rejected(src, "ucdp")
    assert len(rows) == 1 and rows[0].startswith("line 3: row: malformed CSV")
    kept = read_incidents(src, "ucdp", skip_bad=True)
    assert [r.source_id for r in kept.records] == ["1", "3"] and kept.rejected == 1


def test_nul_characters_are_bad_rows_on_every_format(tmp_path: Path) -> None:
    """PostgreSQL cannot store NUL in text: every importer names the row and column instead."""
    src = write(
        tmp_path / "nul.csv",
        "time,lon,lat,type,description\n"
        "2024-01-01T10:00:00Z,66.9,30.1,theft,fine\n"
        "2024-01-02T10:00:00Z,67.0,30.2,the\x00ft,bad\x00text\n",
    )
    assert rejected(src, "csv") == [
        "line 3: type: contains a NUL character",
        "line 3: description: contains a NUL character",
    ]
    assert len(read_incidents(src, "csv", skip_bad=True).records) == 1
    gj = tmp_path / "nul.geojson"
    gj.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    feature(62.3, 25.1, time="2024-03-20T10:00:00Z", type="a"),
                    feature(62.3, 25.1, time="2024-03-20T10:00:00Z", type="a", place="x\x00"),
                ],
            }
        ),
        encoding="utf-8",
    )
    assert rejected(gj, "geojson") == ["line 1: features[1].place: contains a NUL character"]
