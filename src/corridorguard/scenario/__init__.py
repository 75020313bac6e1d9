"""Corridor model: road graph, sites, forces and units, movements; loading and validation."""

from corridorguard.scenario.export import scenario_to_geojson, write_scenario_folder
from corridorguard.scenario.geo import DEFAULT_CIRCUITY, haversine_m, schematic_length_m
from corridorguard.scenario.loader import (
    ScenarioInvalid,
    builtin_scenarios,
    load_scenario,
    validate_scenario_folder,
)
from corridorguard.scenario.model import (
    DataLabel,
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
    "DEFAULT_CIRCUITY",
    "DataLabel",
    "Edge",
    "Force",
    "Jurisdiction",
    "Movement",
    "Node",
    "Scenario",
    "ScenarioInvalid",
    "Site",
    "Unit",
    "UnitKind",
    "builtin_scenarios",
    "haversine_m",
    "load_scenario",
    "scenario_to_geojson",
    "schematic_length_m",
    "validate_scenario_folder",
    "write_scenario_folder",
]
