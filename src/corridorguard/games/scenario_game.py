"""Build a security game from the corridor scenario and a risk forecast."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from corridorguard.errors import ValidationError
from corridorguard.games.model import Burden, Game, PayoffArrays, ResourceType
from corridorguard.scenario.model import Scenario, Site

__all__ = ["game_from_scenario", "site_value"]


def site_value(site: Site) -> float:
    """Target value ``criticality * (1 + log10(1 + workers))`` (criticality 0–5)."""
    return float(site.criticality) * (1.0 + math.log10(1.0 + site.workers))


def game_from_scenario(
    scenario: Scenario,
    *,
    site_risk: Mapping[str, float] | None = None,
    unit_kinds: Sequence[str] = ("patrol", "checkpoint"),
    risk_floor: float = 0.1,
    capture_penalty: float = 1.0,
    checkpoint_delay_s: float = 60.0,
    checkpoint_hours: float = 12.0,
    agency_capacity: Mapping[str, int] | None = None,
    burden_weight: float = 0.0,
    burden_cap: float | None = None,
) -> Game:
    """A typed-resource game whose targets are the scenario's sites.

    Payoffs (documented in ``docs/game-format.md``):

    * value ``v_s = criticality * (1 + log10(1 + workers))``;
    * attack likelihood weight ``rho_s = risk_s / max(risk)`` from ``site_risk`` (site id ->
      expected incidents or attack likelihood; all 1 when ``None``; missing sites 0), floored:
      ``w_s = risk_floor + (1 - risk_floor) * rho_s``;
    * effectiveness ``e`` = count-weighted mean of ``detection_prob * interdiction_prob`` of
      the units used;
    * defender: uncovered ``P^d = -v_s``, covered ``R^d = -(1 - e) v_s``;
    * attacker: uncovered ``R^a = w_s v_s``, covered ``P^a = (1 - e) R^a - e * capture_penalty``.

    Resources: one type per unit of the chosen kinds (``count`` identical resources), agency =
    its force, eligible on the sites inside the force's jurisdiction (by province or polygon).
    Checkpoints carry civilian burden: ``b_s`` = vehicles per hour on the roads at the site's
    node x ``checkpoint_delay_s`` x ``checkpoint_hours`` (vehicle-hours of delay per day).
    The inputs' data labels carry over: notional workers or traffic give notional payoffs.
    """
    sites = scenario.sites
    if not sites:
        raise ValidationError("the scenario has no sites to protect", field="sites")
    values = np.array([site_value(s) for s in sites])
    if site_risk is None:
        rho = np.ones(len(sites))
    else:
        raw = np.array([float(site_risk.get(s.id, 0.0)) for s in sites])
        if np.any(~np.isfinite(raw)) or np.any(raw < 0):
            raise ValidationError("risk values must be finite and >= 0", field="site_risk")
        unknown = set(site_risk) - {s.id for s in sites}
        if unknown:
            raise ValidationError(f"unknown site {sorted(unknown)[0]!r}", field="site_risk")
        rho = raw / raw.max() if raw.max() > 0 else np.ones(len(sites))
    weight = risk_floor + (1.0 - risk_floor) * rho
    types, eff_num, eff_den = _resource_types(scenario, unit_kinds)
    if not types:
        raise ValidationError(f"no units of kinds {list(unit_kinds)}", field="forces")
    eff = eff_num / eff_den
    if eff <= 0:
        raise ValidationError("units have zero detection x interdiction", field="forces")
    ra = weight * values + 1e-9  # strictly above pa even for worthless sites
    payoffs = PayoffArrays(
        rd=-(1.0 - eff) * values,
        pd=-values,
        ra=ra,
        pa=(1.0 - eff) * ra - eff * capture_penalty,
    )
    burden = None
    if any(rt.burden for rt in types):
        per = _traffic(scenario) * checkpoint_delay_s / 3600.0 * checkpoint_hours
        burden = Burden(per, burden_weight, burden_cap)
    game = Game(
        payoffs,
        sum(rt.count for rt in types),
        tuple(s.id for s in sites),
        resource_types=tuple(types),
        agency_capacity=dict(agency_capacity or {}),
        burden=burden,
    )
    game.validate()
    return game


def _resource_types(
    scenario: Scenario, kinds: Sequence[str]
) -> tuple[list[ResourceType], float, float]:
    types: list[ResourceType] = []
    num = den = 0.0
    for force in scenario.forces:
        inside = tuple(
            i
            for i, s in enumerate(scenario.sites)
            if force.jurisdiction.contains(s.lon, s.lat, s.province)
        )
        for unit in force.units:
            if unit.kind not in kinds:
                continue
            types.append(
                ResourceType(
                    id=unit.id,
                    count=unit.count,
                    eligible=inside,
                    agency=force.id,
                    burden=unit.kind == "checkpoint",
                )
            )
            num += unit.count * unit.detection_prob * unit.interdiction_prob
            den += unit.count
    return types, num, max(den, 1.0)


def _traffic(scenario: Scenario) -> np.ndarray:
    """Vehicles per hour on the road segments meeting each site's node."""
    per_node: dict[str, float] = {}
    for e in scenario.edges:
        for end in (e.source, e.target):
            per_node[end] = per_node.get(end, 0.0) + e.traffic_vph
    return np.array([per_node.get(s.node, 0.0) if s.node else 0.0 for s in scenario.sites])
