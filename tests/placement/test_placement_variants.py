"""LSCP, p-median and p-center against spopt + CBC; budgeted cover against brute force."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from corridorguard.errors import ValidationError
from corridorguard.placement.variants import LSCP, PCenter, PMedian, budgeted_max_cover


def _cost(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    d, c = rng.uniform(0, 100, (n, 2)), rng.uniform(0, 100, (m, 2))
    return np.linalg.norm(d[:, None] - c[None], axis=2), rng.integers(1, 10, n).astype(float)


def _spopt(kind: str, cost: np.ndarray, w: np.ndarray, p: int, radius: float) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pulp
        from spopt.locate import LSCP as SL
        from spopt.locate import PCenter as SC
        from spopt.locate import PMedian as SM

        if kind == "lscp":
            model = SL.from_cost_matrix(cost, service_radius=radius)
        elif kind == "pmedian":
            model = SM.from_cost_matrix(cost, w, p_facilities=p)
        else:
            model = SC.from_cost_matrix(cost, p_facilities=p)
        model = model.solve(pulp.PULP_CBC_CMD(msg=False))
        return float(pulp.value(model.problem.objective))


@pytest.mark.parametrize("seed", [0, 1])
def test_against_spopt(seed: int) -> None:
    cost, w = _cost(40, 12, seed)
    radius = 35.0
    lscp = LSCP(cost <= radius).solve()
    if lscp.uncoverable_.size == 0:
        assert lscp.count_ == pytest.approx(_spopt("lscp", cost, w, 0, radius))
    coverable = (cost <= radius).any(axis=1)
    assert (cost[:, lscp.selected_] <= radius).any(axis=1)[coverable].all()
    pm = PMedian(cost, w, 3).solve()
    assert pm.objective_ == pytest.approx(_spopt("pmedian", cost, w, 3, 0), rel=1e-6)
    pc = PCenter(cost, 3).solve()
    assert pc.objective_ == pytest.approx(_spopt("pcenter", cost, w, 3, 0), rel=1e-6)
    assert len(pc.selected_) == 3 and len(pm.selected_) == 3


def test_pmedian_pcenter_brute_force() -> None:
    cost, w = _cost(15, 7, 4)
    best_med = min(
        (w * cost[:, list(s)].min(axis=1)).sum() for s in itertools.combinations(range(7), 2)
    )
    best_cen = min(cost[:, list(s)].min(axis=1).max() for s in itertools.combinations(range(7), 2))
    assert PMedian(cost, w, 2).solve().objective_ == pytest.approx(best_med)
    assert PCenter(cost, 2).solve().objective_ == pytest.approx(best_cen)


def test_unservable_demand_rejected() -> None:
    cost = np.array([[1.0, np.inf], [np.inf, np.inf]])
    with pytest.raises(ValidationError):
        PMedian(cost, [1, 1], 1)
    with pytest.raises(ValidationError):
        PCenter(cost, 1)


def test_lscp_reports_uncoverable() -> None:
    cov = np.array([[1, 0], [0, 0], [1, 1]], dtype=bool)
    model = LSCP(cov).solve()
    assert model.uncoverable_.tolist() == [1]
    assert model.count_ == 1


def test_budgeted_cover_brute_force() -> None:
    rng = np.random.default_rng(3)
    cov = rng.random((20, 8)) < 0.3
    w = rng.integers(1, 9, 20).astype(float)
    c = rng.uniform(1, 5, 8)
    res = budgeted_max_cover(cov, w, c, max_count=3, budget=6.0)
    best = 0.0
    for k in range(4):
        for s in itertools.combinations(range(8), k):
            if c[list(s)].sum() <= 6.0:
                best = max(best, float(w[cov[:, list(s)].any(axis=1)].sum()))
    assert res.objective == pytest.approx(best)
    chosen = np.nonzero(res.x[:8] > 0.5)[0]
    assert c[chosen].sum() <= 6.0 + 1e-9 and len(chosen) <= 3
