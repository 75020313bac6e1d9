"""End to end through the CLI: real UCDP import, idempotence, atomic rejection, --skip-bad."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corridorguard.cli import app
from corridorguard.store import head_revision, open_store

GED_ROWS = 16_566
runner = CliRunner()


def cg(*args: str) -> object:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def ged(shared_data: Path) -> Path:
    return shared_data / "real" / "ucdp" / "ged_syria.csv"


@pytest.fixture(scope="module")
def corrupted(ged: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A copy of the GED file with latitude "abc" on data row 12,000, and that row's line."""
    out = tmp_path_factory.mktemp("ged") / "ged_bad.csv"
    with (
        open(ged, newline="", encoding="utf-8") as fi,
        open(out, "w", newline="", encoding="utf-8") as fo,
    ):
        reader, writer = csv.reader(fi), csv.writer(fo, lineterminator="\n")
        header = next(reader)
        writer.writerow(header)
        lat = header.index("latitude")
        for i, row in enumerate(reader):
            if i == 12_000:
                row[lat] = "abc"
            writer.writerow(row)
    text = out.read_text(encoding="utf-8")
    # Independent line count: the physical line of the only cell reading ",abc,".
    line = text[: text.index(",abc,")].count("\n") + 1
    assert line > 12_002  # quoted multi-line fields earlier in the file
    return out, line


def test_ucdp_import_gives_16566_then_nothing(db_url: str) -> None:
    first = cg(
        "incidents",
        "import",
        "../shared/data/real/ucdp/ged_syria.csv",
        "--format",
        "ucdp",
        "--db",
        db_url,
        "--json",
    )
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {"imported": GED_ROWS, "duplicates": 0, "rejected": 0}
    again = cg(
        "incidents",
        "import",
        "../shared/data/real/ucdp/ged_syria.csv",
        "--format",
        "ucdp",
        "--db",
        db_url,
        "--json",
    )
    assert json.loads(again.stdout) == {"imported": 0, "duplicates": GED_ROWS, "rejected": 0}
    stats = json.loads(cg("incidents", "stats", "--db", db_url, "--json").stdout)
    assert stats["total"] == GED_ROWS and stats["fatalities_best"] == 112_337


def test_a_corrupted_file_is_rejected_whole(tmp_path: Path, corrupted: tuple[Path, int]) -> None:
    bad, line = corrupted
    db = f"sqlite:///{tmp_path / 'cg.sqlite3'}"
    assert cg("incidents", "import-builtin", "cpec", "--db", db).exit_code == 0
    with open_store(db) as store:
        before = store.incidents.list()

    text = cg("incidents", "import", bad, "--format", "ucdp", "--db", db)
    assert text.exit_code == 2
    assert f"line {line}: latitude: not a number: 'abc'" in text.stderr
    assert "1 bad row(s), nothing imported" in text.stderr and "Traceback" not in text.output

    as_json = cg("incidents", "import", bad, "--format", "ucdp", "--db", db, "--json")
    assert as_json.exit_code == 2
    doc = json.loads(as_json.stdout)
    assert (doc["imported"], doc["rejected"], doc["error"]) == (0, 1, "import_rejected")
    assert doc["rows"] == [{"line": line, "field": "latitude", "reason": "not a number: 'abc'"}]

    with open_store(db) as store:
        assert store.incidents.list() == before  # unchanged, row for row


def test_skip_bad_imports_the_rest_and_lists_the_row(
    tmp_path: Path, corrupted: tuple[Path, int]
) -> None:
    bad, line = corrupted
    db = f"sqlite:///{tmp_path / 'cg.sqlite3'}"
    result = cg("incidents", "import", bad, "--format", "ucdp", "--db", db, "--skip-bad", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"imported": GED_ROWS - 1, "duplicates": 0, "rejected": 1}
    assert "skipped 1 bad row(s)" in result.stderr
    assert f"line {line}: latitude: not a number: 'abc'" in result.stderr


def _small_csv(path: Path, rows: int) -> Path:
    lines = ["time,lon,lat,type,source_id"]
    lines += [f"2024-01-{i + 1:02d},66.{i},30.{i},Armed assault,r{i}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cli_list_stats_export_and_db(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cg.sqlite3'}"
    upgraded = json.loads(cg("db", "upgrade", "--db", db, "--json").stdout)
    assert (upgraded["from"], upgraded["to"]) == (None, head_revision())
    first = json.loads(cg("incidents", "import-builtin", "cpec", "--db", db, "--json").stdout)
    assert first["imported"] >= 12 and first["duplicates"] == 0
    again = json.loads(cg("incidents", "import-builtin", "cpec", "--db", db, "--json").stdout)
    assert again == {"imported": 0, "duplicates": first["imported"], "rejected": 0}
    src = _small_csv(tmp_path / "mine.csv", 5)
    mine = cg(
        "incidents",
        "import",
        src,
        "--format",
        "csv",
        "--source",
        "mine",
        "--tlp",
        "amber",
        "--originator",
        "Agency A",
        "--rel-to",
        "Agency B",
        "--rel-to",
        "Agency C",
        "--db",
        db,
        "--json",
    )
    assert json.loads(mine.stdout) == {"imported": 5, "duplicates": 0, "rejected": 0}

    listed = json.loads(
        cg("incidents", "list", "--source", "mine", "--limit", "3", "--db", db, "--json").stdout
    )
    assert [r["source_id"] for r in listed] == ["r0", "r1", "r2"]
    assert listed[0]["tlp"] == "AMBER" and listed[0]["originator"] == "Agency A"
    assert listed[0]["rel_to"] == ["Agency B", "Agency C"]
    window = cg(
        "incidents",
        "list",
        "--since",
        "2024-01-02",
        "--until",
        "2024-01-04",
        "--source",
        "mine",
        "--db",
        db,
        "--json",
    )
    assert [r["source_id"] for r in json.loads(window.stdout)] == ["r1", "r2"]
    gwadar = cg("incidents", "list", "--bbox", "62,24.9,62.5,25.5", "--db", db, "--json")
    places = {r["place"] for r in json.loads(gwadar.stdout)}
    assert places and all("Gwadar" in p for p in places), places
    bad_box = cg("incidents", "list", "--bbox", "62,24", "--db", db)
    assert bad_box.exit_code == 2 and "--bbox" in bad_box.stderr
    table = cg("incidents", "list", "--db", db)
    assert table.exit_code == 0 and "Gwadar" in table.stdout

    stats = json.loads(cg("incidents", "stats", "--db", db, "--json").stdout)
    assert stats["by_source"] == {"cpec": first["imported"], "mine": 5}

    out = tmp_path / "exp" / "mine.geojson"
    exported = cg("incidents", "export", "--out", out, "--source", "mine", "--db", db, "--json")
    assert json.loads(exported.stdout)["exported"] == 5
    assert len(json.loads(out.read_text())["features"]) == 5

    info = json.loads(cg("db", "info", "--db", db, "--json").stdout)
    assert info["backend"] == "sqlite" and info["revision"] == info["head"] == head_revision()
    assert info["counts"]["incidents"] == first["imported"] + 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "nope"], "unknown format 'nope'"),
        (["--format", "csv", "--mapping", "{bad json"], "--mapping: invalid JSON"),
        (["--format", "csv", "--mapping", '{"when": "date"}'], "unknown incident field 'when'"),
        (["--format", "csv", "--tlp", "PINK"], "'PINK' not one of"),
    ],
)
def test_cli_user_errors_are_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    src = _small_csv(tmp_path / "x.csv", 2)
    result = cg("incidents", "import", src, *args, "--db", f"sqlite:///{tmp_path / 'cg.sqlite3'}")
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_missing_file_and_bad_export_suffix(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cg.sqlite3'}"
    missing = cg(
        "incidents", "import", tmp_path / "nope.csv", "--format", "csv", "--db", db, "--json"
    )
    assert missing.exit_code == 2 and json.loads(missing.stdout)["error"] == "not_found"
    bad = cg("incidents", "export", "--out", tmp_path / "x.xlsx", "--db", db)
    assert bad.exit_code == 2 and "unknown export format" in bad.stderr


def test_cli_mapping_from_a_file(tmp_path: Path) -> None:
    src = tmp_path / "chicago.csv"
    src.write_text(
        "Case Number,Date,Primary Type,Latitude,Longitude\n"
        "JA1,01/31/2016 11:00:00 PM,THEFT,41.75,-87.6\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.json"
    mapping.write_text(
        json.dumps(
            {
                "source_id": "Case Number",
                "time": "Date",
                "type": "Primary Type",
                "lat": "Latitude",
                "lon": "Longitude",
                "time_format": "%m/%d/%Y %I:%M:%S %p",
            }
        )
    )
    db = f"sqlite:///{tmp_path / 'cg.sqlite3'}"
    result = cg(
        "incidents",
        "import",
        src,
        "--format",
        "csv",
        "--mapping",
        mapping,
        "--source",
        "chicago",
        "--db",
        db,
        "--json",
    )
    assert json.loads(result.stdout)["imported"] == 1, result.output
    with open_store(db) as store:
        got = store.incidents.get_by_key("chicago", "JA1").incident
    assert got.time.isoformat() == "2016-01-31T23:00:00+00:00" and (got.lon, got.lat) == (
        -87.6,
        41.75,
    )


def test_the_message_counts_rows_not_problems(tmp_path: Path) -> None:
    """A row missing both coordinates is one bad row with two problems, as in `rejected`."""
    gtd = tmp_path / "gtd.csv"
    gtd.write_text(
        "eventid,iyear,imonth,iday,country_txt,provstate,city,latitude,longitude,"
        "attacktype1_txt,targtype1_txt,nkill\n"
        "201403150001,2014,3,1,Pakistan,Balochistan,Turbat,26.0,63.05,Armed Assault,Business,4\n"
        "201403150002,2014,3,2,Pakistan,Sindh,Karachi,,,Bombing/Explosion,Police,\n"
    )
    db = f"sqlite:///{tmp_path / 'cg.sqlite3'}"
    result = cg("incidents", "import", str(gtd), "--format", "gtd", "--db", db, "--json")
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["rejected"] == 1 and len(doc["rows"]) == 2
    assert doc["message"].startswith("1 bad row(s) (2 problems), nothing imported: line 3: ")
