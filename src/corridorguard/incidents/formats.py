"""Row converters for the CSV layouts of UCDP GED, GTD, ACLED and a generic mapped CSV.

Each ``*_converter(header, opts, file)`` checks the header and returns a function that turns one
row (a list of cells) into an :class:`~corridorguard.incidents.model.Incident`, or appends
``(field, reason)`` pairs to the error list. Field names in errors are the file's column names.
GTD and ACLED live here; UCDP (``_ucdp``) and the mapped generic CSV (``_mapped``) are
re-exported.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from corridorguard.incidents import _values as v
from corridorguard.incidents._mapped import (
    MAPPABLE_FIELDS,
    check_mapping,
    generic_csv_converter,
    mapped_converter,
)
from corridorguard.incidents._tabular import (
    Converter,
    Errs,
    ReadOptions,
    header_index,
    require_columns,
)
from corridorguard.incidents._ucdp import UCDP_TYPES, ucdp_converter
from corridorguard.incidents.model import Incident

__all__ = [
    "ACLED_GEO_PRECISION",
    "ACLED_TIME_PRECISION",
    "GTD_SPECIFICITY",
    "MAPPABLE_FIELDS",
    "UCDP_TYPES",
    "acled_converter",
    "check_mapping",
    "generic_csv_converter",
    "gtd_converter",
    "mapped_converter",
    "ucdp_converter",
]

#: GTD ``specificity`` → UCDP ``where_prec``.
GTD_SPECIFICITY = {1: 1, 2: 3, 3: 3, 4: 4, 5: 6}
#: ACLED ``geo_precision`` → UCDP ``where_prec``.
ACLED_GEO_PRECISION = {1: 1, 2: 2, 3: 4}
#: ACLED ``time_precision`` → UCDP ``date_prec``.
ACLED_TIME_PRECISION = {1: 1, 2: 3, 3: 4}


def _col(idx: dict[str, int], name: str) -> int | None:
    return idx.get(name)


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
