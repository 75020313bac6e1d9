"""GeoJSON (RFC 7946) import and the native CSV / GeoJSON export.

Import: a FeatureCollection (or a single Feature) of Point features whose properties are named as
in the native export (or renamed by a mapping). Errors name the physical line where the feature
starts. Export writes one feature per line, so a re-import reports useful line numbers.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from corridorguard.errors import ImportRejected, RowError, ValidationError
from corridorguard.incidents._tabular import (
    Errs,
    Progress,
    ReadOptions,
    decode_error_line,
    open_text,
)
from corridorguard.incidents._values import NUL_REASON
from corridorguard.incidents.formats import mapped_converter
from corridorguard.incidents.model import Incident

__all__ = ["EXPORT_COLUMNS", "read_geojson", "write_incidents"]

#: Columns of the native CSV export (also the default generic CSV mapping).
EXPORT_COLUMNS: tuple[str, ...] = tuple(Incident._fields)

_LON = "geometry.coordinates[0]"
_LAT = "geometry.coordinates[1]"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return ";".join(str(x) for x in value)
    return json.dumps(value)


def _feature_lines(text: str, n: int) -> list[int] | None:
    """Physical start line of each of the ``n`` features, when the layout allows finding them."""
    match = re.search(r'"features"\s*:\s*\[', text)
    if match is None:
        return None
    decoder = json.JSONDecoder()
    skip = re.compile(r"[\s,]*")
    pos, last, line = match.end(), 0, 1
    lines: list[int] = []
    try:
        for _ in range(n):
            m = skip.match(text, pos)
            pos = m.end() if m else pos
            line += text.count("\n", last, pos)
            last = pos
            lines.append(line)
            _, pos = decoder.raw_decode(text, pos)
    except ValueError:
        return None
    return lines


def _point(feature: Any, errs: Errs) -> tuple[str, str] | None:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        errs.append(("feature", "not a GeoJSON Feature"))
        return None
    geom = feature.get("geometry")
    if not isinstance(geom, dict):
        errs.append(("geometry", "missing"))
        return None
    if geom.get("type") != "Point":
        errs.append(("geometry.type", f"{geom.get('type')!r} not supported (Point only)"))
        return None
    coords = geom.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2:
        errs.append(("geometry.coordinates", "must be [lon, lat]"))
        return None
    return _text(coords[0]) or "", _text(coords[1]) or ""


def read_geojson(
    path: Path, opts: ReadOptions, *, progress: Progress | None = None
) -> tuple[list[Incident], list[RowError], int]:
    """Parse a GeoJSON file; returns ``(records, errors, features_read)``."""
    file = str(path)
    try:
        with open_text(path, opts.encoding) as (stream, _raw, size):
            text = stream.read()
    except UnicodeDecodeError:
        line, reason = decode_error_line(path, opts.encoding)
        raise ImportRejected(file, [RowError(line, "row", reason)]) from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ImportRejected(file, [RowError(1, "file", f"cannot read: {exc}")]) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRejected(file, [RowError(exc.lineno, "json", exc.msg)]) from None
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise ImportRejected(file, [RowError(1, "features", "must be a list")])
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    else:
        raise ImportRejected(file, [RowError(1, "type", "not a FeatureCollection or Feature")])
    keys: set[str] = {_LON, _LAT}
    for f in features:
        if isinstance(f, dict) and isinstance(f.get("properties"), dict):
            keys.update(f["properties"])
    mapping = {"lon": _LON, "lat": _LAT, **opts.mapping}
    convert = mapped_converter(
        sorted(keys),
        ReadOptions(**{**opts.__dict__, "mapping": mapping}),
        file,
        default_source="geojson",
        check_columns=False,
    )
    records: list[Incident] = []
    bad: list[tuple[int, Errs]] = []
    has_nul = "\\u0000" in text or "\x00" in text
    for i, feature in enumerate(features):
        errs: Errs = []
        point = _point(feature, errs)
        if point is not None:
            props = feature.get("properties") or {}
            if not isinstance(props, dict):
                errs.append(("properties", "must be an object"))
            else:
                cells = {k: _text(x) for k, x in props.items()}
                cells[_LON], cells[_LAT] = point
                if has_nul:  # PostgreSQL cannot store NUL
                    errs.extend((k, NUL_REASON) for k, c in cells.items() if c and "\x00" in c)
                inc = None if errs else convert(cells.get, errs)
                if inc is not None and not errs:
                    records.append(inc)
        if errs:
            bad.append((i, errs))
        if progress is not None and i % 4096 == 0:
            progress(int(size * i / max(1, len(features))), size)
    errors: list[RowError] = []
    if bad:
        lines = _feature_lines(text, len(features))
        for i, errs in bad:
            line = lines[i] if lines is not None else 1
            errors.extend(RowError(line, f"features[{i}].{f}", r) for f, r in errs)
    return records, errors, len(features)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return ";".join(value)
    return str(value)


def _props(inc: Incident) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in zip(EXPORT_COLUMNS, inc, strict=True):
        if name in ("lon", "lat"):
            continue
        if isinstance(value, datetime):
            out[name] = value.isoformat()
        elif isinstance(value, tuple):
            out[name] = list(value)
        else:
            out[name] = value
    return out


def _open_out(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "wb"), encoding="utf-8", newline="")
    return open(path, "w", encoding="utf-8", newline="")


def export_format(path: Path) -> str:
    """``"csv"`` or ``"geojson"`` from the file name (``.csv[.gz]``, ``.geojson``, ``.json``)."""
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    if name.endswith((".geojson", ".json", ".geojson.gz")):
        return "geojson"
    raise ValidationError(
        "unknown export format; use a .csv, .csv.gz or .geojson file name", file=str(path)
    )


def write_incidents(
    records: Iterable[Incident], path: str | Path, *, fmt: str | None = None
) -> int:
    """Write ``records`` as native CSV or GeoJSON (by ``fmt`` or the file suffix); returns count.

    Reading the file back with ``read_incidents(path, "csv")`` / ``"geojson"`` gives the same
    records (round trip).
    """
    path = Path(path)
    fmt = fmt or export_format(path)
    n = 0
    with _open_out(path) as out:
        if fmt == "csv":
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(EXPORT_COLUMNS)
            for inc in records:
                writer.writerow([_cell(x) for x in inc])
                n += 1
        elif fmt == "geojson":
            out.write('{"type": "FeatureCollection", "features": [\n')
            for inc in records:
                feature = {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [inc.lon, inc.lat]},
                    "properties": _props(inc),
                }
                out.write((",\n" if n else "") + json.dumps(feature, ensure_ascii=False))
                n += 1
            out.write("\n]}\n")
        else:
            raise ValidationError(f"unknown export format {fmt!r}", file=str(path))
    return n


def iter_chunks(records: Iterable[Incident], size: int) -> Iterator[list[Incident]]:
    """``records`` in lists of at most ``size``."""
    chunk: list[Incident] = []
    for inc in records:
        chunk.append(inc)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
