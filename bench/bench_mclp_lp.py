"""Node-LP engines of the exact MCLP: our dual simplex (``own``) against HiGHS (``highs``).

Same instances as ``bench/bench_placement.py`` (2,000 demand x 500 candidates, p = 50, 30 km;
research-digest generator). For each seed and engine: the end-to-end exact solve (median of
``--reps``), the node LPs the branch and bound solved (root and cut rounds excluded: HiGHS
solves those for both engines), their total and mean time, and the simplex iterations. Both
engines must return the same objective (asserted). The peer (spopt + CBC) is not re-run here:
``bench/bench_placement.py`` measures it.

    python bench/bench_mclp_lp.py [--seeds 9] [--reps 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

import corridorguard.placement._mclp_lp as lp_mod
from bench_placement import cost_matrix, instance
from corridorguard.placement.mclp import MCLP

_LOG: dict[str, Any] = {}


def _wrap(cls: Any) -> None:
    """Time every non-root ``solve`` of the engine class."""
    orig = cls.solve

    def solve(self: Any, *, primal: bool = False) -> Any:
        t0 = time.perf_counter()
        out = orig(self, primal=primal)
        if not primal:
            _LOG["lp_time"] += time.perf_counter() - t0
            _LOG["lps"] += 1
            if isinstance(self, lp_mod.HighsLP):
                _LOG["iters"] += int(self.h.getInfo().simplex_iteration_count)
        return out

    cls.solve = solve


def run(cov: np.ndarray, w: np.ndarray, engine: str) -> tuple[float, MCLP, dict[str, Any]]:
    lp_mod.DEFAULT_ENGINE = engine
    made: list[Any] = []
    orig = lp_mod.make_engine

    def make(name: str | None, model: dict[str, Any], n_x: int) -> Any:
        made.append(orig(name, model, n_x))
        return made[-1]

    import corridorguard.placement._mclp_bb as bb_mod

    bb_mod.make_engine = make  # type: ignore[assignment]
    _LOG.update(lp_time=0.0, lps=0, iters=0)
    t0 = time.perf_counter()
    model = MCLP(cov, w, 50, method="exact", time_limit=60.0).solve()
    dt = time.perf_counter() - t0
    bb_mod.make_engine = orig  # type: ignore[assignment]
    log = dict(_LOG)
    own = [e for e in made if isinstance(e, lp_mod.OwnLP)]
    if own:
        log["iters"] = sum(e.iterations for e in own)
        log["fallbacks"] = sum(e.fallbacks for e in own)
    return dt, model, log


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=9)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    _wrap(lp_mod.HighsLP)
    _wrap(lp_mod.OwnLP)
    pts, cand, w = instance(200, 50, 99)  # load / compile the kernels outside the timing
    for engine in ("highs", "own"):
        run(cost_matrix(pts, cand) <= 30.0, w, engine)
    print(
        f"{'seed':>4s} {'engine':>6s} {'exact s':>8s} {'nodes':>5s} {'LPs':>4s} "
        f"{'LP s':>6s} {'ms/LP':>6s} {'iters/LP':>8s} {'fallbk':>6s}"
    )
    totals: dict[str, list[float]] = {"highs": [], "own": []}
    per_lp: dict[str, list[float]] = {"highs": [], "own": []}
    for seed in range(args.seeds):
        pts, cand, w = instance(2000, 500, seed)
        cov = cost_matrix(pts, cand) <= 30.0
        values = {}
        for engine in ("highs", "own"):
            runs = [run(cov, w, engine) for _ in range(args.reps)]
            dt = statistics.median(r[0] for r in runs)
            model, log = runs[0][1], runs[0][2]
            values[engine] = model.covered_weight_
            totals[engine].append(dt)
            lps = max(log["lps"], 1)
            per_lp[engine].append(log["lp_time"] / lps)
            print(
                f"{seed:4d} {engine:>6s} {dt:8.3f} {model.stats_.get('bb_nodes', 0):5d} "
                f"{log['lps']:4d} {log['lp_time']:6.3f} {1e3 * log['lp_time'] / lps:6.2f} "
                f"{log['iters'] / lps:8.1f} {log.get('fallbacks', 0):6d}",
                flush=True,
            )
        assert abs(values["own"] - values["highs"]) <= 1e-7 * values["highs"], values
    for engine in ("highs", "own"):
        print(
            f"{engine}: exact median {statistics.median(totals[engine]):.3f} s, "
            f"max {max(totals[engine]):.3f} s; "
            f"node LP median {1e3 * statistics.median(per_lp[engine]):.2f} ms"
        )


if __name__ == "__main__":
    main()
