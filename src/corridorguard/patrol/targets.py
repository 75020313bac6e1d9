"""Patrol targets: road segment × time slot and site × time slot, with their payoffs.

A target's *value* ``V`` combines what the scenario says about it and an optional risk mapping:

* segment ``e`` in slot ``g``: ``V = w_traffic · traffic_vph(e) / max traffic
  + w_convoy · convoy_people(e, g) / max convoy people``;
* site ``s`` in slot ``g``:
  ``V = w_site · (criticality / 5) · (0.5 + 0.5 · workers / max workers)``;
* both multiplied by ``risk[id]`` (a scalar or one value per slot of the day; default 1).

``convoy_people(e, g)`` comes from the movement timetable: each
:class:`~corridorguard.scenario.Movement` drives the fastest road path from its origin to its
destination, departing anywhere in its window,
so it can be on segment ``e`` from ``window_start + t_before(e)`` to ``window_end + t_after(e)``.
The people it carries (never individual identities: a head count only) are added to every slot of
that interval.

Payoffs (the attacker observes the defender's mixed strategy, Stackelberg): attacker reward
``Ra = V`` when the target is not covered, attacker penalty ``Pa = -alpha · V`` when it is;
defender reward ``Rd = 0`` when covered, penalty ``Pd = -V`` when not.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from corridorguard.errors import ValidationError
from corridorguard.scenario import Scenario

__all__ = [
    "RiskMapping",
    "TargetClass",
    "TargetSet",
    "TargetWeights",
    "build_targets",
    "risk_from_assets",
]

TargetClass = Literal["segment", "convoy_segment", "site"]
RiskMapping = dict[str, float] | dict[str, list[float]] | dict[str, NDArray[np.float64]]
"""Edge or site id -> attack-likelihood multiplier (scalar, or one value per slot of the day)."""


@dataclass(frozen=True)
class TargetWeights:
    """Weights of the value formula and the attacker's penalty factor."""

    traffic: float = 0.3
    convoy: float = 1.0
    site: float = 1.0
    alpha: float = 0.5
    """Attacker penalty when caught, as a fraction of the target value."""


@dataclass(frozen=True)
class TargetSet:
    """All targets of one day: ``n_edges · n_slots`` segment targets then ``n_sites · n_slots``.

    Target ``e · n_slots + g`` is segment ``e`` in slot ``g``; target
    ``n_edges · n_slots + s · n_slots + g`` is site ``s`` in slot ``g``.
    """

    edge_ids: tuple[str, ...]
    site_ids: tuple[str, ...]
    n_slots: int
    slot_minutes: float
    value: NDArray[np.float64]
    attacker_reward: NDArray[np.float64]
    attacker_penalty: NDArray[np.float64]
    defender_reward: NDArray[np.float64]
    defender_penalty: NDArray[np.float64]
    convoy_people: NDArray[np.float64] = field(repr=False)
    """Convoy head count per segment target (zeros for sites)."""

    @property
    def n(self) -> int:
        return int(self.value.size)

    @property
    def n_segment_targets(self) -> int:
        return len(self.edge_ids) * self.n_slots

    def segment_target(self, edge: int, slot: int) -> int:
        return edge * self.n_slots + slot

    def site_target(self, site: int, slot: int) -> int:
        return self.n_segment_targets + site * self.n_slots + slot

    def describe(self, j: int) -> dict[str, object]:
        """``{"kind", "id", "slot"}`` of target ``j``."""
        j = int(j)
        if j < self.n_segment_targets:
            return {
                "kind": "segment",
                "id": self.edge_ids[j // self.n_slots],
                "slot": j % self.n_slots,
            }
        k = j - self.n_segment_targets
        return {"kind": "site", "id": self.site_ids[k // self.n_slots], "slot": k % self.n_slots}

    def classes(self) -> NDArray[np.str_]:
        """Per target: ``segment``, ``convoy_segment`` or ``site``."""
        out = np.full(self.n, "site", dtype=object)
        seg = np.arange(self.n) < self.n_segment_targets
        out[seg] = np.where(self.convoy_people[seg] > 0, "convoy_segment", "segment")
        return out.astype(str)

    def restricted(self, keep: NDArray[np.bool_]) -> TargetSet:
        """The same targets with the value (and payoffs) of the others set to zero."""
        k = keep.astype(np.float64)
        return TargetSet(
            self.edge_ids,
            self.site_ids,
            self.n_slots,
            self.slot_minutes,
            self.value * k,
            self.attacker_reward * k,
            self.attacker_penalty * k,
            self.defender_reward * k,
            self.defender_penalty * k,
            self.convoy_people,
        )


def risk_from_assets(data: Mapping[str, Any], *, floor: float = 0.1) -> dict[str, float]:
    """Relative attack-likelihood multipliers from a per-asset risk forecast.

    ``data`` is the JSON of the risk engine's asset risk (``{"sites": [{"id", "probability"}],
    "edges": [{"id", "probability"}]}``, probability of at least one incident near the asset over
    the horizon). Each asset's multiplier is its probability divided by the mean over all assets,
    floored at ``floor`` (an asset the forecast calls safe is still worth something to an
    attacker who reads the same forecast).

    Raises
    ------
    ValidationError
        If an entry has no id or a probability outside [0, 1].
    """
    probs: dict[str, float] = {}
    for layer in ("sites", "edges"):
        for i, item in enumerate(data.get(layer, ()) or ()):
            try:
                key, p = str(item["id"]), float(item["probability"])
            except (KeyError, TypeError, ValueError):
                raise ValidationError("needs id and probability", field=f"{layer}[{i}]") from None
            if not 0 <= p <= 1:
                raise ValidationError("probability must be in [0, 1]", field=f"{layer}[{i}]")
            probs[key] = p
    if not probs:
        raise ValidationError("no sites or edges in the risk file", field="risk")
    mean = sum(probs.values()) / len(probs)
    if mean <= 0:
        return dict.fromkeys(probs, 1.0)
    return {k: max(floor, p / mean) for k, p in probs.items()}


def _minutes(t: time) -> float:
    return t.hour * 60 + t.minute + t.second / 60


def _risk_row(risk: RiskMapping | None, key: str, n_slots: int) -> NDArray[np.float64]:
    if risk is None or key not in risk:
        return np.ones(n_slots)
    r = np.asarray(risk[key], dtype=np.float64)
    if r.ndim == 0:
        r = np.full(n_slots, float(r))
    if r.shape != (n_slots,) or not np.all(np.isfinite(r)) or np.any(r < 0):
        raise ValidationError(
            f"risk must be a non-negative number or {n_slots} of them", field=f"risk[{key}]"
        )
    return r


def convoy_people(scenario: Scenario, n_slots: int, slot_minutes: float) -> NDArray[np.float64]:
    """Convoy head count per segment and slot of the day (``n_edges × n_slots``)."""
    n_nodes, n_edges = len(scenario.nodes), len(scenario.edges)
    out = np.zeros((n_edges, n_slots))
    if not scenario.movements or n_edges == 0:
        return out
    idx = scenario.node_index
    u = np.array([idx[e.source] for e in scenario.edges])
    v = np.array([idx[e.target] for e in scenario.edges])
    w = np.array([e.travel_time_s / 60 for e in scenario.edges])
    graph = csr_matrix(
        (np.concatenate([w, w]), (np.concatenate([u, v]), np.concatenate([v, u]))),
        shape=(n_nodes, n_nodes),
    )
    edge_of = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(u, v, strict=True))}
    edge_of.update({(int(b), int(a)): i for i, (a, b) in enumerate(zip(u, v, strict=True))})
    for m in scenario.movements:
        o, d = idx[m.origin], idx[m.destination]
        dist, pred = dijkstra(graph, indices=o, return_predecessors=True)
        if not np.isfinite(dist[d]) or o == d:
            continue
        path = [d]
        while path[-1] != o:
            path.append(int(pred[path[-1]]))
        path.reverse()
        w0, w1 = _minutes(m.window_start), _minutes(m.window_end)
        if w1 < w0:
            w1 += 24 * 60
        t = 0.0
        for a, b in itertools.pairwise(path):
            e = edge_of[(a, b)]
            t_next = t + w[e]
            first = int((w0 + t) // slot_minutes)
            last = int(np.ceil((w1 + t_next) / slot_minutes - 1e-9)) - 1
            for g in range(first, max(first, last) + 1):
                out[e, g % n_slots] += m.people
            t = t_next
    return out


def build_targets(
    scenario: Scenario,
    *,
    slot_minutes: float,
    risk: RiskMapping | None = None,
    weights: TargetWeights | None = None,
) -> TargetSet:
    """Value every segment × slot and site × slot of one day (see the module docstring)."""
    if slot_minutes <= 0 or (24 * 60) % slot_minutes > 1e-9:
        raise ValidationError("slot length must divide a day", field="slot_minutes")
    w = weights or TargetWeights()
    n_slots = round(24 * 60 / slot_minutes)
    edges, sites = scenario.edges, scenario.sites
    traffic = np.array([e.traffic_vph for e in edges], dtype=np.float64)
    t_max = traffic.max() if traffic.size and traffic.max() > 0 else 1.0
    convoy = convoy_people(scenario, n_slots, slot_minutes)
    c_max = convoy.max() if convoy.size and convoy.max() > 0 else 1.0
    seg = w.traffic * (traffic / t_max)[:, None] + w.convoy * convoy / c_max
    seg = seg * np.stack([_risk_row(risk, e.id, n_slots) for e in edges]) if edges else seg
    workers = np.array([s.workers for s in sites], dtype=np.float64)
    w_max = workers.max() if workers.size and workers.max() > 0 else 1.0
    crit = np.array([s.criticality for s in sites], dtype=np.float64)
    site = (w.site * (crit / 5) * (0.5 + 0.5 * workers / w_max))[:, None] * np.ones(n_slots)
    if sites:
        site = site * np.stack([_risk_row(risk, s.id, n_slots) for s in sites])
    value = np.concatenate([seg.reshape(-1), site.reshape(-1)])
    people = np.concatenate([convoy.reshape(-1), np.zeros(site.size)])
    return TargetSet(
        edge_ids=tuple(e.id for e in edges),
        site_ids=tuple(s.id for s in sites),
        n_slots=n_slots,
        slot_minutes=float(slot_minutes),
        value=value,
        attacker_reward=value.copy(),
        attacker_penalty=-w.alpha * value,
        defender_reward=np.zeros_like(value),
        defender_penalty=-value,
        convoy_people=people,
    )
