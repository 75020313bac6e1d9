"""The node-LP engines of the MCLP branch and bound: our dual simplex against HiGHS.

Every LP the own engine (:class:`OwnLP`) solves is compared with a fresh HiGHS solve of the
same LP (same bounds, same rows): the objective within 1e-7 relative, the solution primal
feasible, the reduced costs dual feasible, infeasible LPs detected as such. The LPs are
MCLP relaxations after random bound fixings, deleted ("lazy") coverage rows added back,
general sparse cut rows over ``(x, y)`` and saved / restored bases, i.e. what the search
does. Then the exact MCLP on the own engine against brute force, HiGHS and spopt + CBC.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from test_placement_mclp_bb import _all, _clustered, _random

import corridorguard.placement._mclp_bb as bb_mod
import corridorguard.placement._mclp_lp as lp_mod
from corridorguard.placement import MCLP
from corridorguard.placement._mclp_bb import branch_and_bound, model_arrays
from corridorguard.placement._mclp_kernels import greedy
from corridorguard.placement._mclp_lp import HighsLP, LPSolution, OwnLP, make_engine
from corridorguard.placement._mclp_search import Cover
from corridorguard.placement.mclp import _mip

_TOL = 1e-7


def _reference(own: OwnLP, model: dict[str, Any]) -> LPSolution | None:
    """HiGHS from scratch on the LP the own engine holds now."""
    ref = HighsLP(
        {
            **model,
            "lower": own.col_lo,
            "upper": own.col_hi,
            "a": own.rows.tocsc(),
            "row_lower": own.row_lo,
            "row_upper": own.row_hi,
        }
    )
    return ref.solve()


def _check(own: OwnLP, sol: LPSolution | None, ref: LPSolution | None) -> None:
    assert (sol is None) == (ref is None)
    if sol is None or ref is None:
        return
    assert sol.objective == pytest.approx(ref.objective, rel=_TOL, abs=_TOL)
    z = sol.col_value
    assert np.all(z >= own.col_lo - _TOL) and np.all(z <= own.col_hi + _TOL)
    act = own.rows @ z
    assert np.all(act >= own.row_lo - _TOL) and np.all(act <= own.row_hi + _TOL)
    assert float(model_cost(own) @ z) == pytest.approx(sol.objective, rel=_TOL, abs=_TOL)
    # maximising, HiGHS's sign: a column strictly below its upper bound has col_dual <= 0,
    # one strictly above its lower bound col_dual >= 0 (basic ones: 0)
    scale = _TOL * max(float(np.abs(model_cost(own)).max()), 1.0)
    d = sol.col_dual
    below = z < own.col_hi - 1e-9
    above = z > own.col_lo + 1e-9
    assert np.all(d[below] <= scale) and np.all(d[above] >= -scale)


def model_cost(own: OwnLP) -> np.ndarray:
    return own.sign * own.cost


def _cut_row(rng: np.random.Generator, z: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """A random sparse row ``coef @ z[index] >= rhs`` over ``(x, y)`` that the current LP
    point violates a little (like a GMI cut; it may make the LP infeasible)."""
    k = int(rng.integers(2, min(n, 8) + 1))
    index = np.sort(rng.choice(n, k, replace=False))
    coef = rng.uniform(0.2, 2.0, k) * rng.choice([-1.0, 1.0], k, p=[0.3, 0.7])
    rhs = float(coef @ z[index]) + float(rng.uniform(0.01, 0.5))
    return np.array([rhs]), np.array([np.inf]), np.array([0, k]), index, coef


def _run(cov: Cover, p: int, seed: int, steps: int, lazy: bool) -> OwnLP:
    """The search's sequence of LP operations, randomised, each LP checked against HiGHS."""
    rng = np.random.default_rng(seed)
    nk, m = cov.shape
    model = model_arrays(cov, p)
    own = OwnLP(model, m)
    own.set_highs_basis(bb_mod._start_basis(cov, greedy(cov, p, np.empty(0, np.int64))))
    root = own.solve(primal=True)
    assert root is not None
    left_out = np.zeros(nk, dtype=bool)
    if lazy:  # the over-covered rows leave the LP, as in the search
        left_out = np.asarray(cov.a @ root.col_value[:m]) > 1.0 + 1e-6
        if left_out.any():
            own.delete_rows(np.nonzero(left_out)[0])
    saved: list[Any] = []
    for _ in range(steps):
        action = rng.random()
        if action < 0.55:
            cols = rng.choice(m, int(rng.integers(1, 3)), replace=False)
            b = float(rng.integers(0, 2))
            own.set_col_bounds(cols, b, b)
        elif action < 0.7:
            own.set_col_bounds(np.arange(m), 0.0, 1.0)
        elif action < 0.8 and own.last is not None:
            own.add_rows(*_cut_row(rng, own.last.col_value, m + nk))
        elif action < 0.9 and left_out.any():
            i = int(rng.choice(np.nonzero(left_out)[0]))
            left_out[i] = False
            row = cov.a[[i]]
            idx = np.concatenate([[m + i], row.indices])
            own.add_rows(
                np.array([-np.inf]),
                np.array([0.0]),
                np.array([0, idx.size]),
                idx,
                np.concatenate([[1.0], -np.ones(row.nnz)]),
            )
        elif saved:
            own.set_basis(saved[int(rng.integers(len(saved)))])
        sol = own.solve()
        _check(own, sol, _reference(own, model))
        if sol is not None and rng.random() < 0.3:
            saved = [own.get_basis()]  # only the latest: bases saved before added rows pad
        if sol is None:
            own.set_col_bounds(np.arange(m), 0.0, 1.0)
            _check(own, own.solve(), _reference(own, model))
    return own


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(3, 40),
    m=st.integers(3, 14),
    density=st.floats(0.05, 0.5),
    p=st.integers(1, 6),
    lazy=st.booleans(),
)
def test_own_engine_matches_highs_on_random_small_lps(
    seed: int, n: int, m: int, density: float, p: int, lazy: bool
) -> None:
    cov = _random(seed, n, m, density)
    own = _run(cov, min(p, m - 1), seed, 8, lazy)
    assert own.own_solves + own.fallbacks > 0


@pytest.mark.parametrize(("seed", "radius"), [(3, 15.0), (4, 11.0), (1, 15.0)])
def test_own_engine_matches_highs_on_medium_lps(seed: int, radius: float) -> None:
    """Clustered 600 x 120 instances (fractional, degenerate LPs): our simplex solves them
    itself (no HiGHS fallback) and agrees with HiGHS on every one."""
    cov, w = _clustered(seed, 600, 120, radius)
    own = _run(Cover.of(csr_matrix(cov), w), 12, seed, 25, lazy=True)
    assert own.own_solves >= 20 and own.fallbacks == 0 and own.iterations > 0


def test_infeasible_lps_are_detected() -> None:
    """More columns fixed to 1 than ``p``, or too many fixed to 0: no feasible point."""
    cov = _random(7, 30, 10, 0.3)
    model = model_arrays(cov, 3)
    own = OwnLP(model, 10)
    own.set_highs_basis(bb_mod._start_basis(cov, np.array([0, 1, 2])))
    assert own.solve(primal=True) is not None
    own.set_col_bounds(np.arange(4), 1.0, 1.0)
    assert own.solve() is None and _reference(own, model) is None
    own.set_col_bounds(np.arange(10), 0.0, 1.0)
    _check(own, own.solve(), _reference(own, model))
    own.set_col_bounds(np.arange(8), 0.0, 0.0)
    assert own.solve() is None and _reference(own, model) is None
    assert own.own_solves >= 3 and own.fallbacks == 0


def test_fallback_to_highs_keeps_the_answers() -> None:
    """With no iterations allowed every node LP that needs one goes to HiGHS (with our
    basis and bounds pushed over); the answers are still HiGHS's and the engine goes on."""
    cov = _random(11, 40, 12, 0.25)
    model = model_arrays(cov, 4)
    own = OwnLP(model, 12)
    own.max_iter = 0
    own.set_highs_basis(bb_mod._start_basis(cov, greedy(cov, 4, np.empty(0, np.int64))))
    assert own.solve(primal=True) is not None
    rng = np.random.default_rng(3)
    for _ in range(12):
        own.set_col_bounds(np.arange(12), 0.0, 1.0)
        own.set_col_bounds(rng.choice(12, 3, replace=False), 0.0, 0.0)
        _check(own, own.solve(), _reference(own, model))
    assert own.fallbacks > 0


def test_make_engine_names() -> None:
    model = model_arrays(_random(1, 10, 5, 0.3), 2)
    assert isinstance(make_engine("highs", model, 5), HighsLP)
    assert isinstance(make_engine("own", model, 5), OwnLP)
    with pytest.raises(ValueError, match="unknown"):
        make_engine("glpk", model, 5)


@settings(max_examples=40, deadline=None)
@given(
    inst=st.tuples(
        st.integers(0, 10_000), st.integers(2, 18), st.integers(3, 9), st.floats(0.1, 0.5)
    ),
    p=st.integers(1, 4),
    rounds=st.sampled_from([0, 8]),
    lazy=st.booleans(),
)
def test_branch_and_bound_on_the_own_engine_against_brute_force(
    inst: tuple[int, int, int, float], p: int, rounds: int, lazy: bool
) -> None:
    seed, n, m, density = inst
    cov = _random(seed, n, m, density)
    p = min(p, m - 1)
    best = max(v for v, _ in _all(cov, p))
    start = greedy(cov, p, np.empty(0, np.int64))
    res = branch_and_bound(
        cov,
        p,
        start,
        rel_gap=1e-9,
        node_limit=2000,
        time_limit=None,
        cut_rounds=rounds,
        lazy_rows=lazy,
        lp_engine="own",
    )
    assert res is not None and res.finished
    assert res.value == pytest.approx(best, rel=1e-9)
    assert res.bound >= best - 1e-6 and res.bound <= best * (1 + 1e-9) + 1e-6


@pytest.fixture
def own_engine(monkeypatch: pytest.MonkeyPatch) -> list[OwnLP]:
    """Make the own engine the default and collect the engines the searches create."""
    made: list[OwnLP] = []

    def make(name: str | None, model: dict[str, Any], n_x: int) -> Any:
        engine = OwnLP(model, n_x)
        made.append(engine)
        return engine

    monkeypatch.setattr(lp_mod, "DEFAULT_ENGINE", "own")
    monkeypatch.setattr(bb_mod, "make_engine", make)
    return made


@pytest.mark.parametrize(("seed", "radius"), [(3, 15.0), (4, 11.0), (1, 15.0)])
def test_exact_mclp_on_the_own_engine_equals_highs_mip(
    seed: int, radius: float, own_engine: list[OwnLP], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without cuts these instances branch (17-33 nodes): the exact MCLP on our simplex
    returns the objective HiGHS's MIP solver proves on the unreduced model."""
    monkeypatch.setattr(bb_mod, "_CUT_ROUNDS", 0)
    cov, w = _clustered(seed, 600, 120, radius)
    model = MCLP(cov, w, 12, method="exact", lagrangian_iters=0).solve()
    full = Cover.of(cov, w)
    sel, _bound, status = _mip(full, 12, greedy(full, 12, np.empty(0, np.int64)), model)
    assert status == "optimal" and model.status_ == "optimal" and model.stats_["bb"] == "optimal"
    assert model.stats_["bb_nodes"] >= 5
    assert model.covered_weight_ == pytest.approx(full.value(sel), rel=1e-9)
    assert sum(e.own_solves for e in own_engine) >= 5
