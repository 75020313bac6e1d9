"""Corridor model: road graph, sites, forces and units, movements; loading and validation."""

from corridorguard.scenario.model import (
    Edge,
    Force,
    Jurisdiction,
    Movement,
    Node,
    Scenario,
    Site,
    Unit,
    UnitKind,
)

__all__ = [
    "Edge",
    "Force",
    "Jurisdiction",
    "Movement",
    "Node",
    "Scenario",
    "Site",
    "Unit",
    "UnitKind",
]
