"""Generic CSV and GeoJSON rows → incidents, through a column mapping.

A mapping names, for each incident field, the column (or GeoJSON property) holding it; unmapped
fields use their own name when such a column exists. Options: ``time_format`` (``strptime``;
default ISO-8601) and ``defaults`` (``{field: value}`` for missing or empty cells).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from corridorguard.errors import ConfigError, ImportRejected, RowError
from corridorguard.incidents import _values as v
from corridorguard.incidents._tabular import Converter, Errs, ReadOptions
from corridorguard.incidents.model import Incident

__all__ = [
    "MAPPABLE_FIELDS",
    "Lookup",
    "check_mapping",
    "generic_csv_converter",
    "mapped_converter",
]

#: Incident fields a generic CSV / GeoJSON mapping may name.
MAPPABLE_FIELDS = tuple(Incident._fields)
_MAPPING_OPTIONS = ("time_format", "defaults")
_COUNTS = ("fatalities_best", "fatalities_low", "fatalities_high")

#: ``lookup(column)``: a cell's text, or ``None`` when the row has no such column.
Lookup = Callable[[str], str | None]


def check_mapping(mapping: dict[str, object]) -> dict[str, object]:
    """Validate a generic CSV / GeoJSON mapping (``{field: column, "time_format": ..., "defaults":
    {field: value}}``); raises :class:`ConfigError` naming the bad key."""
    for key, value in mapping.items():
        if key in _MAPPING_OPTIONS:
            continue
        if key not in MAPPABLE_FIELDS:
            raise ConfigError(
                f"unknown incident field {key!r}; known: {', '.join(MAPPABLE_FIELDS)}",
                field=f"mapping.{key}",
            )
        if not isinstance(value, str):
            raise ConfigError("column name must be a string", field=f"mapping.{key}")
    defaults = mapping.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ConfigError("must be an object {field: value}", field="mapping.defaults")
    for key in defaults:
        if key not in MAPPABLE_FIELDS:
            raise ConfigError(f"unknown incident field {key!r}", field=f"mapping.defaults.{key}")
    fmt = mapping.get("time_format")
    if fmt is not None and not isinstance(fmt, str):
        raise ConfigError("must be a strptime format string", field="mapping.time_format")
    return mapping


def _row_hash(t0: datetime, ll: tuple[float, float], typ: str | None, desc: str | None) -> str:
    """A stable id for rows without one: re-importing the same row gives the same id."""
    text = "\x1f".join([t0.isoformat(), repr(ll[0]), repr(ll[1]), typ or "", desc or ""])
    return "sha1:" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


class _MappedRow:
    """Converts one row, seen through ``lookup``, with a checked mapping."""

    def __init__(self, present: set[str], opts: ReadOptions, default_source: str) -> None:
        mapping = check_mapping(dict(opts.mapping))
        self.opts, self.default_source = opts, default_source
        self.defaults: dict[str, object] = dict(mapping.get("defaults", {}))  # type: ignore[call-overload]
        fmt = mapping.get("time_format")
        self.fmt = fmt if isinstance(fmt, str) else None
        self.col: dict[str, str | None] = {}
        self.name: dict[str, str] = {}
        for field in MAPPABLE_FIELDS:
            wanted = str(mapping.get(field, field))
            self.col[field] = wanted if wanted in present else None
            self.name[field] = wanted  # errors name the file's column
        self.cache: dict[str, datetime] = {}
        #: ``(field, column)`` for the fields the file has; ``(field, text)`` defaults.
        self.mapped = [(f, c) for f, c in self.col.items() if c is not None]
        self.fill = [(f, str(x)) for f, x in self.defaults.items()]

    def _date(self, text: str, field: str, errs: Errs) -> datetime | None:
        return v.formatted_date(text, self.fmt, self.name[field], errs, self.cache)

    def __call__(self, get: Lookup, errs: Errs) -> Incident | None:
        """Convert the row whose cells ``get(column)`` returns."""
        return self.convert({f: get(c) for f, c in self.mapped}, errs)

    def convert(self, cells: dict[str, str | None], errs: Errs) -> Incident | None:
        """Convert a row given as ``{incident_field: cell text}`` (unmapped fields absent)."""
        for f, value in self.fill:
            if not cells.get(f):
                cells[f] = value
        cell = cells.get
        name = self.name
        t0 = self._date(cell("time") or "", "time", errs)
        end = cell("time_end")
        t1 = self._date(end, "time_end", errs) if end else None
        ll = v.lonlat(
            cell("lon") or "", cell("lat") or "", errs, lon_field=name["lon"], lat_field=name["lat"]
        )
        tp = v.code(cell("time_precision"), name["time_precision"], errs, range(1, 6), 1)
        lp = v.code(cell("location_precision"), name["location_precision"], errs, range(1, 8), 1)
        best, low, high = (v.opt_count(cell(f), name[f], errs) for f in _COUNTS)
        marking = v.tlp(cell("tlp"), name["tlp"], errs, self.opts.tlp)
        if t0 is not None and t1 is not None and t1 < t0:
            errs.append((name["time_end"], "before time"))
        if errs or t0 is None or ll is None or tp is None or lp is None:
            return None
        text = {f: v.opt_text(cell(f)) for f in _TEXT}
        sid = text["source_id"] or _row_hash(t0, ll, cell("type"), cell("description"))
        return Incident(
            source=text["source"] or self.opts.source or self.default_source,
            source_id=sid,
            time=t0,
            time_end=t1,
            time_precision=tp,
            lon=ll[0],
            lat=ll[1],
            location_precision=lp,
            type=text["type"] or "unknown",
            description=cell("description") or "",
            originator=text["originator"] or self.opts.originator,
            tlp=marking,
            rel_to=v.rel_to(cell("rel_to"), self.opts.rel_to),
            fatalities_best=best,
            fatalities_low=low,
            fatalities_high=high,
            subtype=text["subtype"],
            target_category=text["target_category"],
            place=text["place"],
            country=text["country"],
            admin1=text["admin1"],
            reference=text["reference"],
        )


_PLAIN_TEXT = ("subtype", "target_category", "place", "country", "admin1", "reference")
_TEXT = ("source", "source_id", "type", "originator", *_PLAIN_TEXT)


def mapped_converter(
    columns: list[str],
    opts: ReadOptions,
    file: str,
    *,
    default_source: str,
    check_columns: bool = True,
) -> _MappedRow:
    """Generic converter over a mapping ``field -> column`` (identity for unmapped fields).

    Returns ``convert(lookup, errs)``. With ``check_columns``, a file lacking the ``time``,
    ``lon`` or ``lat`` column is rejected on line 1.
    """
    present = {c.strip() for c in columns}
    row = _MappedRow(present, opts, default_source)
    need = [row.name[f] for f in ("time", "lon", "lat") if row.col[f] is None]
    if need and check_columns:
        raise ImportRejected(file, [RowError(1, n, "required column missing") for n in need])
    return row


def generic_csv_converter(header: list[str], opts: ReadOptions, file: str) -> Converter:
    """Generic CSV: columns named by ``opts.mapping`` (default: the native export columns)."""
    names = [h.strip() for h in header]
    pos = {n: i for i, n in reversed(list(enumerate(names)))}
    inner = mapped_converter(names, opts, file, default_source="csv")
    where = [(f, pos[c]) for f, c in inner.mapped]
    convert = inner.convert

    def row(r: list[str], errs: Errs) -> Incident | None:
        return convert({f: r[i] for f, i in where}, errs)

    return row
