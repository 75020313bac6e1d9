"""The normalised incident record shared by every importer, the store and the risk engine.

An :class:`Incident` is one reported event (an attack, a clash, a crime) at a point in space and
time, with the precision of both, and the releasability marking under which it may be shared.

Precision scales
----------------
``time_precision`` uses the UCDP GED ``date_prec`` scale for every source:

=====  ==========================================================
value  meaning
=====  ==========================================================
1      exact date (day) known
2      within 2–6 days
3      only the week is known
4      within 8–30 days, or only the month is known
5      more than a month, up to a calendar year
=====  ==========================================================

``location_precision`` uses the UCDP GED ``where_prec`` scale for every source:

=====  ==========================================================
value  meaning
=====  ==========================================================
1      exact location
2      within about 25 km of a known point ("near X")
3      only the second-order administrative unit (district)
4      only the first-order administrative unit (province)
5      a larger non-administrative area or a linear feature (road)
6      only the country
7      international waters or airspace
=====  ==========================================================

GTD and ACLED precision codes are mapped onto these scales by the importers (see
``docs/incidents.md``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

__all__ = [
    "FORMATS",
    "LOCATION_PRECISION",
    "TIME_PRECISION",
    "TLP_LEVELS",
    "Incident",
    "check_incident",
]

#: TLP 2.0 markings, from least to most restrictive.
TLP_LEVELS: tuple[str, ...] = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")

#: Input formats understood by :func:`corridorguard.incidents.read_incidents`.
FORMATS: tuple[str, ...] = ("ucdp", "gtd", "acled", "csv", "geojson")

TIME_PRECISION: dict[int, str] = {
    1: "exact day",
    2: "within 2-6 days",
    3: "week",
    4: "within 8-30 days or month",
    5: "more than a month, up to a year",
}

LOCATION_PRECISION: dict[int, str] = {
    1: "exact location",
    2: "within about 25 km",
    3: "second-order administrative unit",
    4: "first-order administrative unit",
    5: "larger area or linear feature",
    6: "country",
    7: "international waters or airspace",
}


class Incident(NamedTuple):
    """One reported event, normalised.

    Immutable (a named tuple); derive a changed copy with ``incident._replace(field=value)``.

    Attributes
    ----------
    source
        Short dataset name, e.g. ``"ucdp"``, ``"gtd"``, ``"acled"``, ``"cpec"``.
    source_id
        The event's id within ``source``; ``(source, source_id)`` is unique in the store.
    time
        Start of the event, timezone-aware UTC.
    lon, lat
        WGS84 decimal degrees (GeoJSON order).
    type
        Event type in the source's vocabulary (UCDP ``state-based`` / ``non-state`` /
        ``one-sided``; GTD attack type; ACLED event type).
    time_end
        Latest possible time of the event (UTC), when the source gives a range.
    time_precision, location_precision
        On the UCDP ``date_prec`` / ``where_prec`` scales (see the module docstring).
    subtype
        Finer type (ACLED ``sub_event_type``), when known.
    fatalities_best, fatalities_low, fatalities_high
        Reported deaths; ``None`` when unknown. Sources may violate ``low <= best <= high``
        (UCDP does for ~0.6% of rows); they are kept as reported.
    target_category
        What was attacked (GTD target type, e.g. ``"Business"``), when known.
    description
        Free text in the source's words (summary, notes).
    place, country, admin1
        Place name, country and first-order administrative unit, when known.
    reference
        Public source of the report (publisher and date), when known.
    originator
        Organisation that reported or owns the record (``None`` for public datasets).
    tlp
        TLP 2.0 marking, one of :data:`TLP_LEVELS`.
    rel_to
        REL-TO list: organisation names the record may be released to.
    """

    source: str
    source_id: str
    time: datetime
    lon: float
    lat: float
    type: str
    time_end: datetime | None = None
    time_precision: int = 1
    location_precision: int = 1
    subtype: str | None = None
    fatalities_best: int | None = None
    fatalities_low: int | None = None
    fatalities_high: int | None = None
    target_category: str | None = None
    description: str = ""
    place: str | None = None
    country: str | None = None
    admin1: str | None = None
    reference: str | None = None
    originator: str | None = None
    tlp: str = "CLEAR"
    rel_to: tuple[str, ...] = ()


def check_incident(inc: Incident) -> list[tuple[str, str]]:
    """Every rule ``inc`` breaks, as ``(field, reason)`` pairs (empty when valid).

    The importers check the same rules while parsing; this is for records built in code.
    """
    bad: list[tuple[str, str]] = []
    if not inc.source:
        bad.append(("source", "empty"))
    if not inc.source_id:
        bad.append(("source_id", "empty"))
    if not isinstance(inc.time, datetime) or inc.time.tzinfo is None:
        bad.append(("time", "must be a timezone-aware datetime"))
    if inc.time_end is not None:
        if not isinstance(inc.time_end, datetime) or inc.time_end.tzinfo is None:
            bad.append(("time_end", "must be a timezone-aware datetime"))
        elif isinstance(inc.time, datetime) and inc.time.tzinfo and inc.time_end < inc.time:
            bad.append(("time_end", "before time"))
    if not -180.0 <= inc.lon <= 180.0:
        bad.append(("lon", f"{inc.lon} out of range [-180, 180]"))
    if not -90.0 <= inc.lat <= 90.0:
        bad.append(("lat", f"{inc.lat} out of range [-90, 90]"))
    if inc.time_precision not in TIME_PRECISION:
        bad.append(("time_precision", f"{inc.time_precision} not in 1..5"))
    if inc.location_precision not in LOCATION_PRECISION:
        bad.append(("location_precision", f"{inc.location_precision} not in 1..7"))
    if not inc.type:
        bad.append(("type", "empty"))
    for name in ("fatalities_best", "fatalities_low", "fatalities_high"):
        value = getattr(inc, name)
        if value is not None and value < 0:
            bad.append((name, f"{value} is negative"))
    if inc.tlp not in TLP_LEVELS:
        bad.append(("tlp", f"{inc.tlp!r} not one of {', '.join(TLP_LEVELS)}"))
    return bad


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
