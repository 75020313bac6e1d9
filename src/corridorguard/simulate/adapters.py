"""Adapters from the corridor model (:mod:`corridorguard.scenario`) to simulator targets.

Only the scenario model is used (it is part of the core); games, patrol, placement, routing and
risk results are plain arrays that map directly onto :class:`~corridorguard.simulate.Deployment`
coverage, :func:`~corridorguard.simulate.sensor` detection probabilities,
:class:`~corridorguard.simulate.QRFBase` travel minutes and
:class:`~corridorguard.simulate.OpportunisticAttacker` target probabilities (see
``docs/simulate.md``).
"""

from __future__ import annotations

from corridorguard.scenario.model import Scenario
from corridorguard.simulate.model import Target, TargetSet

__all__ = ["targets_from_scenario"]


def targets_from_scenario(
    scenario: Scenario,
    *,
    site_lethality: float = 0.05,
    convoy_lethality: float = 0.3,
    segment_reward: float = 1.0,
    include_segments: bool = True,
    include_convoys: bool = True,
) -> TargetSet:
    """Sites, road segments and convoy movements of ``scenario`` as simulator targets.

    Sites expose their ``workers``; convoys their ``people``; road segments expose nobody (an
    attack on an empty road harms no worker) but are worth ``segment_reward`` to the attacker and
    carry ``traffic_vph`` for the civilian burden of checkpoints. A site's attacker reward is its
    expected harm plus its ``criticality`` (0-5). The lethality figures are notional defaults.
    Target ids are the scenario ids (site, edge and movement ids are distinct namespaces, so a
    clash is reported by :class:`TargetSet`).
    """
    targets: list[Target] = []
    for s in scenario.sites:
        harm = s.workers * site_lethality
        targets.append(
            Target(
                s.id,
                kind="site",
                workers=s.workers,
                lethality=site_lethality,
                reward=harm + s.criticality,
            )
        )
    if include_segments:
        for e in scenario.edges:
            targets.append(
                Target(
                    e.id,
                    kind="segment",
                    workers=0.0,
                    lethality=0.0,
                    reward=segment_reward,
                    traffic_vph=e.traffic_vph,
                )
            )
    if include_convoys:
        for m in scenario.movements:
            targets.append(
                Target(m.id, kind="convoy", workers=m.people, lethality=convoy_lethality)
            )
    notional = any(s.notional_fields for s in scenario.sites) or any(
        m.notional for m in scenario.movements
    )
    return TargetSet(tuple(targets), notional=notional or scenario.labels.get("sites") != "real")
