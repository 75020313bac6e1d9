"""Synthetic grid corridors for tests and benchmarks. **Notional data**: nothing here is real.

A ``rows × cols`` grid of road nodes about 15 km apart; the western half is province ``W``, the
eastern half ``E`` and the middle column ``M`` (shared). Force ``west`` patrols ``W`` and ``M``,
force ``east`` patrols ``E`` and ``M``. Sites, traffic, convoys and units are drawn from a seeded
generator and labelled notional.
"""

from __future__ import annotations

from datetime import time

import numpy as np

from corridorguard.scenario import (
    Edge,
    Force,
    Jurisdiction,
    Movement,
    Node,
    Scenario,
    Site,
    Unit,
)

__all__ = ["grid_scenario"]

KINDS = ("patrol", "patrol", "checkpoint", "patrol", "drone")


def _province(c: int, cols: int) -> str:
    mid = cols // 2
    return "M" if c == mid else ("W" if c < mid else "E")


def grid_scenario(
    rows: int,
    cols: int,
    *,
    units_per_force: int = 2,
    n_sites: int = 4,
    n_movements: int = 1,
    drop: float = 0.0,
    seed: int = 0,
    spacing_deg: float = 0.15,
) -> Scenario:
    """A notional grid corridor (see the module docstring); ``drop`` removes that share of edges."""
    rng = np.random.default_rng(seed)
    nodes = [
        Node(
            id=f"n{r}_{c}",
            name=f"n{r}_{c}",
            lon=70.0 + c * spacing_deg,
            lat=30.0 + r * spacing_deg,
            province=_province(c, cols),
            source="synthetic",
        )
        for r in range(rows)
        for c in range(cols)
    ]
    edges = []
    for r in range(rows):
        for c in range(cols):
            for dr, dc in ((0, 1), (1, 0)):
                r2, c2 = r + dr, c + dc
                if r2 >= rows or c2 >= cols:
                    continue
                keep_spine = r == 0 or c == cols // 2  # keep the grid connected
                if not keep_spine and rng.random() < drop:
                    continue
                edges.append(
                    Edge(
                        id=f"e{r}_{c}_{r2}_{c2}",
                        source=f"n{r}_{c}",
                        target=f"n{r2}_{c2}",
                        route="N-S" if dr else "E-W",
                        length_m=float(rng.uniform(12_000, 20_000)),
                        speed_kmh=float(rng.choice([40.0, 60.0, 80.0])),
                        traffic_vph=float(rng.integers(20, 800)),
                    )
                )
    site_nodes = rng.choice(len(nodes), size=min(n_sites, len(nodes)), replace=False)
    sites = tuple(
        Site(
            id=f"site{i}",
            name=f"site {i}",
            type="depot",
            lon=nodes[int(n)].lon,
            lat=nodes[int(n)].lat,
            criticality=float(rng.integers(1, 6)),
            workers=int(rng.integers(0, 500)),
            node=nodes[int(n)].id,
            notional_fields=("criticality", "workers"),
        )
        for i, n in enumerate(site_nodes)
    )
    forces = []
    for fid, provs in (("west", ("W", "M")), ("east", ("E", "M"))):
        cand = [n.id for n in nodes if n.province in provs]
        units = []
        for k in range(units_per_force):
            kind = KINDS[k % len(KINDS)]
            units.append(
                Unit(
                    id=f"{fid}-{kind}-{k}",
                    kind=kind,
                    base=cand[int(rng.integers(len(cand)))],
                    speed_kmh={"patrol": 60.0, "checkpoint": 20.0, "drone": 90.0}[kind],
                    shift_hours=8,
                    detection_prob=0.8 if kind != "drone" else 0.6,
                    interdiction_prob=0.8 if kind != "drone" else 0.3,
                    range_km=60.0 if kind == "drone" else None,
                    endurance_min=180.0 if kind == "drone" else None,
                )
            )
        forces.append(
            Force(
                id=fid,
                name=f"{fid} force",
                jurisdiction=Jurisdiction(provinces=provs),
                units=tuple(units),
            )
        )
    movements = tuple(
        Movement(
            id=f"convoy{i}",
            name=f"convoy {i}",
            origin=f"n0_{0}",
            destination=f"n0_{cols - 1}",
            window_start=time(7 + 2 * i, 0),
            window_end=time(8 + 2 * i, 0),
            people=int(rng.integers(10, 60)),
        )
        for i in range(n_movements)
    )
    return Scenario(
        name=f"grid-{rows}x{cols}-s{seed}",
        title="Synthetic grid corridor (notional)",
        labels={"roads": "notional", "sites": "notional", "forces": "notional"},
        nodes=tuple(nodes),
        edges=tuple(edges),
        sites=sites,
        forces=tuple(forces),
        movements=movements,
    )
