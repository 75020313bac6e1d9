"""``corridorguard incidents import|import-builtin|list|stats|export``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from corridorguard._cli._common import DB_OPTION, JSON_OPTION, print_json, progress_bar
from corridorguard.errors import ConfigError, ImportRejected, RowError
from corridorguard.incidents import FORMATS, builtin_path
from corridorguard.store import IncidentFilter, StoredIncident, open_store
from corridorguard.store.incidents import ImportReport, SqlIncidentRepository

app = typer.Typer(
    no_args_is_help=True, help="Incidents: import datasets, list, summarise and export them."
)

_SHOW = 20


def _mapping(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    source = text
    if not text.lstrip().startswith("{"):
        path = Path(text)
        if not path.is_file():
            raise ConfigError("not a JSON object or a JSON file", field="--mapping")
        source = path.read_text(encoding="utf-8")
    try:
        value = json.loads(source)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON: {exc}", field="--mapping") from None
    if not isinstance(value, dict):
        raise ConfigError("must be a JSON object", field="--mapping")
    return value


def _when(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"not an ISO-8601 date: {text!r}", field=option) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _print_rows(rows: list[RowError], header: str) -> None:
    typer.echo(header, err=True)
    for row in rows[:_SHOW]:
        typer.echo(f"  {row}", err=True)
    if len(rows) > _SHOW:
        typer.echo(f"  ... and {len(rows) - _SHOW} more", err=True)


def _run_import(repo: SqlIncidentRepository, path: Path, fmt: str, **kw: Any) -> ImportReport:
    """Import with one progress bar: bytes read while parsing, then rows inserted."""
    with progress_bar(f"importing {path.name}") as bar:
        return repo.import_file(path, fmt, parse_progress=bar, insert_progress=bar, **kw)


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="CSV, CSV.GZ or GeoJSON file."),
    fmt: str = typer.Option(..., "--format", "-f", help=f"One of: {', '.join(FORMATS)}."),
    mapping: str | None = typer.Option(
        None, "--mapping", help="Column mapping (csv/geojson): a JSON object or a JSON file."
    ),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Import the good rows, list the bad."),
    source: str | None = typer.Option(None, "--source", help="Dataset name to store."),
    tlp: str = typer.Option("CLEAR", "--tlp", help="TLP 2.0 marking for rows without one."),
    originator: str | None = typer.Option(None, "--originator", help="Originating organisation."),
    rel_to: list[str] | None = typer.Option(
        None, "--rel-to", help="REL-TO organisation for rows without one (repeatable)."
    ),
    encoding: str = typer.Option("utf-8", "--encoding", help="File encoding (GTD: latin-1)."),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import an incident file; all or nothing unless --skip-bad. Re-importing adds nothing."""
    opts: dict[str, Any] = {
        "mapping": _mapping(mapping),
        "skip_bad": skip_bad,
        "source": source,
        "tlp": tlp,
        "originator": originator,
        "rel_to": tuple(rel_to or ()),
        "encoding": encoding,
    }
    with open_store(db) as store:
        try:
            report = _run_import(store.incidents, file, fmt, **opts)
        except ImportRejected as exc:
            rejected = len({r.line for r in exc.rows})
            if as_json:
                print_json({**exc.to_dict(), "imported": 0, "duplicates": 0, "rejected": rejected})
            else:
                _print_rows(exc.rows, f"error: {file}: {rejected} bad row(s), nothing imported:")
            raise typer.Exit(exc.exit_code) from None
    if report.skipped:
        _print_rows(report.skipped, f"skipped {report.rejected} bad row(s):")
    if as_json:
        print_json(report.to_dict())
    else:
        typer.echo(
            f"imported {report.imported}, duplicates {report.duplicates}, "
            f"rejected {report.rejected} ({store.url})"
        )


@app.command("import-builtin")
def import_builtin(
    name: str = typer.Argument("cpec", help="Built-in layer name (cpec)."),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import a curated layer shipped with corridorguard (idempotent)."""
    path = builtin_path(name)
    with open_store(db) as store:
        report = store.incidents.import_file(path, "csv", source=name)
    if as_json:
        print_json(report.to_dict())
    else:
        typer.echo(f"{name}: imported {report.imported}, duplicates {report.duplicates}")


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        x0, y0, x1, y1 = (float(p) for p in text.split(","))
    except ValueError:
        raise ConfigError("must be MIN_LON,MIN_LAT,MAX_LON,MAX_LAT", field="--bbox") from None
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise ConfigError("must be MIN_LON,MIN_LAT,MAX_LON,MAX_LAT within range", field="--bbox")
    return x0, y0, x1, y1


def _filter(
    source: list[str] | None,
    type_: list[str] | None,
    since: str | None,
    until: str | None,
    bbox: str | None = None,
) -> IncidentFilter:
    return IncidentFilter(
        since=_when(since, "--since"),
        until=_when(until, "--until"),
        bbox=_bbox(bbox),
        sources=tuple(source or ()),
        types=tuple(type_ or ()),
    )


def _as_dict(item: StoredIncident) -> dict[str, Any]:
    inc = item.incident._asdict()
    inc["time"] = item.incident.time.isoformat()
    inc["time_end"] = item.incident.time_end.isoformat() if item.incident.time_end else None
    inc["rel_to"] = list(item.incident.rel_to)
    return {"id": item.id, **inc, "imported_at": item.imported_at.isoformat()}


_SOURCE = typer.Option(None, "--source", help="Only this source (repeatable).")
_TYPE = typer.Option(None, "--type", help="Only this type (repeatable).")
_SINCE = typer.Option(None, "--since", help="From this UTC date/time (inclusive).")
_UNTIL = typer.Option(None, "--until", help="Before this UTC date/time (exclusive).")
_BBOX = typer.Option(None, "--bbox", help="Only inside MIN_LON,MIN_LAT,MAX_LON,MAX_LAT.")


@app.command("list")
def list_(
    limit: int = typer.Option(20, "--limit", min=0, help="At most this many (0: all)."),
    source: list[str] | None = _SOURCE,
    type_: list[str] | None = _TYPE,
    since: str | None = _SINCE,
    until: str | None = _UNTIL,
    bbox: str | None = _BBOX,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List stored incidents, oldest first."""
    flt = _filter(source, type_, since, until, bbox)
    with open_store(db) as store:
        items = store.incidents.list(flt, limit=limit or None)
    if as_json:
        print_json([_as_dict(i) for i in items])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "date", "source", "type", "place", "lon", "lat", "deaths", "tlp")
    for it in items:
        inc = it.incident
        table.add_row(
            str(it.id),
            inc.time.date().isoformat(),
            inc.source,
            inc.type,
            inc.place or "",
            f"{inc.lon:.4f}",
            f"{inc.lat:.4f}",
            "" if inc.fatalities_best is None else str(inc.fatalities_best),
            inc.tlp,
        )
    Console(width=160).print(table)


@app.command("stats")
def stats(
    source: list[str] | None = _SOURCE,
    since: str | None = _SINCE,
    until: str | None = _UNTIL,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Counts by source, type and year, and fatality totals."""
    with open_store(db) as store:
        result = store.incidents.stats(_filter(source, None, since, until)).to_dict()
    if as_json:
        print_json(result)
        return
    typer.echo(f"incidents: {result['total']}  ({result['first']} .. {result['last']})")
    typer.echo(
        f"fatalities (best): {result['fatalities_best']} over {result['with_fatalities']} "
        "incidents with a count"
    )
    for key in ("by_source", "by_type", "by_year"):
        typer.echo(key.replace("_", " ") + ":")
        for name, n in result[key].items():
            typer.echo(f"  {name}: {n}")


@app.command("export")
def export(
    out: Path = typer.Option(..., "--out", help="Output .geojson, .csv or .csv.gz file."),
    source: list[str] | None = _SOURCE,
    type_: list[str] | None = _TYPE,
    since: str | None = _SINCE,
    until: str | None = _UNTIL,
    bbox: str | None = _BBOX,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Export stored incidents (re-importable with --format csv / geojson)."""
    from corridorguard.incidents._geojson import export_format

    export_format(out)  # reject an unknown suffix before touching the database
    out.parent.mkdir(parents=True, exist_ok=True)
    with open_store(db) as store:
        n = store.incidents.export(out, _filter(source, type_, since, until, bbox))
    if as_json:
        print_json({"exported": n, "file": str(out)})
    else:
        typer.echo(f"exported {n} incident(s) to {out}")
