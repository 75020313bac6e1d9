"""Row converters for the CSV layouts of UCDP GED, GTD, ACLED and a generic mapped CSV.

Each ``*_converter(header, opts, file)`` checks the header and returns a function that turns one
row (a list of cells) into an :class:`~corridorguard.incidents.model.Incident`, or appends
``(field, reason)`` pairs to the error list. Field names in errors are the file's column names.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

from corridorguard.errors import ConfigError, ImportRejected, RowError
from corridorguard.incidents import _values as v
from corridorguard.incidents._tabular import (
    Converter,
    Errs,
    ReadOptions,
    header_index,
    require_columns,
)
from corridorguard.incidents.model import Incident

__all__ = [
    "ACLED_GEO_PRECISION",
    "ACLED_TIME_PRECISION",
    "GTD_SPECIFICITY",
    "MAPPABLE_FIELDS",
    "UCDP_TYPES",
    "acled_converter",
    "gtd_converter",
    "mapped_converter",
    "ucdp_converter",
]

#: UCDP ``type_of_violence`` codes.
UCDP_TYPES = {"1": "state-based", "2": "non-state", "3": "one-sided"}
#: GTD ``specificity`` → UCDP ``where_prec``.
GTD_SPECIFICITY = {1: 1, 2: 3, 3: 3, 4: 4, 5: 6}
#: ACLED ``geo_precision`` → UCDP ``where_prec``.
ACLED_GEO_PRECISION = {1: 1, 2: 2, 3: 4}
#: ACLED ``time_precision`` → UCDP ``date_prec``.
ACLED_TIME_PRECISION = {1: 1, 2: 3, 3: 4}

#: Incident fields a generic CSV / GeoJSON mapping may name.
MAPPABLE_FIELDS = tuple(Incident._fields)
_MAPPING_OPTIONS = ("time_format", "defaults")


def _col(idx: dict[str, int], name: str) -> int | None:
    return idx.get(name)


def ucdp_converter(header: list[str], opts: ReadOptions, file: str) -> Converter:
    """UCDP GED CSV (``id``, ``date_start``, ``date_end``, ``latitude``, ``longitude``, ...)."""
    idx = header_index(header)
    require_columns(idx, ["id", "date_start", "latitude", "longitude", "type_of_violence"], file)
    i_id, i_ds, i_lat, i_lon, i_tov = (
        idx["id"],
        idx["date_start"],
        idx["latitude"],
        idx["longitude"],
        idx["type_of_violence"],
    )
    i_de, i_dp, i_wp = _col(idx, "date_end"), _col(idx, "date_prec"), _col(idx, "where_prec")
    i_best, i_low, i_high = _col(idx, "best"), _col(idx, "low"), _col(idx, "high")
    i_dyad, i_where = _col(idx, "dyad_name"), _col(idx, "where_coordinates")
    i_country, i_adm1 = _col(idx, "country"), _col(idx, "adm_1")
    i_office, i_sdate = _col(idx, "source_office"), _col(idx, "source_date")
    source, tlp, orig, rel = opts.source or "ucdp", opts.tlp, opts.originator, opts.rel_to
    cache: dict[str, datetime] = {}
    t_range, w_range = range(1, 6), range(1, 8)

    def convert(r: list[str], errs: Errs) -> Incident | None:
        sid = v.req_text(r[i_id], "id", errs)
        t0 = v.iso_date(r[i_ds], "date_start", errs, cache)
        t1 = v.iso_date(r[i_de], "date_end", errs, cache) if i_de is not None and r[i_de] else None
        ll = v.lonlat(r[i_lon], r[i_lat], errs, lon_field="longitude", lat_field="latitude")
        tp = v.code(r[i_dp], "date_prec", errs, t_range, 1) if i_dp is not None else 1
        wp = v.code(r[i_wp], "where_prec", errs, w_range, 1) if i_wp is not None else 1
        tov = r[i_tov].strip()
        typ = UCDP_TYPES.get(tov)
        if typ is None:
            errs.append(("type_of_violence", f"{tov!r} not one of 1, 2, 3"))
        best = v.opt_count(r[i_best], "best", errs) if i_best is not None else None
        low = v.opt_count(r[i_low], "low", errs) if i_low is not None else None
        high = v.opt_count(r[i_high], "high", errs) if i_high is not None else None
        if t0 is not None and t1 is not None and t1 < t0:
            errs.append(("date_end", "before date_start"))
        if errs or ll is None or t0 is None or typ is None or tp is None or wp is None:
            return None
        office = r[i_office].strip() if i_office is not None else ""
        sdate = r[i_sdate].strip() if i_sdate is not None else ""
        ref = f"{office}, {sdate}" if office and sdate else (office or None)
        return Incident(
            source,
            sid,
            t0,
            ll[0],
            ll[1],
            typ,
            t1,
            tp,
            wp,
            None,
            best,
            low,
            high,
            "civilians" if tov == "3" else None,
            r[i_dyad].strip() if i_dyad is not None else "",
            v.opt_text(r[i_where]) if i_where is not None else None,
            v.opt_text(r[i_country]) if i_country is not None else None,
            v.opt_text(r[i_adm1]) if i_adm1 is not None else None,
            ref,
            orig,
            tlp,
            rel,
        )

    return convert


def _gtd_date(
    r: list[str], idx: dict[str, int], errs: Errs
) -> tuple[datetime, datetime | None, int] | None:
    year = v.code(r[idx["iyear"]], "iyear", errs, range(1900, 2201), None)
    month = v.code(r[idx["imonth"]], "imonth", errs, range(0, 13), 0)
    day = v.code(r[idx["iday"]], "iday", errs, range(0, 32), 0)
    if year is None or month is None or day is None:
        return None
    if month == 0:
        start = datetime(year, 1, 1, tzinfo=UTC)
        return start, datetime(year, 12, 31, tzinfo=UTC), 5
    last = calendar.monthrange(year, month)[1]
    if day == 0:
        start = datetime(year, month, 1, tzinfo=UTC)
        return start, datetime(year, month, last, tzinfo=UTC), 4
    if day > last:
        errs.append(("iday", f"{day} is not a day of {year}-{month:02d}"))
        return None
    return datetime(year, month, day, tzinfo=UTC), None, 1


def gtd_converter(header: list[str], opts: ReadOptions, file: str) -> Converter:
    """GTD layout (``eventid``, ``iyear``/``imonth``/``iday`` with 0 = unknown, ...)."""
    idx = header_index(header)
    require_columns(idx, ["eventid", "iyear", "imonth", "iday", "latitude", "longitude"], file)
    source = opts.source or "gtd"
    g = {
        name: _col(idx, name)
        for name in (
            "attacktype1_txt",
            "targtype1_txt",
            "nkill",
            "summary",
            "specificity",
            "country_txt",
            "provstate",
            "city",
        )
    }

    def cell(r: list[str], name: str) -> str:
        i = g[name]
        return r[i] if i is not None else ""

    def convert(r: list[str], errs: Errs) -> Incident | None:
        sid = v.req_text(r[idx["eventid"]], "eventid", errs)
        when = _gtd_date(r, idx, errs)
        ll = v.lonlat(
            r[idx["longitude"]],
            r[idx["latitude"]],
            errs,
            lon_field="longitude",
            lat_field="latitude",
        )
        spec = v.code(cell(r, "specificity"), "specificity", errs, range(1, 6), 1)
        nkill = v.opt_count(cell(r, "nkill"), "nkill", errs)
        if errs or when is None or ll is None or spec is None:
            return None
        return Incident(
            source=source,
            source_id=sid,
            time=when[0],
            time_end=when[1],
            time_precision=when[2],
            lon=ll[0],
            lat=ll[1],
            location_precision=GTD_SPECIFICITY[spec],
            type=cell(r, "attacktype1_txt").strip() or "Unknown",
            fatalities_best=nkill,
            target_category=v.opt_text(cell(r, "targtype1_txt")),
            description=cell(r, "summary").strip(),
            place=v.opt_text(cell(r, "city")),
            country=v.opt_text(cell(r, "country_txt")),
            admin1=v.opt_text(cell(r, "provstate")),
            originator=opts.originator,
            tlp=opts.tlp,
            rel_to=opts.rel_to,
        )

    return convert


def _acled_date(s: str, errs: Errs, cache: dict[str, datetime]) -> datetime | None:
    hit = cache.get(s)
    if hit is not None:
        return hit
    text = s.strip()
    for fmt in ("%Y-%m-%d", "%d %B %Y", "%d-%B-%Y", "%d/%m/%Y"):
        try:
            value = datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        cache[s] = value
        return value
    errs.append(("event_date", "missing" if not text else f"not a date: {text[:40]!r}"))
    return None


def acled_converter(header: list[str], opts: ReadOptions, file: str) -> Converter:
    """ACLED layout (``event_id_cnty``, ``event_date``, ``event_type``, ...)."""
    idx = header_index(header)
    require_columns(
        idx, ["event_id_cnty", "event_date", "event_type", "latitude", "longitude"], file
    )
    source = opts.source or "acled"
    cache: dict[str, datetime] = {}
    names = (
        "sub_event_type",
        "fatalities",
        "geo_precision",
        "time_precision",
        "notes",
        "country",
        "admin1",
        "location",
        "source",
        "civilian_targeting",
    )
    g = {name: _col(idx, name) for name in names}

    def cell(r: list[str], name: str) -> str:
        i = g[name]
        return r[i] if i is not None else ""

    def convert(r: list[str], errs: Errs) -> Incident | None:
        sid = v.req_text(r[idx["event_id_cnty"]], "event_id_cnty", errs)
        when = _acled_date(r[idx["event_date"]], errs, cache)
        typ = v.req_text(r[idx["event_type"]], "event_type", errs)
        ll = v.lonlat(
            r[idx["longitude"]],
            r[idx["latitude"]],
            errs,
            lon_field="longitude",
            lat_field="latitude",
        )
        gp = v.code(cell(r, "geo_precision"), "geo_precision", errs, range(1, 4), 1)
        tp = v.code(cell(r, "time_precision"), "time_precision", errs, range(1, 4), 1)
        deaths = v.opt_count(cell(r, "fatalities"), "fatalities", errs)
        if errs or when is None or ll is None or gp is None or tp is None:
            return None
        return Incident(
            source=source,
            source_id=sid,
            time=when,
            lon=ll[0],
            lat=ll[1],
            type=typ,
            time_precision=ACLED_TIME_PRECISION[tp],
            location_precision=ACLED_GEO_PRECISION[gp],
            subtype=v.opt_text(cell(r, "sub_event_type")),
            fatalities_best=deaths,
            target_category="civilians" if cell(r, "civilian_targeting").strip() else None,
            description=cell(r, "notes").strip(),
            place=v.opt_text(cell(r, "location")),
            country=v.opt_text(cell(r, "country")),
            admin1=v.opt_text(cell(r, "admin1")),
            reference=v.opt_text(cell(r, "source")),
            originator=opts.originator,
            tlp=opts.tlp,
            rel_to=opts.rel_to,
        )

    return convert


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


Lookup = Callable[[str], str | None]


def mapped_converter(
    columns: list[str], opts: ReadOptions, file: str, *, default_source: str
) -> Callable[[Lookup, Errs], Incident | None]:
    """Generic converter over a mapping ``field -> column`` (identity for unmapped fields).

    Returns ``convert(lookup, errs)`` where ``lookup(column)`` gives a cell's text or ``None``.
    """
    mapping = check_mapping(dict(opts.mapping))
    defaults: dict[str, object] = dict(mapping.get("defaults", {}))  # type: ignore[call-overload]
    fmt = mapping.get("time_format")
    present = {c.strip() for c in columns}
    col: dict[str, str | None] = {}
    for name in MAPPABLE_FIELDS:
        wanted = mapping.get(name, name)
        assert isinstance(wanted, str)
        col[name] = wanted if wanted in present else None
    need = [
        col_name
        for f in ("time", "lon", "lat")
        if (col_name := str(mapping.get(f, f))) not in present
    ]
    if need and columns:
        raise ImportRejected(file, [RowError(1, n, "required column missing") for n in need])
    cache: dict[str, datetime] = {}

    def date(text: str, field: str, errs: Errs) -> datetime | None:
        if isinstance(fmt, str):
            return v.formatted_date(text, fmt, field, errs, cache)
        return v.iso_date(text, field, errs, cache)

    def convert(get: Lookup, errs: Errs) -> Incident | None:
        def cell(name: str) -> str | None:
            c = col[name]
            raw = get(c) if c is not None else None
            if (raw is None or raw == "") and name in defaults:
                return str(defaults[name])
            return raw

        t0 = date(cell("time") or "", _name(col, "time"), errs)
        end_text = cell("time_end")
        t1 = date(end_text, _name(col, "time_end"), errs) if end_text else None
        ll = v.lonlat(
            cell("lon") or "",
            cell("lat") or "",
            errs,
            lon_field=_name(col, "lon"),
            lat_field=_name(col, "lat"),
        )
        tp = v.code(cell("time_precision"), _name(col, "time_precision"), errs, range(1, 6), 1)
        lp = v.code(
            cell("location_precision"), _name(col, "location_precision"), errs, range(1, 8), 1
        )
        counts = {
            f: v.opt_count(cell(f), _name(col, f), errs)
            for f in ("fatalities_best", "fatalities_low", "fatalities_high")
        }
        marking = v.tlp(cell("tlp"), _name(col, "tlp"), errs, opts.tlp)
        if t0 is not None and t1 is not None and t1 < t0:
            errs.append((_name(col, "time_end"), "before time"))
        if errs or t0 is None or ll is None or tp is None or lp is None:
            return None
        sid = (cell("source_id") or "").strip() or _row_hash(
            t0, ll, cell("type"), cell("description")
        )
        return Incident(
            source=(cell("source") or "").strip() or opts.source or default_source,
            source_id=sid,
            time=t0,
            time_end=t1,
            time_precision=tp,
            lon=ll[0],
            lat=ll[1],
            location_precision=lp,
            type=(cell("type") or "").strip() or "unknown",
            subtype=v.opt_text(cell("subtype")),
            target_category=v.opt_text(cell("target_category")),
            description=cell("description") or "",
            place=v.opt_text(cell("place")),
            country=v.opt_text(cell("country")),
            admin1=v.opt_text(cell("admin1")),
            reference=v.opt_text(cell("reference")),
            originator=v.opt_text(cell("originator")) or opts.originator,
            tlp=marking,
            rel_to=v.rel_to(cell("rel_to"), opts.rel_to),
            **counts,
        )

    return convert


def _name(col: dict[str, str | None], field: str) -> str:
    return col.get(field) or field


def _row_hash(t0: datetime, ll: tuple[float, float], typ: str | None, desc: str | None) -> str:
    """A stable id for rows without one: re-importing the same row gives the same id."""
    text = "\x1f".join([t0.isoformat(), repr(ll[0]), repr(ll[1]), typ or "", desc or ""])
    return "sha1:" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


def generic_csv_converter(header: list[str], opts: ReadOptions, file: str) -> Converter:
    """Generic CSV: columns named by ``opts.mapping`` (default: the native export columns)."""
    names = [h.strip() for h in header]
    pos = {n: i for i, n in reversed(list(enumerate(names)))}
    inner = mapped_converter(names, opts, file, default_source="csv")

    def convert(r: list[str], errs: Errs) -> Incident | None:
        def get(column: str) -> str | None:
            i = pos.get(column)
            return r[i] if i is not None else None

        return inner(get, errs)

    return convert
