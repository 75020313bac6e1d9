"""{0,1/2}-cuts from three coverage rows: validity at every integral point, a separator that
finds exactly the violated triples (its skips are proofs), and the search still exact."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix

from corridorguard.placement import MCLP
from corridorguard.placement._mclp_bb import branch_and_bound
from corridorguard.placement._mclp_cuts import Cut, triangle_cuts, violated_triangles
from corridorguard.placement._mclp_kernels import greedy
from corridorguard.placement._mclp_search import Cover


def _point(seed: int, n: int, m: int, density: float) -> tuple[csr_matrix, np.ndarray, np.ndarray]:
    """A random coverage matrix (most rows cover two columns, some more with ``density``) and a
    point ``0 <= x <= 1`` mostly at 1/2, so odd triangles of rows are common;
    ``0 <= y <= min(1, A x)``, mostly at the top."""
    rng = np.random.default_rng(seed)
    a = rng.random((n, m)) < density * (rng.random((n, 1)) < 0.3)
    for i in range(n):
        a[i, rng.choice(m, min(int(rng.choice([1, 2, 2, 2, 2, 3])), m), replace=False)] = True
    x = np.where(rng.random(m) < 0.8, 0.5, rng.choice([0.0, 0.25, 0.75, 1.0], m))
    cov = csr_matrix(a.astype(float))
    top = np.minimum(np.asarray(cov @ x).ravel(), 1.0)
    y = np.where(rng.random(n) < 0.85, top, top * rng.random(n))
    return cov, x, y


def _violation(a: csr_matrix, x: np.ndarray, y: np.ndarray, rows: tuple[int, ...]) -> float:
    """``sum_D y - sum_j ceil(c_j / 2) x_j - 1`` (how far the cut of ``D`` is violated)."""
    c = np.asarray(a[list(rows)].sum(axis=0)).ravel()
    return float(y[list(rows)].sum() - ((c + 1) // 2) @ x - 1.0)


def _is_half(cut: Cut, m: int) -> bool:
    is_y = cut.index >= m
    return cut.rhs == -1.0 and int(is_y.sum()) == 3 and bool((cut.coef[is_y] == -1.0).all())


def _holds_everywhere(a: csr_matrix, cut: Cut) -> bool:
    """The cut at every integral ``x`` (any number of columns) with the worst ``y``."""
    m = a.shape[1]
    for r in range(m + 1):
        for sel in itertools.combinations(range(m), r):
            x = np.zeros(m)
            x[list(sel)] = 1.0
            ymax = np.minimum(np.asarray(a @ x).ravel(), 1.0)
            is_x = cut.index < m
            lhs = float(cut.coef[is_x] @ x[cut.index[is_x]])
            lhs += float(np.minimum(cut.coef[~is_x], 0.0) @ ymax[cut.index[~is_x] - m])
            if lhs < cut.rhs - 1e-9:
                return False
    return True


def test_the_odd_triangle_is_cut() -> None:
    """Three demands covered by the pairs of three sites, every site at 1/2: the LP covers all
    three with 1.5 sites; the cut ``x_a + x_b + x_c - y_1 - y_2 - y_3 >= -1`` is violated by
    1/2 and holds at every selection."""
    a = csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]], dtype=float))
    x, y = np.full(3, 0.5), np.ones(3)
    tri, viol = violated_triangles(a, x, y, 0.1)
    assert tri.tolist() == [[0, 1, 2]] and viol == pytest.approx([0.5])
    (cut,) = triangle_cuts(a, x, y, 10)
    assert cut.index.tolist() == [0, 1, 2, 3, 4, 5]
    assert cut.coef.tolist() == [1.0, 1.0, 1.0, -1.0, -1.0, -1.0] and cut.rhs == -1.0
    assert _holds_everywhere(a, cut)


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 100_000),
    n=st.integers(3, 14),
    m=st.integers(3, 6),
    density=st.floats(0.2, 0.7),
    vmin=st.sampled_from([0.0, 0.05, 0.1, 0.2]),
)
def test_separator_finds_exactly_the_violated_triples(
    seed: int, n: int, m: int, density: float, vmin: float
) -> None:
    """Against every triple of rows: every triple violated by more than ``vmin`` is found (the
    row, column and pair-mass skips never drop one), nothing else is, and the reported
    violation is the true one."""
    a, x, y = _point(seed, n, m, density)
    tri, viol = violated_triangles(a, x, y, vmin)
    found = {tuple(t): v for t, v in zip(tri.tolist(), viol.tolist(), strict=True)}
    for rows in itertools.combinations(range(n), 3):
        v = _violation(a, x, y, rows)
        if v > vmin + 1e-7:
            assert rows in found
        if rows in found:
            assert found[rows] == pytest.approx(v, abs=1e-9)
            assert found[rows] > vmin - 1e-12


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 100_000),
    n=st.integers(3, 10),
    m=st.integers(2, 6),
    density=st.floats(0.2, 0.7),
)
def test_half_cuts_hold_at_every_integral_point(seed: int, n: int, m: int, density: float) -> None:
    """Every cut the separator returns holds at every 0/1 ``x`` (whatever the number of sites)
    with any feasible ``y``, and at most two cuts share a row."""
    a, x, y = _point(seed, n, m, density)
    cuts = triangle_cuts(a, x, y, 50, vmin=0.0)
    uses = np.zeros(n, dtype=int)
    for cut in cuts:
        assert _is_half(cut, m)
        uses[cut.index[cut.index >= m] - m] += 1
        assert _holds_everywhere(a, cut)
    assert uses.max(initial=0) <= 2


def _bench_like(seed: int, n: int, m: int, radius: float) -> tuple[csr_matrix, np.ndarray]:
    """The benchmark's generator (clustered demand on 600 x 600 km, candidates near demand)."""
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
    dist = np.sqrt(((pts[:, None, :] - cand[None, :, :]) ** 2).sum(axis=2))
    return csr_matrix(dist <= radius), w


def test_half_cuts_shrink_the_search_on_a_benchmark_like_instance() -> None:
    """300 x 80, p = 10, 40 km: the root gets {0,1/2}-cuts of the documented form (column
    ``j`` with coefficient ``ceil(c_j / 2)``, ``c_j`` the cut's rows it covers), the search
    needs fewer nodes and finds the same optimum."""
    a, w = _bench_like(4, 300, 80, 40.0)
    cov = Cover.of(a, w)
    start = greedy(cov, 10, np.empty(0, np.int64))
    plain = branch_and_bound(
        cov, 10, start, rel_gap=1e-9, node_limit=2000, time_limit=None, half_cuts=False
    )
    half = branch_and_bound(cov, 10, start, rel_gap=1e-9, node_limit=2000, time_limit=None)
    assert plain is not None and half is not None and plain.finished and half.finished
    assert half.value == pytest.approx(plain.value, rel=1e-12)
    m = cov.shape[1]
    halves = [c for c in half.cuts if _is_half(c, m)]
    assert halves and half.nodes < plain.nodes
    assert not any(_is_half(c, m) for c in plain.cuts)
    for cut in halves:
        rows = cut.index[cut.index >= m] - m
        c = np.asarray(cov.a[rows].sum(axis=0)).ravel()
        is_x = cut.index < m
        assert cut.index[is_x].tolist() == np.nonzero(c)[0].tolist()
        assert cut.coef[is_x].tolist() == ((c[c > 0] + 1) // 2).tolist()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(4, 16),
    m=st.integers(3, 8),
    density=st.floats(0.15, 0.5),
    p=st.integers(1, 4),
)
def test_search_with_half_cuts_equals_brute_force(
    seed: int, n: int, m: int, density: float, p: int
) -> None:
    """The branch and bound with {0,1/2}-cuts (and GMI cuts, lazy rows) returns the best
    ``p``-subset by enumeration, with a valid bound."""
    rng = np.random.default_rng(seed)
    a = (rng.random((n, m)) < density).astype(float)
    a[np.arange(n), rng.integers(0, m, n)] = 1.0
    cov = Cover.of(csr_matrix(a), rng.integers(1, 6, n) + rng.random(n).round(1))
    p = min(p, m - 1)
    best = max(cov.value(np.array(s, dtype=np.int64)) for s in itertools.combinations(range(m), p))
    start = greedy(cov, p, np.empty(0, np.int64))
    res = branch_and_bound(cov, p, start, rel_gap=1e-9, node_limit=2000, time_limit=None)
    assert res is not None and res.finished
    assert res.value == pytest.approx(best, rel=1e-9)
    assert best - 1e-6 <= res.bound <= best * (1 + 1e-9) + 1e-6
    for cut in res.cuts:
        if _is_half(cut, m):
            assert _holds_everywhere(cov.a, cut)


def test_exact_mclp_with_half_cuts_matches_the_full_mip() -> None:
    """End to end on a benchmark-like instance where the cuts fire: the exact MCLP equals
    HiGHS's MIP on the unreduced model."""
    from corridorguard.placement.mclp import _mip

    a, w = _bench_like(4, 300, 80, 40.0)
    model = MCLP(a, w, 10).solve()
    assert model.status_ == "optimal"
    cov = Cover.of(a, w)
    xs, _bound, status = _mip(cov, 10, greedy(cov, 10, np.empty(0, np.int64)), model)
    assert status == "optimal"
    assert model.covered_weight_ == pytest.approx(cov.value(xs), rel=1e-9)
