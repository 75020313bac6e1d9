"""Placement benchmark: MCLP exact and greedy+swap heuristic vs spopt + PuLP/CBC.

Exact = reductions, then our LP branch and bound (HiGHS dual simplex as the LP engine, GMI
and {0,1/2}-cuts at the root, lazy coverage rows) on reduced models up to 1,000 candidates,
else HiGHS's MIP solver (see docs/placement.md).

Instances follow the research digest: demand in 40 Gaussian clusters along a band (80 %) plus
uniform noise (20 %) on 600 × 600 km, lognormal weights, candidates near demand, Euclidean
distance. Both sides start from the same dense cost matrix; times are end to end (coverage,
model build, solve); spopt runs once per instance (seconds), ours ``--reps`` times (exact) and
``2 reps + 1`` times (heuristic), medians. Ratio = spopt time / our time. The exact objective
must equal spopt's on every instance (asserted). The compiled kernels are loaded by a warm-up
solve before timing (numba's on-disk cache; a fresh checkout compiles them once, ~10 s).

    python bench/bench_placement.py [--seeds 3] [--reps 3] [--big-limit 120] [--skip-large]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import numpy as np

from corridorguard.placement.mclp import MCLP


def instance(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.column_stack([rng.uniform(0, 600, 40), 300 + rng.normal(0, 90, 40)])
    nc = int(0.8 * n)
    pts = np.vstack(
        [
            centres[rng.integers(0, 40, nc)] + rng.normal(0, 15, (nc, 2)),
            rng.uniform(0, 600, (n - nc, 2)),
        ]
    )
    w = rng.lognormal(0, 1, n)
    cand = pts[rng.choice(n, m, replace=False)] + rng.normal(0, 5, (m, 2))
    return pts, cand, w


def cost_matrix(pts: np.ndarray, cand: np.ndarray) -> np.ndarray:
    return np.sqrt(((pts[:, None, :] - cand[None, :, :]) ** 2).sum(axis=2))


def ours(
    cost: np.ndarray, w: np.ndarray, r: float, p: int, method: str, limit: float = 60.0
) -> tuple[float, MCLP]:
    t0 = time.perf_counter()
    model = MCLP(cost <= r, w, p, method=method, time_limit=limit).solve()  # type: ignore[arg-type]
    return time.perf_counter() - t0, model


def spopt_cbc(cost: np.ndarray, w: np.ndarray, r: float, p: int) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pulp
        from spopt.locate import MCLP as SpoptMCLP

        t0 = time.perf_counter()
        model = SpoptMCLP.from_cost_matrix(cost, w, service_radius=r, p_facilities=p)
        model.solve(pulp.PULP_CBC_CMD(msg=False))
        return time.perf_counter() - t0, float(pulp.value(model.problem.objective))


def warm_up() -> None:
    """Load (or, on a fresh checkout, compile) the numba kernels outside the timed region."""
    pts, cand, w = instance(200, 50, 99)
    for method in ("heuristic", "exact"):
        ours(cost_matrix(pts, cand), w, 30.0, 5, method)


def medium(seeds: int, reps: int) -> None:
    print("\n## MCLP 2,000 demand x 500 candidates, p = 50")
    print(
        f"{'radius':>7s} {'seed':>4s} {'spopt+CBC s':>12s} {'exact s':>8s} {'ratio':>6s} "
        f"{'heur ms':>8s} {'heur/opt':>9s} {'heur gap':>9s} {'MIP cols':>8s} {'nodes':>6s} "
        f"{'cuts':>5s}"
    )
    for r in (30.0, 15.0):
        ts, te, th, q = [], [], [], []
        for seed in range(seeds):
            pts, cand, w = instance(2000, 500, seed)
            cost = cost_matrix(pts, cand)
            t_sp, obj_sp = spopt_cbc(cost, w, r, 50)
            runs = [ours(cost, w, r, 50, "exact") for _ in range(reps)]
            ex = runs[0][1]
            for _, e in runs:
                assert e.status_ == "optimal" and abs(e.covered_weight_ - obj_sp) <= 1e-6 * obj_sp
            hs = [ours(cost, w, r, 50, "heuristic") for _ in range(2 * reps + 1)]
            he = hs[0][1]
            assert he.covered_weight_ <= ex.covered_weight_ + 1e-9 and he.bound_ >= obj_sp
            ts.append(t_sp)
            te.append(statistics.median(t for t, _ in runs))
            th.append(statistics.median(t for t, _ in hs))
            q.append(he.covered_weight_ / ex.covered_weight_)
            cols = ex.stats_.get("mip_cols", 0) if ex.stats_.get("mip") else 0
            nodes = ex.stats_.get("bb_nodes", "-")
            cuts = ex.stats_.get("bb_cuts", "-")
            print(
                f"{r:5.0f}km {seed:4d} {t_sp:12.2f} {te[-1]:8.3f} {t_sp / te[-1]:5.1f}x "
                f"{th[-1] * 1e3:8.1f} {q[-1]:9.2%} {he.gap_:9.2%} {cols:8d} {nodes!s:>6s} "
                f"{cuts!s:>5s}",
                flush=True,
            )
        print(
            f"{r:5.0f}km  med {statistics.median(ts):12.2f} {statistics.median(te):8.3f} "
            f"{statistics.median(ts) / statistics.median(te):5.1f}x "
            f"{statistics.median(th) * 1e3:8.1f} {statistics.median(q):9.2%}   "
            f"(worst: exact {max(te):.3f} s, heuristic {max(th) * 1e3:.1f} ms, {min(q):.2%})"
        )


def large(limit: float) -> None:
    print("\n## MCLP 10,000 demand x 2,000 candidates, p = 100, r = 15 km (seed 0)")
    pts, cand, w = instance(10_000, 2_000, 0)
    cost = cost_matrix(pts, cand)
    hs = [ours(cost, w, 15.0, 100, "heuristic") for _ in range(5)]
    t_h = statistics.median(h[0] for h in hs)
    he = hs[0][1]
    t_ex, ex = ours(cost, w, 15.0, 100, "exact", limit=limit)
    print(
        f"heuristic: {t_h:.3f} s, covers {he.covered_weight_:.1f} "
        f"(own bound {he.bound_:.1f}, gap {he.gap_:.2%})"
    )
    engine = "our search" if "bb" in ex.stats_ else "HiGHS MIP"
    print(
        f"exact ({limit:.0f} s limit; {ex.stats_.get('mip_cols', 0)} columns after reduction, "
        f"{engine}): {t_ex:.1f} s, status {ex.status_}, "
        f"incumbent {ex.covered_weight_:.1f}, bound {ex.bound_:.1f}, gap {ex.gap_:.2%}"
    )
    best = max(ex.covered_weight_, he.covered_weight_)
    print(
        f"heuristic / best known: {he.covered_weight_ / best:.2%}; "
        f"heuristic / proven bound: {he.covered_weight_ / ex.bound_:.2%} (lower bound on "
        f"quality)"
    )
    print("spopt + CBC: not run at this size (digest: > 400 s, killed)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=3, help="exact runs per instance (heuristic: 2r+1)")
    ap.add_argument("--big-limit", type=float, default=120.0)
    ap.add_argument("--skip-large", action="store_true", help="only the 2,000 x 500 instances")
    args = ap.parse_args()
    print("# placement benchmark (medians; machine shared, expect noise)")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    warm_up()
    medium(args.seeds, args.reps)
    if not args.skip_large:
        large(args.big_limit)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
