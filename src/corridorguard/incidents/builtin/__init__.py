"""Curated incident layers shipped with the package (see ``SOURCE.md`` beside this file).

``cpec``: publicly reported attacks on China–Pakistan Economic Corridor projects and personnel
since 2004, in our own words, with approximate coordinates and a public source per row.
"""

from __future__ import annotations

from pathlib import Path

from corridorguard.errors import NotFoundError
from corridorguard.incidents.model import Incident

__all__ = ["BUILTIN_LAYERS", "builtin_incidents", "builtin_path"]

_HERE = Path(__file__).resolve().parent

#: Names of the shipped layers.
BUILTIN_LAYERS: tuple[str, ...] = ("cpec",)


def builtin_path(name: str) -> Path:
    """The CSV file of built-in layer ``name`` (native columns, readable as format ``csv``)."""
    if name not in BUILTIN_LAYERS:
        raise NotFoundError(
            f"no built-in incident layer {name!r}; available: {', '.join(BUILTIN_LAYERS)}",
            field="name",
        )
    return _HERE / f"{name}.csv"


def builtin_incidents(name: str = "cpec") -> list[Incident]:
    """The records of built-in layer ``name`` (source ``name``, marking CLEAR)."""
    from corridorguard.incidents.reader import read_incidents

    return read_incidents(builtin_path(name), "csv", source=name).records
