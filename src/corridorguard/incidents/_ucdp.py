"""UCDP GED CSV rows → incidents: a careful, error-collecting path and a fast path.

The fast path handles the common case with no per-field helpers and hands anything unusual to the
careful path, so both give the same records (``tests/incidents/test_incidents_ucdp.py`` checks
it on the whole GED Syria file).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from corridorguard.incidents import _values as v
from corridorguard.incidents._tabular import (
    Converter,
    Errs,
    ReadOptions,
    header_index,
    require_columns,
)
from corridorguard.incidents.model import Incident

__all__ = ["UCDP_TYPES", "ucdp_converter"]

#: UCDP ``type_of_violence`` codes.
UCDP_TYPES = {"1": "state-based", "2": "non-state", "3": "one-sided"}

_REQUIRED = ("id", "date_start", "latitude", "longitude", "type_of_violence")
_OPTIONAL = (
    "date_end",
    "date_prec",
    "where_prec",
    "best",
    "low",
    "high",
    "dyad_name",
    "where_coordinates",
    "country",
    "adm_1",
    "source_office",
    "source_date",
)
_T_RANGE, _W_RANGE = range(1, 6), range(1, 8)


def _reference(office: str, sdate: str) -> str | None:
    office, sdate = office.strip(), sdate.strip()
    return f"{office}, {sdate}" if office and sdate else (office or None)


def _careful(
    col: dict[str, int | None], opts: ReadOptions, cache: dict[str, datetime]
) -> Converter:
    source = opts.source or "ucdp"

    def convert(r: list[str], errs: Errs) -> Incident | None:
        def cell(name: str) -> str:
            i = col[name]
            return r[i] if i is not None else ""

        sid = v.req_text(cell("id"), "id", errs)
        t0 = v.iso_date(cell("date_start"), "date_start", errs, cache)
        end = cell("date_end")
        t1 = v.iso_date(end, "date_end", errs, cache) if end else None
        ll = v.lonlat(
            cell("longitude"), cell("latitude"), errs, lon_field="longitude", lat_field="latitude"
        )
        tp = v.code(cell("date_prec"), "date_prec", errs, _T_RANGE, 1)
        wp = v.code(cell("where_prec"), "where_prec", errs, _W_RANGE, 1)
        tov = cell("type_of_violence").strip()
        typ = UCDP_TYPES.get(tov)
        if typ is None:
            errs.append(("type_of_violence", f"{tov!r} not one of 1, 2, 3"))
        deaths = [v.opt_count(cell(n), n, errs) for n in ("best", "low", "high")]
        if t0 is not None and t1 is not None and t1 < t0:
            errs.append(("date_end", "before date_start"))
        if errs or ll is None or t0 is None or typ is None or tp is None or wp is None:
            return None
        return Incident(
            source=source,
            source_id=sid,
            time=t0,
            lon=ll[0],
            lat=ll[1],
            type=typ,
            time_end=t1,
            time_precision=tp,
            location_precision=wp,
            fatalities_best=deaths[0],
            fatalities_low=deaths[1],
            fatalities_high=deaths[2],
            target_category="civilians" if tov == "3" else None,
            description=cell("dyad_name").strip(),
            place=v.opt_text(cell("where_coordinates")),
            country=v.opt_text(cell("country")),
            admin1=v.opt_text(cell("adm_1")),
            reference=_reference(cell("source_office"), cell("source_date")),
            originator=opts.originator,
            tlp=opts.tlp,
            rel_to=opts.rel_to,
        )

    return convert


def _day_parser(cache: dict[str, datetime]) -> Callable[[str], datetime]:
    parse = datetime.fromisoformat

    def day(text: str) -> datetime:
        hit = cache.get(text)
        if hit is None:
            hit = parse(text)
            if hit.tzinfo is not None or len(cache) > 100_000:
                raise ValueError(text)  # let the careful path normalise it
            hit = cache[text] = hit.replace(tzinfo=UTC)
        return hit

    return day


def _count(text: str) -> int | None:
    if not text:
        return None
    n = int(text)
    if n < 0:
        raise ValueError(text)
    return n


def _fast(
    col: dict[str, int], opts: ReadOptions, cache: dict[str, datetime], careful: Converter
) -> Converter:
    i_id, i_ds, i_lat, i_lon, i_tov = (col[n] for n in _REQUIRED)
    i_de, i_dp, i_wp, i_best, i_low, i_high = (col[n] for n in _OPTIONAL[:6])
    i_dyad, i_where, i_country, i_adm1, i_office, i_sdate = (col[n] for n in _OPTIONAL[6:])
    source, tlp, orig, rel = opts.source or "ucdp", opts.tlp, opts.originator, opts.rel_to
    day, count, types = _day_parser(cache), _count, UCDP_TYPES

    def convert(r: list[str], errs: Errs) -> Incident | None:
        try:
            lon, lat = float(r[i_lon]), float(r[i_lat])
            if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0) or lon == lat == 0.0:
                raise ValueError("lon/lat")
            t0 = day(r[i_ds])
            t1 = day(r[i_de]) if r[i_de] else None
            if t1 is not None and t1 < t0:
                raise ValueError("date_end")
            tp = int(r[i_dp]) if r[i_dp] else 1
            wp = int(r[i_wp]) if r[i_wp] else 1
            if not (1 <= tp <= 5 and 1 <= wp <= 7):
                raise ValueError("precision")
            tov = r[i_tov]
            typ = types[tov]
            sid = r[i_id]
            if not sid or sid != sid.strip():
                raise ValueError("id")
            return Incident(
                source,
                sid,
                t0,
                lon,
                lat,
                typ,
                t1,
                tp,
                wp,
                None,
                count(r[i_best]),
                count(r[i_low]),
                count(r[i_high]),
                "civilians" if tov == "3" else None,
                r[i_dyad].strip(),
                r[i_where].strip() or None,
                r[i_country].strip() or None,
                r[i_adm1].strip() or None,
                _reference(r[i_office], r[i_sdate]),
                orig,
                tlp,
                rel,
            )
        except (ValueError, KeyError, OverflowError):
            return careful(r, errs)

    return convert


def ucdp_converter(
    header: list[str], opts: ReadOptions, file: str, *, fast_path: bool = True
) -> Converter:
    """UCDP GED CSV (``id``, ``date_start``, ``date_end``, ``latitude``, ``longitude``, ...).

    With every GED column present (and ``fast_path``), rows go through the fast path.
    """
    idx = header_index(header)
    require_columns(idx, list(_REQUIRED), file)
    col = {name: idx.get(name) for name in _REQUIRED + _OPTIONAL}
    cache: dict[str, datetime] = {}
    careful = _careful(col, opts, cache)
    present = {name: i for name, i in col.items() if i is not None}
    if not fast_path or len(present) < len(col):
        return careful
    return _fast(present, opts, cache, careful)
