"""Benchmark the security-game engine against OpenSpiel (and reference solvers), same games.

Run: ``PYTHONPATH=src python bench/bench_games.py [grid_a grid_b eraser sampling qr maximin]``
(all sections: about four minutes on a 2-core machine).

Games come from the research digest's generator: ``rng = default_rng(seed)``; in order
``Rd = rng.integers(1, 11, n)``, ``Pd = -rng.integers(1, 11, n)``, ``Ra = ...``, ``Pa = -...``.
OpenSpiel's ``stackelberg_lp.solve_stackelberg`` (Conitzer–Sandholm multiple LPs over the normal
form, cvxpy's default solver) is timed end to end, including building the normal form (subsets of
at most ``m`` targets: the same game as the marginal solvers). Every figure is a median; the
script prints markdown tables for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyspiel
from open_spiel.python.algorithms import stackelberg_lp
from scipy.optimize import minimize

from corridorguard.games import (
    Eraser,
    Game,
    MonotonicMaximin,
    MultipleLP,
    Origami,
    QuantalResponse,
    comb_sample,
    monotone_worst_case,
    qr_defender_utility,
    random_game,
    to_normal_form,
)


def arrays(n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    rd = rng.integers(1, 11, n).astype(float)
    pd = -rng.integers(1, 11, n).astype(float)
    ra = rng.integers(1, 11, n).astype(float)
    pa = -rng.integers(1, 11, n).astype(float)
    return [rd, pd, ra, pa]


def timed(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e3:.3f} ms"


def openspiel(g: Game) -> float:
    leader, follower = to_normal_form(g)
    game = pyspiel.create_matrix_game(leader.tolist(), follower.tolist())
    return float(stackelberg_lp.solve_stackelberg(game)[2])


def grid_a(seeds: int = 3) -> None:
    print("\n### Grid A: vs OpenSpiel (median over seeds; ours: median of 7 runs per seed)\n")
    print(
        "| n × m | pure strategies | OpenSpiel | multi-LP | ERASER | ORIGAMI | OS ÷ ORIGAMI "
        "| max abs ΔU_d |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n, m in [(5, 1), (10, 1), (20, 2), (20, 3)]:
        os_t, lp_t, mi_t, or_t, diff = [], [], [], [], 0.0
        for seed in range(seeds):
            a = arrays(n, seed)
            g = Game.from_arrays(*a, resources=m)
            t_os, v_os = timed(lambda g=g: openspiel(g), 1)
            t_or, s_or = timed(
                lambda a=a, m=m: Origami(Game.from_arrays(*a, resources=m)).solve(), 7
            )
            t_lp, s_lp = timed(lambda g=g: MultipleLP(g).solve(), 3)
            t_mi, s_mi = timed(lambda g=g: Eraser(g).solve(), 3)
            os_t.append(t_os)
            lp_t.append(t_lp)
            mi_t.append(t_mi)
            or_t.append(t_or)
            vals = [v_os, s_lp.defender_utility_, s_mi.defender_utility_]
            diff = max(diff, *(abs(v - s_or.defender_utility_) for v in vals))
        s = len(to_normal_form(Game.from_arrays(*arrays(n, 0), resources=m))[0])
        med = [statistics.median(x) for x in (os_t, lp_t, mi_t, or_t)]
        print(
            f"| {n} × {m} | {s} | {fmt(med[0])} | {fmt(med[1])} | {fmt(med[2])} | "
            f"{fmt(med[3])} | {med[0] / med[3]:,.0f}× | {diff:.1e} |"
        )


def grid_b() -> None:
    print("\n### Grid B: ORIGAMI at scale (m = n/10; incl. building + validating the game)\n")
    print("| n | m | ORIGAMI median (7 runs) | fastest run | check |")
    print("|---|---|---|---|---|")
    a = arrays(1000, 0)
    o = Origami(Game.from_arrays(*a, resources=100)).solve().defender_utility_
    e = Eraser(Game.from_arrays(*a, resources=100)).solve().defender_utility_
    print(f"| 1,000 | 100 | — | — | ORIGAMI − ERASER = {o - e:.1e} |")
    for n in (10**4, 10**5, 10**6):
        a = arrays(n, 0)
        runs = []
        for _ in range(7):
            t, s = timed(
                lambda a=a, n=n: Origami(Game.from_arrays(*a, resources=n // 10)).solve(), 1
            )
            runs.append(t)
        print(
            f"| {n:,} | {n // 10:,} | {fmt(statistics.median(runs))} | {fmt(min(runs))} "
            f"| Σc = {s.coverage_.sum():.1f} |"
        )


def eraser_bayes(seeds: int = 8) -> None:
    print("\n### ERASER, 5 attacker types, 200 targets × 20 resources (median of 3 per seed)\n")
    times = []
    for seed in range(seeds):
        g = random_game(200, 20, types=5, seed=seed)
        t, _ = timed(lambda g=g: Eraser(g).solve(), 3)
        times.append(t)
    print("| seeds | median | min | max | per seed |")
    print("|---|---|---|---|---|")
    per = ", ".join(f"{t:.2f}" for t in times)
    print(
        f"| {seeds} | {fmt(statistics.median(times))} | {fmt(min(times))} | {fmt(max(times))} "
        f"| {per} s |"
    )


def sampling() -> None:
    print("\n### Sampling one daily plan, 10^4 targets, 10^3 resources (median of 21)\n")
    n = 10**4
    c = Origami(Game.from_arrays(*arrays(n, 0), resources=1000)).solve().coverage_
    rng = np.random.default_rng(0)
    t_comb, _ = timed(lambda: comb_sample(c, seed=rng), 21)
    m = round(c.sum())
    t_np, _ = timed(lambda: rng.choice(n, size=m, replace=False, p=c / c.sum()), 21)
    plans = comb_sample(c, days=2000, seed=1)
    picks = np.zeros(n)
    for _ in range(2000):
        picks[rng.choice(n, size=m, replace=False, p=c / c.sum())] += 1
    high = c >= np.quantile(c[c > 0], 0.9)  # where a bias would show
    bias_np = float(np.mean(picks[high] / 2000 - c[high]))
    bias_comb = float(np.mean(plans.mean(axis=0)[high] - c[high]))
    print("| method | median | exact marginals | mean bias on the top-decile c, 2,000 days |")
    print("|---|---|---|---|")
    print(f"| comb (ours, shuffled) | {fmt(t_comb)} | yes | {bias_comb:+.4f} |")
    print(f"| numpy `choice(replace=False, p=c/m)` | {fmt(t_np)} | no | {bias_np:+.4f} |")


def qr() -> None:
    print("\n### QR attacker (λ = 0.76), 1,000 targets × 100 resources\n")
    g = Game.from_arrays(*arrays(1000, 0), resources=100)
    t_ours, s = timed(lambda: QuantalResponse(g).solve(), 3)
    n, m = 1000, 100
    x0 = np.full(n, m / n)
    cons = [{"type": "ineq", "fun": lambda c: m - c.sum(), "jac": lambda c: -np.ones(n)}]

    def slsqp() -> Any:
        return minimize(
            lambda c: -qr_defender_utility(g, np.clip(c, 0, 1)),
            x0,
            method="SLSQP",
            bounds=[(0, 1)] * n,
            constraints=cons,
            options={"maxiter": 500},
        )

    t_sp, res = timed(slsqp, 1)
    print("| solver | time | defender utility |")
    print("|---|---|---|")
    print(
        f"| ours (Dinkelbach + Lambert-W Lagrangian) | {fmt(t_ours)} | {s.defender_utility_:.6f} |"
    )
    print(f"| scipy SLSQP, one start (uniform) | {fmt(t_sp)} | {-res.fun:.6f} |")


def maximin_small(games: int = 48) -> None:
    print("\n### Monotonic maximin: order-LP local search vs the exact MILP (4–7 targets)\n")
    gaps, t_ex, t_lo = [], [], []
    for seed in range(games):
        n, m = 4 + seed % 4, 1 + seed % 3
        g = Game.from_arrays(*arrays(n, seed), resources=m)
        te, ex = timed(lambda g=g: MonotonicMaximin(g, method="exact").solve(), 1)
        tl, lo = timed(lambda g=g: MonotonicMaximin(g, method="local").solve(), 1)
        gaps.append(ex.worst_case_utility_ - lo.worst_case_utility_)
        t_ex.append(te)
        t_lo.append(tl)
    gap = np.array(gaps)
    print("| games | local = MILP (1e-6) | max gap | mean gap | MILP median | local median |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {games} | {int((np.abs(gap) <= 1e-6).sum())} | {gap.max():.3f} | {gap.mean():.4f} "
        f"| {fmt(statistics.median(t_ex))} | {fmt(statistics.median(t_lo))} |"
    )


def maximin_random(games: int = 80) -> None:
    print(
        "\n### Monotonic maximin: local vs exact MILP, random sizes (3–6 targets, 1–3 resources)\n"
    )
    pick = np.random.default_rng(123)
    gaps = []
    for _ in range(games):
        n, m, seed = int(pick.integers(3, 7)), int(pick.integers(1, 4)), int(pick.integers(10**6))
        g = Game.from_arrays(*arrays(n, seed), resources=m)
        ex = MonotonicMaximin(g, method="exact").solve().worst_case_utility_
        gaps.append(ex - MonotonicMaximin(g, method="local").solve().worst_case_utility_)
    gap = np.array(gaps)
    print("| games | local = MILP (1e-6) | max gap | mean gap |")
    print("|---|---|---|---|")
    print(f"| {games} | {int((np.abs(gap) <= 1e-6).sum())} | {gap.max():.3f} | {gap.mean():.4f} |")


def maximin_scale(seeds: int = 2) -> None:
    print("\n### Monotonic maximin at scale (m = n/10; local search, 600-LP budget)\n")
    print("| n | median time | worst case: ours | ORIGAMI coverage | uniform coverage |")
    print("|---|---|---|---|---|")
    for n in (50, 200, 500):
        ts, ours, ori, uni = [], [], [], []
        for seed in range(seeds):
            g = Game.from_arrays(*arrays(n, seed), resources=n // 10)
            t, s = timed(lambda g=g: MonotonicMaximin(g).solve(), 1)
            ts.append(t)
            ours.append(s.worst_case_utility_)
            ori.append(monotone_worst_case(g, Origami(g).solve().coverage_))
            uni.append(monotone_worst_case(g, np.full(n, (n // 10) / n)))
        print(
            f"| {n} | {fmt(statistics.median(ts))} | {np.mean(ours):.3f} | {np.mean(ori):.3f} "
            f"| {np.mean(uni):.3f} |"
        )


SECTIONS = {
    "grid_a": grid_a,
    "grid_b": grid_b,
    "eraser": eraser_bayes,
    "sampling": sampling,
    "qr": qr,
    "maximin": lambda: (maximin_small(), maximin_random(), maximin_scale()),
}


def main() -> None:
    """Run every section, or those named on the command line (``eraser maximin`` ...)."""
    print("# corridorguard.games benchmark")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} cores")
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    for name in sys.argv[1:] or list(SECTIONS):
        SECTIONS[name]()
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
