"""Cell parsers shared by the importers.

Each parser takes the raw text, the field name used in error reports and an error list; it returns
the parsed value, or ``None`` after appending ``(field, reason)`` to ``errs``. Rows therefore report
every bad field, not just the first.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from corridorguard.incidents.model import TLP_LEVELS

Errs = list[tuple[str, str]]


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def req_text(s: str, field: str, errs: Errs) -> str:
    """A non-empty string (stripped)."""
    s = s.strip()
    if not s:
        errs.append((field, "missing"))
    return s


NUL_REASON = "contains a NUL character"


def opt_text(s: str | None) -> str | None:
    """A stripped string or ``None`` when empty."""
    if s is None:
        return None
    s = s.strip()
    return s or None


def req_float(s: str, field: str, errs: Errs) -> float | None:
    """A finite float."""
    if not s or not s.strip():
        errs.append((field, "missing"))
        return None
    try:
        value = float(s)
    except ValueError:
        errs.append((field, f"not a number: {_short(s)}"))
        return None
    if not math.isfinite(value):
        errs.append((field, f"not a finite number: {_short(s)}"))
        return None
    return value


def opt_count(s: str | None, field: str, errs: Errs) -> int | None:
    """A non-negative whole number (``"3"`` or ``"3.0"``), ``None`` when empty."""
    if s is None:
        return None
    s = s.strip()
    if not s:
        return None
    try:
        value = int(s)
    except ValueError:
        try:
            f = float(s)
        except ValueError:
            errs.append((field, f"not a number: {_short(s)}"))
            return None
        if not f.is_integer():
            errs.append((field, f"not a whole number: {_short(s)}"))
            return None
        value = int(f)
    if value < 0:
        errs.append((field, f"{value} is negative"))
        return None
    return value


def code(s: str | None, field: str, errs: Errs, allowed: range, default: int | None) -> int | None:
    """An integer code within ``allowed``; ``default`` when empty (error if no default)."""
    if s is None or not s.strip():
        if default is None:
            errs.append((field, "missing"))
        return default
    try:
        value = int(float(s))
    except ValueError:
        errs.append((field, f"not a number: {_short(s)}"))
        return None
    if value not in allowed:
        errs.append((field, f"{value} not in {allowed.start}..{allowed.stop - 1}"))
        return None
    return value


def lonlat(
    lon_s: str, lat_s: str, errs: Errs, *, lon_field: str, lat_field: str
) -> tuple[float, float] | None:
    """Longitude and latitude in range; names the likely cause when they look swapped."""
    n = len(errs)
    lon = req_float(lon_s, lon_field, errs)
    lat = req_float(lat_s, lat_field, errs)
    if lon is None or lat is None:
        return None
    swapped = abs(lat) > 90.0 and abs(lat) <= 180.0 and abs(lon) <= 90.0
    hint = " (longitude and latitude look swapped)" if swapped else ""
    if not -180.0 <= lon <= 180.0:
        errs.append((lon_field, f"{lon} out of range [-180, 180]"))
    if not -90.0 <= lat <= 90.0:
        errs.append((lat_field, f"{lat} out of range [-90, 90]{hint}"))
    if lon == 0.0 and lat == 0.0:
        errs.append((lat_field, "0,0 looks like a missing location"))
    if len(errs) > n:
        return None
    return lon, lat


def iso_date(s: str, field: str, errs: Errs, cache: dict[str, datetime]) -> datetime | None:
    """An ISO-8601 date or date-time; naive values are UTC. ``cache`` speeds repeated dates."""
    return formatted_date(s, None, field, errs, cache)


def formatted_date(
    s: str, fmt: str | None, field: str, errs: Errs, cache: dict[str, datetime]
) -> datetime | None:
    """A date in ``strptime`` format ``fmt`` (ISO-8601 when ``None``); naive values are UTC.

    ``cache`` maps raw text to parsed values (callers keep one cache per format)."""
    hit = cache.get(s)
    if hit is not None:
        return hit
    text = s.strip()
    if not text:
        errs.append((field, "missing"))
        return None
    try:
        value = datetime.fromisoformat(text) if fmt is None else datetime.strptime(text, fmt)
    except ValueError:
        why = "not an ISO-8601 date" if fmt is None else f"does not match {fmt!r}"
        errs.append((field, f"{why}: {_short(s)}"))
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if len(cache) < 100_000:
        cache[s] = value
    return value


def tlp(s: str | None, field: str, errs: Errs, default: str) -> str:
    """A TLP 2.0 marking (case-insensitive, ``TLP:`` prefix allowed)."""
    if s is None or not s.strip():
        return default
    value = s.strip().upper()
    value = value.removeprefix("TLP:")
    if value not in TLP_LEVELS:
        errs.append((field, f"{_short(s)} not one of {', '.join(TLP_LEVELS)}"))
        return default
    return value


def rel_to(s: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """A REL-TO list written as names separated by ``;`` (or ``|``)."""
    if s is None or not s.strip():
        return default
    parts = s.replace("|", ";").split(";")
    return tuple(p.strip() for p in parts if p.strip())
