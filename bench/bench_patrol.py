"""Benchmark: patrol planning (compact flow LP) against explicit path enumeration.

Run: ``PYTHONPATH=src python bench/bench_patrol.py [--quick]``. Prints medians and ratios; the
numbers go into ``docs/benchmarks.md`` (section "Patrol schedules").

1. G4 — 500+ road segments × 24 hourly slots, 2 forces × 5 units (synthetic, notional grid),
   the strong Stackelberg equilibrium end to end (graph build + LP + route decomposition).
2. Flow LP vs path-enumeration LP (the textbook formulation: one variable per base-to-base
   route) on the same game, growing shift length until enumeration no longer fits; both values
   are checked equal to 1e-6.
3. The built-in CPEC scenario: ``corridorguard patrol plan --days 7`` via the CLI, end to end.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from corridorguard.patrol.graph import build_patrol_graph  # noqa: E402
from corridorguard.patrol.solvers import (  # noqa: E402
    FlowPatrolSolver,
    PathEnumerationSolver,
    enumerate_paths,
)
from corridorguard.patrol.synthetic import grid_scenario  # noqa: E402
from corridorguard.patrol.targets import build_targets  # noqa: E402


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def z_floor(g: Any) -> float:
    """The attacker's value no patrol can change (uncoverable targets, penalties)."""
    t, cov = g.targets, g.coverable()
    return float(max(t.attacker_penalty.max(), t.attacker_reward[~cov].max(initial=-1e300)))


def g4(repeats: int) -> None:
    sc = grid_scenario(16, 17, units_per_force=5, n_sites=20, n_movements=2, seed=1)

    def run() -> FlowPatrolSolver:
        tg = build_targets(sc, slot_minutes=60)
        g = build_patrol_graph(sc, tg, shift_hours=8)
        # targets no unit can reach would fix the attacker's value and make the LP trivial:
        # zero them so that every row of the LP matters
        g = build_patrol_graph(sc, tg.restricted(g.coverable()), shift_hours=8)
        return FlowPatrolSolver(g, method="sse").solve()

    t, sol = median_time(run, repeats)
    g = sol.graph
    print("## G4: 500 segments x 24 slots, 2 forces x 5 units (SSE, end to end)")
    print(
        f"segments={len(sc.edges)} slots={g.targets.n_slots} targets={g.targets.n} "
        f"layers={len(g.layers)} arc variables={g.n_arcs} LPs={sol.n_lps_} exact={sol.exact_}"
    )
    print(
        f"median {t:.3f} s over {repeats} runs (goal <= 10 s); maximin value "
        f"{sol.maximin_value_:.6f} > floor {z_floor(g):.6f}; defender utility "
        f"{sol.defender_utility_:.6f}\n"
    )


def g4_general_sum(repeats: int) -> None:
    """Same graph, random general-sum payoffs on the reachable targets (Ra, Rd vs Pa, Pd)."""
    sc = grid_scenario(16, 17, units_per_force=5, n_sites=20, n_movements=2, seed=1)
    tg = build_targets(sc, slot_minutes=60)
    cov = build_patrol_graph(sc, tg, shift_hours=8).coverable()
    rng = np.random.default_rng(0)
    n = tg.n
    tg = dataclasses.replace(
        tg,
        attacker_reward=rng.uniform(1, 10, n) * cov,
        attacker_penalty=-rng.uniform(0, 10, n) * cov,
        defender_reward=rng.uniform(0, 5, n) * cov,
        defender_penalty=-rng.uniform(1, 10, n) * cov,
    )
    g = build_patrol_graph(sc, tg, shift_hours=8)
    t, sol = median_time(lambda: FlowPatrolSolver(g, method="sse").solve(), repeats)
    print("## G4 with random general-sum payoffs (SSE by pruned multiple LPs)")
    print(
        f"median {t:.3f} s over {repeats} runs; LPs={sol.n_lps_} exact={sol.exact_}; "
        f"defender utility {sol.defender_utility_:.6f}\n"
    )


def flow_vs_paths(repeats: int, shifts: list[int]) -> None:
    sc = grid_scenario(3, 4, units_per_force=2, seed=0, n_movements=0)
    tg = build_targets(sc, slot_minutes=60)
    print("## Flow LP vs path-enumeration LP (3x4 grid, 17 segments, 2 forces x 2 units, SSE)")
    print("| shift (slots) | routes | flow LP | path LP | ratio | value | floor | |diff| |")
    print("|---|---|---|---|---|---|---|---|")
    for sh in shifts:
        g = build_patrol_graph(sc, tg, shift_hours=sh)
        g = build_patrol_graph(sc, tg.restricted(g.coverable()), shift_hours=sh)
        n_routes = sum(len(enumerate_paths(ly, max_paths=2_000_000)) for ly in g.layers)
        t_flow, flow = median_time(lambda g=g: FlowPatrolSolver(g).solve(), repeats)
        reps = repeats if n_routes < 100_000 else 1
        t_path, paths = median_time(
            lambda g=g: PathEnumerationSolver(g, max_paths=2_000_000).solve(), reps
        )
        diff = abs(flow.defender_utility_ - paths.defender_utility_)
        print(
            f"| {sh} | {n_routes:,} | {t_flow * 1e3:.1f} ms | {t_path * 1e3:.1f} ms | "
            f"{t_path / t_flow:,.0f}x | {flow.maximin_value_:.4f} | {z_floor(g):.4f} | "
            f"{diff:.1e} |",
            flush=True,
        )
    print()


def cpec_cli(repeats: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as out:
            cmd = [sys.executable, "-m", "corridorguard", "patrol", "plan", "--scenario", "cpec"]
            cmd += ["--days", "7", "--shift-hours", "8", "--slot-minutes", "30", "--seed", "1"]
            cmd += ["--out", out, "--json"]
            t = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - t)
    print("## CPEC: 7-day joint plan via the CLI (30-min slots, 8-h shifts, exports + PNG map)")
    print(f"median {statistics.median(times):.2f} s over {repeats} runs (goal < 60 s)\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repeats and sizes")
    args = ap.parse_args()
    r = 1 if args.quick else 5
    g4(r)
    g4_general_sum(r)
    flow_vs_paths(1 if args.quick else 3, [4, 6, 8] if args.quick else [4, 6, 8, 10])
    cpec_cli(1 if args.quick else 3)


if __name__ == "__main__":
    main()
