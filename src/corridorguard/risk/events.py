"""Event input for the risk engine: plain arrays, never the store.

An :class:`Events` holds WGS84 lon/lat, UTC times (float seconds since the Unix epoch), a weight per
event and, optionally, the location and date precision codes of the source dataset (UCDP
``where_prec``/``date_prec``; GTD ``specificity``; ACLED ``geo_precision``/``time_precision``).
Events are kept sorted by time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from corridorguard.errors import ValidationError

__all__ = [
    "DAY",
    "Events",
    "PrecisionPolicy",
    "apply_precision",
    "events_from_records",
    "to_seconds",
]

DAY = 86400.0
"""Seconds per day."""

FloatArray = NDArray[np.float64]


def to_seconds(value: Any) -> float:
    """A datetime / date / ISO string / datetime64 / number as UTC seconds since the epoch.

    Naive datetimes are taken as UTC.
    """
    if isinstance(value, int | float | np.floating | np.integer):
        return float(value)
    if isinstance(value, np.datetime64):
        return float(value.astype("datetime64[ms]").astype(np.int64)) / 1000.0
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationError(f"not an ISO date/time: {value!r}") from exc
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    raise ValidationError(f"cannot read a time from {value!r}")


def _times(t: ArrayLike | Sequence[Any]) -> FloatArray:
    arr = np.asarray(t)
    if np.issubdtype(arr.dtype, np.datetime64):
        return arr.astype("datetime64[ms]").astype(np.int64).astype(np.float64) / 1000.0
    if np.issubdtype(arr.dtype, np.number):
        return arr.astype(np.float64)
    return np.array([to_seconds(v) for v in arr.ravel()], dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Events:
    """Point events (sorted by time).

    Attributes
    ----------
    lon, lat
        WGS84 degrees.
    t
        UTC seconds since 1970-01-01.
    weight
        Non-negative weight per event (1 by default; imprecise events may be down-weighted).
    where_prec, date_prec
        Optional integer precision codes (1 = exact; larger = coarser; 0 = unknown).
    """

    lon: FloatArray
    lat: FloatArray
    t: FloatArray
    weight: FloatArray
    where_prec: NDArray[np.int64] | None = None
    date_prec: NDArray[np.int64] | None = None

    @classmethod
    def from_arrays(
        cls,
        lon: ArrayLike,
        lat: ArrayLike,
        t: ArrayLike | Sequence[Any],
        *,
        weight: ArrayLike | None = None,
        where_prec: ArrayLike | None = None,
        date_prec: ArrayLike | None = None,
    ) -> Events:
        """Validate, convert and sort by time. Raises :class:`ValidationError` on bad input."""
        lo = np.asarray(lon, dtype=np.float64).ravel()
        la = np.asarray(lat, dtype=np.float64).ravel()
        tt = _times(t).ravel()
        n = lo.size
        w = np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64).ravel()
        wp = None if where_prec is None else np.asarray(where_prec, dtype=np.int64).ravel()
        dp = None if date_prec is None else np.asarray(date_prec, dtype=np.int64).ravel()
        for name, arr in (
            ("lat", la),
            ("t", tt),
            ("weight", w),
            ("where_prec", wp),
            ("date_prec", dp),
        ):
            if arr is not None and arr.size != n:
                raise ValidationError(f"{arr.size} values but {n} longitudes", field=name)
        _check_finite_range(lo, -180, 180, "lon")
        _check_finite_range(la, -90, 90, "lat")
        _check_finite_range(tt, -np.inf, np.inf, "t")
        _check_finite_range(w, 0, np.inf, "weight")
        order = np.argsort(tt, kind="stable")
        return cls(
            lo[order],
            la[order],
            tt[order],
            w[order],
            None if wp is None else wp[order],
            None if dp is None else dp[order],
        )

    def __len__(self) -> int:
        return int(self.t.size)

    def select(self, keep: NDArray[np.bool_] | NDArray[np.int64]) -> Events:
        """The events picked by a boolean mask or index array (order kept)."""
        return Events(
            self.lon[keep],
            self.lat[keep],
            self.t[keep],
            self.weight[keep],
            None if self.where_prec is None else self.where_prec[keep],
            None if self.date_prec is None else self.date_prec[keep],
        )

    def before(self, t: float) -> Events:
        """Events strictly before ``t`` (UTC seconds)."""
        return self.select(np.arange(int(np.searchsorted(self.t, t, side="left"))))

    def between(self, t0: float, t1: float) -> Events:
        """Events with ``t0 <= t < t1``."""
        i0 = int(np.searchsorted(self.t, t0, side="left"))
        i1 = int(np.searchsorted(self.t, t1, side="left"))
        return self.select(np.arange(i0, i1))

    def reweighted(self, weight: FloatArray) -> Events:
        return Events(self.lon, self.lat, self.t, weight, self.where_prec, self.date_prec)


def _check_finite_range(arr: FloatArray, lo: float, hi: float, name: str) -> None:
    bad = ~np.isfinite(arr) | (arr < lo) | (arr > hi)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"{int(bad.sum())} bad value(s), first at index {i}: {arr[i]!r} "
            f"(need finite, in [{lo}, {hi}])",
            field=name,
        )


@dataclass(frozen=True)
class PrecisionPolicy:
    """What to do with imprecisely located or dated events.

    An event is imprecise when ``where_prec > max_where_prec`` or ``date_prec > max_date_prec``
    (codes of 0 mean unknown and count as precise). ``mode="drop"`` removes such events,
    ``"downweight"`` multiplies their weight by ``factor``, ``"keep"`` leaves them.
    Defaults follow the UCDP GED codebook: ``where_prec`` 1-2 (exact or within ~25 km) and
    ``date_prec`` 1 (exact day) are precise.
    """

    mode: Literal["drop", "downweight", "keep"] = "downweight"
    max_where_prec: int = 2
    max_date_prec: int = 1
    factor: float = 0.25

    def __post_init__(self) -> None:
        if self.mode not in ("drop", "downweight", "keep"):
            raise ValidationError(f"unknown precision mode {self.mode!r}", field="mode")
        if not 0.0 <= self.factor <= 1.0:
            raise ValidationError("factor must be in [0, 1]", field="factor")


def apply_precision(events: Events, policy: PrecisionPolicy | None = None) -> Events:
    """Drop or down-weight imprecise events according to ``policy`` (default: down-weight 0.25)."""
    policy = policy or PrecisionPolicy()
    imprecise = np.zeros(len(events), dtype=bool)
    if events.where_prec is not None:
        imprecise |= events.where_prec > policy.max_where_prec
    if events.date_prec is not None:
        imprecise |= events.date_prec > policy.max_date_prec
    if policy.mode == "keep" or not imprecise.any():
        return events
    if policy.mode == "drop":
        return events.select(~imprecise)
    return events.reweighted(np.where(imprecise, events.weight * policy.factor, events.weight))


def _attr(rec: Any, *names: str) -> Any:
    for name in names:
        if isinstance(rec, dict) and name in rec:
            return rec[name]
        if hasattr(rec, name):
            return getattr(rec, name)
    return None


def events_from_records(records: Iterable[Any]) -> Events:
    """Convert incident records (objects or dicts) into :class:`Events`.

    Reads ``lon``/``lat`` (or ``longitude``/``latitude``), ``time`` (datetime, UTC), optional
    ``weight``, ``location_precision`` (or ``where_prec``) and ``time_precision`` (or
    ``date_prec``). Missing precision is coded 0 (unknown, treated as precise). This is the
    adapter between :func:`corridorguard.incidents.read_incidents` and the risk core.
    """
    lon: list[float] = []
    lat: list[float] = []
    t: list[float] = []
    w: list[float] = []
    wp: list[int] = []
    dp: list[int] = []
    for i, rec in enumerate(records):
        x, y = _attr(rec, "lon", "longitude"), _attr(rec, "lat", "latitude")
        when = _attr(rec, "time", "t", "date", "date_start")
        if x is None or y is None or when is None:
            raise ValidationError(f"record {i} has no lon/lat/time", field=f"records[{i}]")
        lon.append(float(x))
        lat.append(float(y))
        t.append(to_seconds(when))
        weight = _attr(rec, "weight")
        w.append(1.0 if weight is None else float(weight))
        wp.append(_precision(_attr(rec, "location_precision", "where_prec")))
        dp.append(_precision(_attr(rec, "time_precision", "date_prec")))
    return Events.from_arrays(lon, lat, np.array(t), weight=w, where_prec=wp, date_prec=dp)


def _precision(value: Any) -> int:
    if value is None:
        return 0
    if hasattr(value, "value"):  # an enum
        value = value.value
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
