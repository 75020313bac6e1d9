"""Incident importers and the normalised incident record (pure: no database, no CLI).

Use :func:`read_incidents` to read a UCDP GED, GTD, ACLED, generic CSV or GeoJSON file into
:class:`Incident` records, :func:`write_incidents` to export records as CSV or GeoJSON, and
:func:`builtin_incidents` for the curated layers shipped with the package (``"cpec"``).

>>> from corridorguard.incidents import read_incidents
>>> result = read_incidents("ged_syria.csv", "ucdp")  # doctest: +SKIP
>>> len(result.records), result.skipped  # doctest: +SKIP
(16566, [])
"""

from corridorguard.errors import ImportRejected, RowError
from corridorguard.incidents._geojson import EXPORT_COLUMNS, write_incidents
from corridorguard.incidents.builtin import BUILTIN_LAYERS, builtin_incidents, builtin_path
from corridorguard.incidents.model import (
    FORMATS,
    LOCATION_PRECISION,
    TIME_PRECISION,
    TLP_LEVELS,
    Incident,
    check_incident,
)
from corridorguard.incidents.reader import ReadResult, read_incidents

__all__ = [
    "BUILTIN_LAYERS",
    "EXPORT_COLUMNS",
    "FORMATS",
    "LOCATION_PRECISION",
    "TIME_PRECISION",
    "TLP_LEVELS",
    "ImportRejected",
    "Incident",
    "ReadResult",
    "RowError",
    "builtin_incidents",
    "builtin_path",
    "check_incident",
    "read_incidents",
    "write_incidents",
]
