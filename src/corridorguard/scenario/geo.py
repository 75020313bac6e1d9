"""Small geodesy helpers for the scenario layer: great-circle distance and circuity factors.

A schematic road segment between two towns has no surveyed length. We estimate it as the
great-circle (haversine) distance times a *circuity factor* for the terrain the road crosses:
roads wind more in mountains than on plains. The defaults and their reasoning are documented in
``docs/scenario.md``; a scenario records the factors it used in ``Scenario.circuity``.
"""

from __future__ import annotations

import math

__all__ = [
    "DEFAULT_CIRCUITY",
    "DEFAULT_SPEED_KMH",
    "EARTH_RADIUS_M",
    "haversine_m",
    "schematic_length_m",
]

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), metres."""

DEFAULT_CIRCUITY: dict[str, float] = {
    "plain": 1.15,
    "desert": 1.2,
    "coastal": 1.2,
    "hill": 1.3,
    "mountain": 1.5,
}
"""Road distance ÷ great-circle distance, per terrain class (see ``docs/scenario.md``)."""

DEFAULT_SPEED_KMH: dict[str, dict[str, float]] = {
    # road class -> terrain -> free-flow speed (km/h), for heavy convoy-like traffic.
    "motorway": {"plain": 110, "desert": 100, "coastal": 100, "hill": 90, "mountain": 70},
    "expressway": {"plain": 90, "desert": 90, "coastal": 80, "hill": 70, "mountain": 60},
    "national_highway": {"plain": 70, "desert": 70, "coastal": 70, "hill": 50, "mountain": 35},
    "provincial": {"plain": 55, "desert": 50, "coastal": 50, "hill": 40, "mountain": 30},
    "local": {"plain": 40, "desert": 35, "coastal": 35, "hill": 30, "mountain": 25},
}
"""Free-flow speed by road class and terrain (schematic planning values, not measured)."""


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS84 points (spherical Earth)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def schematic_length_m(
    lon1: float,
    lat1: float,
    lon2: float,
    lat2: float,
    terrain: str,
    *,
    circuity: dict[str, float] | None = None,
) -> float:
    """Great-circle distance × the circuity factor of ``terrain``, rounded to the metre."""
    factors = DEFAULT_CIRCUITY if circuity is None else circuity
    return float(round(haversine_m(lon1, lat1, lon2, lat2) * factors[terrain]))
