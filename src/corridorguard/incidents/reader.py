"""``read_incidents``: one entry point for every supported file format."""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from corridorguard.errors import ConfigError, ImportRejected, NotFoundError, RowError
from corridorguard.incidents import formats
from corridorguard.incidents._geojson import read_geojson
from corridorguard.incidents._tabular import Converter, Progress, ReadOptions, read_rows
from corridorguard.incidents.model import FORMATS, TLP_LEVELS, Incident

__all__ = ["ReadResult", "read_incidents"]

_CONVERTERS = {
    "ucdp": formats.ucdp_converter,
    "gtd": formats.gtd_converter,
    "acled": formats.acled_converter,
    "csv": formats.generic_csv_converter,
}


@dataclass
class ReadResult:
    """What :func:`read_incidents` found in a file.

    Attributes
    ----------
    records
        The valid incidents, in file order.
    skipped
        Errors of the rows left out (only with ``skip_bad=True``; otherwise bad rows raise).
        A row with several bad fields has several entries with the same line.
    file, format
        What was read.
    rows_read
        Data rows (or features) seen, good and bad.
    """

    records: list[Incident]
    skipped: list[RowError] = field(default_factory=list)
    file: str = ""
    format: str = ""
    rows_read: int = 0

    @property
    def rejected(self) -> int:
        """Number of distinct rows left out."""
        return len({e.line for e in self.skipped})

    def columns(self) -> dict[str, np.ndarray]:
        """Columnar view for numerical work.

        Returns ``lon``, ``lat`` (float64 degrees), ``time`` (float64 seconds since the Unix
        epoch, UTC), ``time_precision``, ``location_precision`` (int8) and ``fatalities``
        (float64 best estimate, NaN when unknown).
        """
        recs = self.records
        return {
            "lon": np.fromiter((r.lon for r in recs), float, len(recs)),
            "lat": np.fromiter((r.lat for r in recs), float, len(recs)),
            "time": np.fromiter((r.time.timestamp() for r in recs), float, len(recs)),
            "time_precision": np.fromiter((r.time_precision for r in recs), np.int8, len(recs)),
            "location_precision": np.fromiter(
                (r.location_precision for r in recs), np.int8, len(recs)
            ),
            "fatalities": np.fromiter(
                (np.nan if r.fatalities_best is None else r.fatalities_best for r in recs),
                float,
                len(recs),
            ),
        }


def read_incidents(
    path: str | Path,
    format: str,
    *,
    mapping: Mapping[str, Any] | None = None,
    skip_bad: bool = False,
    source: str | None = None,
    tlp: str = "CLEAR",
    originator: str | None = None,
    rel_to: tuple[str, ...] | list[str] = (),
    encoding: str = "utf-8",
    progress: Progress | None = None,
) -> ReadResult:
    """Read and validate an incident file; pure (no database).

    Parameters
    ----------
    path
        A ``.csv``, ``.csv.gz``, ``.geojson`` or ``.json`` file (gzip is detected by content).
    format
        ``"ucdp"`` (UCDP GED CSV), ``"gtd"`` (GTD layout), ``"acled"`` (ACLED layout), ``"csv"``
        (generic CSV: native export columns, renamed by ``mapping``) or ``"geojson"``.
    mapping
        Generic CSV / GeoJSON only: ``{incident_field: column}`` plus optional
        ``"time_format"`` (a ``strptime`` format; default ISO-8601) and ``"defaults"``
        (``{incident_field: value}`` for missing or empty cells).
    skip_bad
        Leave bad rows out and list them in :attr:`ReadResult.skipped` instead of raising.
    source
        Dataset name stored with each record (default: the format name, or the ``source``
        column of a native CSV / GeoJSON).
    tlp, originator, rel_to
        Releasability given to rows that do not carry their own (public datasets: ``CLEAR``).
    encoding
        Text encoding of the file (default UTF-8; a BOM is fine). GTD's CSV files are
        usually ``latin-1``.
    progress
        ``progress(done, total)`` called while parsing (bytes of the file).

    Raises
    ------
    ImportRejected
        Without ``skip_bad``, when any row is bad: lists every bad row as ``line N: field:
        reason`` (``N`` is the physical line where the row starts; the header is line 1). Also
        when the file cannot be read or lacks a required column (line 1).
    NotFoundError
        When ``path`` does not exist.
    ConfigError
        For an unknown format, a bad mapping or a bad marking.
    """
    path = Path(path)
    if format not in FORMATS:
        raise ConfigError(
            f"unknown format {format!r}; use one of {', '.join(FORMATS)}", field="format"
        )
    if not path.is_file():
        raise NotFoundError("no such file", file=str(path))
    if mapping and format not in ("csv", "geojson"):
        raise ConfigError(
            "a column mapping applies to the csv and geojson formats only", field="mapping"
        )
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ConfigError(f"unknown encoding {encoding!r}", field="encoding") from None
    marking = tlp.upper().removeprefix("TLP:")
    if marking not in TLP_LEVELS:
        raise ConfigError(f"{tlp!r} not one of {', '.join(TLP_LEVELS)}", field="tlp")
    opts = ReadOptions(
        source=source,
        tlp=marking,
        originator=originator,
        rel_to=tuple(rel_to),
        mapping=dict(mapping or {}),
        encoding=encoding,
    )
    file = str(path)
    if format == "geojson":
        records, errors, n = read_geojson(path, opts, progress=progress)
    else:
        factory = _CONVERTERS[format]

        def make(header: list[str]) -> Converter:
            return factory(header, opts, file)

        records, errors, n = read_rows(path, make, progress=progress, encoding=encoding)
    if errors and not skip_bad:
        raise ImportRejected(file, errors)
    return ReadResult(records=records, skipped=errors, file=file, format=format, rows_read=n)
