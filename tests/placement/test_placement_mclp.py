"""MCLP: exact (HiGHS) against spopt + CBC and brute force; heuristic against the bound."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix

from corridorguard.errors import ValidationError
from corridorguard.placement import MCLP, great_circle_coverage, solve_mclp
from corridorguard.routing.graph import haversine_m


def _instance(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 100, (n, 2))
    c = rng.uniform(0, 100, (m, 2))
    cost = np.linalg.norm(d[:, None, :] - c[None, :, :], axis=2)
    return cost, rng.lognormal(0, 1, n)


def _brute(cov: np.ndarray, w: np.ndarray, p: int) -> float:
    return max(
        float(w[cov[:, list(s)].any(axis=1)].sum())
        for s in itertools.combinations(range(cov.shape[1]), p)
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_equals_spopt_cbc(seed: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pulp
        from spopt.locate import MCLP as SpoptMCLP

    cost, w = _instance(80, 25, seed)
    radius, p = 18.0, 4
    with warnings.catch_warnings():  # PuLP 3 deprecation chatter inside spopt
        warnings.simplefilter("ignore")
        ref = SpoptMCLP.from_cost_matrix(cost, w, service_radius=radius, p_facilities=p)
        ref = ref.solve(pulp.PULP_CBC_CMD(msg=False))
    ref_obj = float(pulp.value(ref.problem.objective))
    ours = MCLP(cost <= radius, w, p, method="exact").solve()
    assert ours.status_ == "optimal"
    assert ours.covered_weight_ == pytest.approx(ref_obj, rel=1e-7)
    assert ours.gap_ == pytest.approx(0.0, abs=1e-6)
    assert len(ours.selected_) == p


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 14),
    m=st.integers(1, 7),
    p=st.integers(1, 4),
    seed=st.integers(0, 10_000),
    density=st.floats(0.05, 0.6),
)
def test_brute_force_and_bounds(n: int, m: int, p: int, seed: int, density: float) -> None:
    p = min(p, m)
    rng = np.random.default_rng(seed)
    cov = rng.random((n, m)) < density
    w = rng.integers(0, 10, n).astype(float)
    best = _brute(cov, w, p)
    exact = MCLP(cov, w, p, method="exact").solve()
    heur = MCLP(cov, w, p, method="heuristic").solve()
    lag = MCLP(cov, w, p, method="heuristic", lagrangian_iters=40).solve()
    assert lag.covered_weight_ <= best + 1e-9 <= lag.bound_ + 2e-9
    assert lag.covered_weight_ >= heur.covered_weight_ - 1e-9  # the extra search never hurts
    assert exact.covered_weight_ == pytest.approx(best)
    assert heur.covered_weight_ <= best + 1e-9  # a heuristic never exceeds the optimum
    assert heur.bound_ >= best - 1e-9  # its bound is a true upper bound
    assert heur.bound_ >= heur.covered_weight_ and heur.gap_ >= 0
    for model in (exact, heur):
        sel = model.selected_
        assert len(set(sel.tolist())) == p
        assert model.covered_weight_ == pytest.approx(float(w[cov[:, sel].any(axis=1)].sum()))


def test_heuristic_close_on_clustered_instance() -> None:
    cost, w = _instance(600, 120, 5)
    cov = csr_matrix(cost <= 12.0)
    ex = MCLP(cov, w, 10, method="exact").solve()
    he = MCLP(cov, w, 10, method="heuristic").solve()
    assert he.covered_weight_ <= ex.covered_weight_ + 1e-9
    assert he.covered_weight_ >= 0.97 * ex.covered_weight_
    assert he.bound_ >= ex.covered_weight_ - 1e-9


def test_lagrangian_bound_is_valid_and_tighter() -> None:
    cost, w = _instance(800, 150, 8)
    cov = csr_matrix(cost <= 10.0)
    ex = MCLP(cov, w, 12, method="exact").solve()
    plain = MCLP(cov, w, 12, method="heuristic", lagrangian_iters=0).solve()
    lag = MCLP(cov, w, 12, method="heuristic", lagrangian_iters=150, fixed=[3]).solve()
    free = MCLP(cov, w, 12, method="heuristic", lagrangian_iters=150).solve()
    assert free.bound_ >= ex.covered_weight_ - 1e-9
    assert free.bound_ <= plain.bound_ + 1e-9
    assert free.covered_weight_ >= plain.covered_weight_ - 1e-9
    assert 3 in lag.selected_.tolist()


def test_fixed_candidates_are_kept() -> None:
    cost, w = _instance(60, 15, 3)
    model = MCLP(cost <= 20, w, 3, fixed=[7], method="exact").solve()
    assert 7 in model.selected_.tolist()
    with pytest.raises(ValidationError):
        MCLP(cost <= 20, w, 1, fixed=[1, 2])


def test_validation() -> None:
    with pytest.raises(ValidationError):
        MCLP(np.ones((3, 2)), [1, 1], 1)
    with pytest.raises(ValidationError):
        MCLP(np.ones((2, 2)), [1, -1], 1)
    with pytest.raises(ValidationError):
        MCLP(np.ones((2, 2)), [1, 1], 3)


def test_great_circle_coverage_matches_haversine() -> None:
    rng = np.random.default_rng(0)
    dl, dt = rng.uniform(70, 75, 200), rng.uniform(30, 36, 200)
    cl, ct = rng.uniform(70, 75, 40), rng.uniform(30, 36, 40)
    r = 60_000.0
    cov = great_circle_coverage(dl, dt, cl, ct, r).toarray() > 0
    ref = haversine_m(dl[:, None], dt[:, None], cl[None, :], ct[None, :]) <= r
    assert np.array_equal(cov, ref)


def _problem() -> dict:
    demand = [
        {"id": "d1", "lon": 72.90, "lat": 35.27, "weight": 5.0},
        {"id": "d2", "lon": 72.95, "lat": 35.30, "weight": 1.0},
        {"id": "d3", "lon": 73.50, "lat": 34.50, "weight": 3.0},
        {"id": 4, "lon": 73.05, "lat": 33.70, "weight": 2.0},
    ]
    candidates = [
        {"id": "c1", "lon": 72.92, "lat": 35.28},
        {"id": "c2", "lon": 73.49, "lat": 34.52},
        {"id": "c3", "lon": 73.06, "lat": 33.69},
    ]
    return {"demand": demand, "candidates": candidates, "radius_m": 10_000, "p": 2}


@pytest.mark.parametrize("method", ["exact", "heuristic"])
def test_solve_mclp_json(method: str) -> None:
    out = solve_mclp(_problem(), method=method)  # type: ignore[arg-type]
    assert set(out) == {"selected", "covered_weight", "bound", "gap", "method"}
    assert sorted(out["selected"]) == ["c1", "c2"]
    assert out["covered_weight"] == pytest.approx(9.0)
    assert out["bound"] >= out["covered_weight"]
    assert out["method"] == method
    if method == "exact":
        assert out["gap"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"p": 0}, "p"),
        ({"p": True}, "p"),
        ({"radius_m": -1}, "radius_m"),
        ({"demand": []}, "demand"),
        ({"demand": [{"id": "x", "lon": 200, "lat": 0, "weight": 1}]}, "demand[0].lon"),
        ({"demand": [{"id": "x", "lon": 0, "lat": 0}]}, "demand[0].weight"),
        ({"candidates": [{"id": "a", "lon": 0, "lat": 0}] * 2}, "candidates[1].id"),
    ],
)
def test_solve_mclp_rejects_bad_input(patch: dict, field: str) -> None:
    prob = {**_problem(), **patch}
    with pytest.raises(ValidationError) as exc:
        solve_mclp(prob)
    assert exc.value.field == field


def test_time_limit_returns_incumbent_bound_and_gap() -> None:
    rng = np.random.default_rng(11)
    d = rng.uniform(0, 300, (1500, 2))
    c = d[rng.choice(1500, 400, replace=False)]
    cov = csr_matrix(np.linalg.norm(d[:, None] - c[None], axis=2) <= 25.0)
    w = rng.lognormal(0, 1, 1500)
    model = MCLP(cov, w, 40, method="exact", time_limit=0.02).solve()
    assert model.status_ in ("time_limit", "optimal")
    assert len(model.selected_) == 40
    assert model.covered_weight_ <= model.bound_ + 1e-9
    assert model.gap_ == pytest.approx(
        (model.bound_ - model.covered_weight_) / model.covered_weight_
    )
