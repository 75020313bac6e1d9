"""Cursor-on-Target (CoT 2.0) XML for incidents, sites, sensors and planned patrol routes.

Event types (documented in ``docs/sharing.md``; TAK has no markings, so the TLP, originator and
REL-TO travel in ``detail/remarks`` text and a ``detail/__corridorguard`` element):

* incident: ``a-h-G`` (hostile, ground) at the incident place, ``how="h-e"`` (human, estimated);
* site: ``a-f-G-I`` (friendly ground installation), ``how="h-e"``;
* sensor placement: camera ``b-m-p-s-p-loc`` (sensor point) with a ``detail/sensor`` element
  (``azimuth``, ``fov``, ``range``) for the coverage cone TAK draws; drone ``a-f-A-M-H-Q``
  (friendly rotary-wing UAV); checkpoint ``a-f-G-I`` (installation);
* patrol route: ``b-m-r`` (route) whose ``detail`` lists ``link`` elements of type ``b-m-p-w``
  (waypoints) with ``point="lat,lon"``; the event point is the first waypoint.

Coordinates are WGS84; ``hae``, ``ce`` and ``le`` use the CoT "unknown" value 9999999.0.
Generation uses the standard library; anything *parsing* CoT must use :func:`parse_cot`
(``defusedxml``), never a plain XML parser.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # generation only
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import defusedxml.ElementTree as SafeET

from corridorguard.errors import ValidationError
from corridorguard.sharing.policy import Actor, releasable
from corridorguard.sharing.records import (
    IncidentRecord,
    RouteRecord,
    SensorRecord,
    SiteRecord,
    _MarkedRecord,
)

__all__ = [
    "INCIDENT_TYPE",
    "ROUTE_TYPE",
    "SENSOR_TYPES",
    "SITE_TYPE",
    "WAYPOINT_TYPE",
    "cot_events",
    "cot_incident",
    "cot_route",
    "cot_sensor",
    "cot_site",
    "parse_cot",
    "to_bytes",
]

SENSOR_TYPES = {"camera": "b-m-p-s-p-loc", "drone": "a-f-A-M-H-Q", "checkpoint": "a-f-G-I"}
INCIDENT_TYPE = "a-h-G"
SITE_TYPE = "a-f-G-I"
ROUTE_TYPE = "b-m-r"
WAYPOINT_TYPE = "b-m-p-w"
_UNKNOWN = "9999999.0"
_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _ts(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _event(
    uid: str, cot_type: str, lon: float, lat: float, *, now: datetime, stale: timedelta
) -> ET.Element:
    ev = ET.Element(
        "event",
        {
            "version": "2.0",
            "uid": uid,
            "type": cot_type,
            "how": "h-e",
            "time": _ts(now),
            "start": _ts(now),
            "stale": _ts(now + stale),
        },
    )
    ET.SubElement(
        ev,
        "point",
        {"lat": f"{lat:.7f}", "lon": f"{lon:.7f}", "hae": _UNKNOWN, "ce": _UNKNOWN, "le": _UNKNOWN},
    )
    return ev


def _detail(ev: ET.Element, rec: _MarkedRecord, callsign: str, remarks: str) -> ET.Element:
    d = ET.SubElement(ev, "detail")
    ET.SubElement(d, "contact", {"callsign": callsign})
    r = ET.SubElement(d, "remarks")
    rel = f" REL TO {', '.join(sorted(rec.rel_to))}" if rec.rel_to else ""
    r.text = f"TLP:{rec.tlp.value}{rel} | {rec.originator} | {remarks}".strip()
    ET.SubElement(
        d,
        "__corridorguard",
        {
            "tlp": rec.tlp.value,
            "originator": rec.originator,
            "rel_to": ",".join(sorted(rec.rel_to)),
        },
    )
    return d


def _now(now: datetime | None) -> datetime:
    return datetime.now(UTC) if now is None else now.astimezone(UTC)


def cot_incident(
    rec: IncidentRecord, *, now: datetime | None = None, stale: timedelta = timedelta(hours=6)
) -> ET.Element:
    """CoT event of an incident (the event ``time`` is now; the incident time is in remarks)."""
    t = _now(now)
    ev = _event(
        f"corridorguard.incident.{rec.id}", INCIDENT_TYPE, rec.lon, rec.lat, now=t, stale=stale
    )
    deaths = f", {rec.fatalities} killed" if rec.fatalities else ""
    remarks = f"{rec.type} at {_ts(rec.time)}{deaths} ({rec.source}). {rec.description}"
    _detail(ev, rec, f"{rec.type}-{rec.id}", remarks)
    return ev


def cot_site(
    rec: SiteRecord, *, now: datetime | None = None, stale: timedelta = timedelta(days=1)
) -> ET.Element:
    """CoT event of a protected site."""
    t = _now(now)
    ev = _event(f"corridorguard.site.{rec.id}", SITE_TYPE, rec.lon, rec.lat, now=t, stale=stale)
    _detail(ev, rec, rec.name, f"{rec.kind}. {rec.description}")
    return ev


def cot_sensor(
    rec: SensorRecord, *, now: datetime | None = None, stale: timedelta = timedelta(days=1)
) -> ET.Element:
    """CoT event of a sensor placement (camera cone in ``detail/sensor``)."""
    t = _now(now)
    cot_type = SENSOR_TYPES.get(rec.kind, "a-f-G-I")
    ev = _event(f"corridorguard.sensor.{rec.id}", cot_type, rec.lon, rec.lat, now=t, stale=stale)
    d = _detail(ev, rec, rec.name, f"{rec.kind}, {rec.status}")
    cone = {"azimuth": rec.azimuth_deg, "fov": rec.fov_deg, "range": rec.range_m}
    if any(v is not None for v in cone.values()):
        ET.SubElement(d, "sensor", {k: f"{v:g}" for k, v in cone.items() if v is not None})
    return ev


def cot_route(
    rec: RouteRecord, *, now: datetime | None = None, stale: timedelta = timedelta(days=1)
) -> ET.Element:
    """CoT ``b-m-r`` route with one ``link`` per waypoint."""
    t = _now(now)
    lon0, lat0 = rec.points[0]
    uid = f"corridorguard.route.{rec.id}"
    ev = _event(uid, ROUTE_TYPE, lon0, lat0, now=t, stale=stale)
    start = f" from {_ts(rec.start)}" if rec.start else ""
    d = _detail(ev, rec, rec.name, f"patrol {rec.callsign or ''}{start}".strip())
    for k, (lon, lat) in enumerate(rec.points):
        ET.SubElement(
            d,
            "link",
            {
                "uid": f"{uid}.wp{k}",
                "type": WAYPOINT_TYPE,
                "relation": "c",
                "callsign": f"{rec.name}-{k}",
                "point": f"{lat:.7f},{lon:.7f}",
            },
        )
    ET.SubElement(d, "link_attr", {"method": "Driving", "direction": "Infil", "type": "On Foot"})
    return ev


def to_bytes(ev: ET.Element) -> bytes:
    """One CoT event as UTF-8 XML with declaration (as pytak sends it)."""
    return _DECL + ET.tostring(ev, encoding="utf-8", xml_declaration=False)


def cot_events(
    actor: Actor | None,
    *,
    incidents: Iterable[IncidentRecord] = (),
    sites: Iterable[SiteRecord] = (),
    routes: Iterable[RouteRecord] = (),
    sensors: Iterable[SensorRecord] = (),
    to_org: str | None = None,
    now: datetime | None = None,
) -> list[bytes]:
    """CoT events (bytes) of the records ``actor`` may export (to ``to_org`` if given)."""
    out = [to_bytes(cot_incident(r, now=now)) for r in releasable(actor, incidents, to_org=to_org)]
    out += [to_bytes(cot_site(r, now=now)) for r in releasable(actor, sites, to_org=to_org)]
    out += [to_bytes(cot_route(r, now=now)) for r in releasable(actor, routes, to_org=to_org)]
    out += [to_bytes(cot_sensor(r, now=now)) for r in releasable(actor, sensors, to_org=to_org)]
    return out


def parse_cot(data: bytes) -> ET.Element:
    """Parse one untrusted CoT event safely (``defusedxml``)."""
    try:
        root = SafeET.fromstring(data)
    except (ET.ParseError, ValueError) as exc:
        raise ValidationError(f"not CoT XML: {exc}") from None
    if root.tag != "event":
        raise ValidationError("not a CoT event", field="event")
    return root
