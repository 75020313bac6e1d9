"""MCLP reductions and compiled kernels against brute force on small instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix

from corridorguard.placement import MCLP
from corridorguard.placement._mclp_kernels import descend, greedy, lagrangian
from corridorguard.placement._mclp_reduce import (
    _aggregate_exact,
    aggregate_rows,
    lagrangian_fixing,
    undominated,
)
from corridorguard.placement._mclp_search import Cover
from corridorguard.placement.mclp import _as_coverage, _mip


def _random(seed: int, n: int, m: int, density: float) -> Cover:
    rng = np.random.default_rng(seed)
    a = csr_matrix((rng.random((n, m)) < density).astype(float))
    return Cover.of(a, rng.integers(0, 6, n) + rng.random(n).round(1))


def _solutions(cov: Cover, p: int, fixed: np.ndarray) -> list[tuple[float, set[int]]]:
    m = cov.shape[1]
    out = []
    for s in itertools.combinations(range(m), p):
        if set(fixed.tolist()) <= set(s):
            out.append((cov.value(np.array(s, dtype=np.int64)), set(s)))
    return out


instances = st.tuples(
    st.integers(0, 10_000), st.integers(1, 16), st.integers(2, 7), st.floats(0.05, 0.7)
)


@settings(max_examples=40, deadline=None)
@given(inst=instances, p=st.integers(1, 4), n_fixed=st.integers(0, 2))
def test_reductions_keep_the_optimum(inst: tuple, p: int, n_fixed: int) -> None:
    seed, n, m, density = inst
    cov = _random(seed, n, m, density)
    p = min(p, m)
    fixed = np.arange(min(n_fixed, p), dtype=np.int64)
    sols = _solutions(cov, p, fixed)
    best = max(v for v, _ in sols)
    # aggregation: the same value for every selection, same as the exact grouping
    ak, wk = aggregate_rows(cov.a, cov.w)
    ek, ew = _aggregate_exact(cov.a, cov.w)
    assert (ak != ek).nnz == 0 and np.allclose(wk, ew)
    agg = Cover.of(ak, wk)
    for v, s in sols:
        assert agg.value(np.array(sorted(s), dtype=np.int64)) == pytest.approx(v)
    # dominance: some optimum uses only kept candidates (and fixed ones), with >= p kept
    keep = set(undominated(cov, fixed, p).tolist())
    assert len(keep) >= p and set(fixed.tolist()) <= keep
    assert max(v for v, s in sols if s <= keep) == pytest.approx(best)
    # Lagrangian fixing at any multipliers: the bound is valid and fixings never lose a
    # solution at least as good as `lower`
    rng = np.random.default_rng(seed)
    lam = rng.random(n) * cov.w
    lower = best if seed % 2 else max(v for v, _ in sols[:3])
    fix0, fix1, bound = lagrangian_fixing(cov, lam, fixed, p, lower)
    assert bound >= best - 1e-9
    for v, s in sols:
        if any(j in s for j in np.nonzero(fix0)[0]) or not set(np.nonzero(fix1)[0]) <= s:
            assert v < lower


@settings(max_examples=40, deadline=None)
@given(inst=instances, p=st.integers(1, 4), n_fixed=st.integers(0, 2))
def test_kernels_against_brute_force(inst: tuple, p: int, n_fixed: int) -> None:
    seed, n, m, density = inst
    cov = _random(seed, n, m, density)
    p = min(p, m)
    fixed = np.arange(min(n_fixed, p), dtype=np.int64)
    sols = _solutions(cov, p, fixed)
    best = max(v for v, _ in sols)
    g = greedy(cov, p, fixed)
    assert len(set(g.tolist())) == p and set(fixed.tolist()) <= set(g.tolist())
    # greedy: each pick has the largest marginal gain (ties may differ from a reference)
    for t in range(fixed.size, p):
        here = cov.value(g[: t + 1])
        for k in set(range(m)) - set(g[:t].tolist()):
            assert cov.value(np.append(g[:t], k)) <= here + 1e-9
    d = descend(cov, g, fixed)
    assert set(fixed.tolist()) <= set(d.tolist()) and len(set(d.tolist())) == p
    dv = cov.value(d)
    assert cov.value(g) - 1e-9 <= dv <= best + 1e-9
    for j in set(d.tolist()) - set(fixed.tolist()):  # a 1-swap local optimum
        for k in set(range(m)) - set(d.tolist()):
            assert cov.value(np.where(d == j, k, d)) <= dv + 1e-9
    if 0 < p - fixed.size < m - fixed.size:
        sets, values, lam, ub = lagrangian(cov, p, fixed, 30, dv, keep=3)
        assert ub >= best - 1e-9
        assert values[0] >= 0 and np.all(np.diff(values) <= 0)
        for sset, sval in zip(sets[values >= 0], values[values >= 0], strict=True):
            assert cov.value(sset) == pytest.approx(sval) and set(fixed.tolist()) <= set(sset)
        assert np.all((lam >= 0) & (lam <= cov.w))


@pytest.mark.parametrize(("seed", "radius"), [(0, 6.0), (1, 8.0), (3, 8.0)])
def test_exact_with_reductions_equals_the_full_mip(seed: int, radius: float) -> None:
    """Clustered instances where dominance and Lagrangian fixing shrink the MIP; the result
    equals HiGHS on the full, unreduced model (and the bound/gap say optimal)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 100, (8, 2))
    d = centres[rng.integers(0, 8, 500)] + rng.normal(0, 4, (500, 2))
    c = d[rng.choice(500, 90, replace=False)] + rng.normal(0, 1, (90, 2))
    cov = csr_matrix(np.linalg.norm(d[:, None] - c[None], axis=2) <= radius)
    w = rng.lognormal(0, 1, 500)
    model = MCLP(cov, w, 10, method="exact").solve()
    assert model.stats_["mip"] and model.stats_["fixed_out"] > 0
    assert model.stats_["mip_cols"] < model.stats_["undominated"] < 90
    full = Cover.of(cov, w)
    sel, _bound, status = _mip(full, 10, greedy(full, 10, np.empty(0, np.int64)), model)
    assert status == "optimal"
    assert model.status_ == "optimal"
    assert model.covered_weight_ == pytest.approx(full.value(sel), rel=1e-9)
    assert model.bound_ >= model.covered_weight_ and model.gap_ == pytest.approx(0, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(inst=instances, p=st.integers(1, 5), n_fixed=st.integers(0, 2))
def test_reduced_mip_path_is_exact(inst: tuple, p: int, n_fixed: int) -> None:
    """The reduce-then-MIP path on its own (any multipliers, greedy incumbent): the better of
    the incumbent and its answer is the brute-force optimum, its bound is valid."""
    seed, n, m, density = inst
    cov = _random(seed, n, m, density)
    p = min(p, m)
    fixed = np.arange(min(n_fixed, p), dtype=np.int64)
    best = max(v for v, _ in _solutions(cov, p, fixed))
    model = MCLP(cov.a, cov.w, p, fixed=fixed.tolist(), method="exact")
    model.stats_ = {}
    sel = greedy(cov, p, fixed)
    lam = np.random.default_rng(seed).random(n) * cov.w
    found, bound, status = model._exact(cov, sel, cov.value(sel), lam)
    assert status == "optimal"
    assert len(set(found.tolist())) == p and set(fixed.tolist()) <= set(found.tolist())
    assert max(cov.value(found), cov.value(sel)) == pytest.approx(best)
    assert bound >= best - 1e-9


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (5, 4), (300, 70)])
def test_dense_coverage_conversion_matches_scipy(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    dense = rng.random(shape) < 0.2
    for x in (dense, dense.astype(float), dense.astype(int) * 3):
        ours = _as_coverage(x)
        ref = csr_matrix(x, dtype=float)
        ref.data[:] = 1.0
        assert ours.shape == ref.shape and (ours != ref).nnz == 0 and ours.has_sorted_indices
