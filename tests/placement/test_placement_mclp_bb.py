"""The LP branch and bound of the exact MCLP against brute force, HiGHS and spopt + CBC."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix

import corridorguard.placement._mclp_bb as bb_mod
import corridorguard.placement._mclp_lp as lp_mod
import corridorguard.placement.mclp as mclp_mod
from corridorguard.placement import MCLP
from corridorguard.placement._mclp_bb import branch_and_bound
from corridorguard.placement._mclp_cuts import Cut
from corridorguard.placement._mclp_kernels import greedy
from corridorguard.placement._mclp_search import Cover
from corridorguard.placement.mclp import _mip


def _random(seed: int, n: int, m: int, density: float) -> Cover:
    rng = np.random.default_rng(seed)
    a = (rng.random((n, m)) < density).astype(float)
    a[np.arange(n), rng.integers(0, m, n)] = 1.0  # every demand row coverable
    return Cover.of(csr_matrix(a), rng.integers(1, 6, n) + rng.random(n).round(1))


def _all(cov: Cover, p: int) -> list[tuple[float, frozenset[int]]]:
    return [
        (cov.value(np.array(s, dtype=np.int64)), frozenset(s))
        for s in itertools.combinations(range(cov.shape[1]), p)
    ]


def _clustered(seed: int, n: int, m: int, radius: float) -> tuple[csr_matrix, np.ndarray]:
    """Demand in Gaussian clusters, candidates near demand: fractional LPs, real branching."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 100, (10, 2))
    d = centres[rng.integers(0, 10, n)] + rng.normal(0, 6, (n, 2))
    c = d[rng.choice(n, m, replace=False)] + rng.normal(0, 1, (m, 2))
    cov = csr_matrix(np.linalg.norm(d[:, None] - c[None], axis=2) <= radius)
    return cov, rng.lognormal(0, 1, n)


instances = st.tuples(
    st.integers(0, 10_000), st.integers(2, 18), st.integers(3, 9), st.floats(0.1, 0.5)
)


def _cut_holds(cov: Cover, sel: frozenset[int], cut: Cut) -> bool:
    """Whether the cut holds at every feasible point with selection ``sel``: ``x`` is the
    indicator of ``sel`` and each ``y_i`` anywhere in ``[0, min(1, A_i x)]``, so the
    smallest left-hand side puts ``y_i`` at its top where the coefficient is negative."""
    m = cov.shape[1]
    x = np.zeros(m)
    x[list(sel)] = 1.0
    ymax = np.minimum(np.asarray(cov.a @ x).ravel(), 1.0)
    is_x = cut.index < m
    lhs = float(cut.coef[is_x] @ x[cut.index[is_x]])
    cy, iy = cut.coef[~is_x], cut.index[~is_x] - m
    lhs += float(np.minimum(cy, 0.0) @ ymax[iy])
    return lhs >= cut.rhs - 1e-9


@settings(max_examples=80, deadline=None)
@given(
    inst=instances,
    p=st.integers(1, 4),
    limit=st.sampled_from([1, 3, 2000]),
    rounds=st.sampled_from([0, 1, 8]),
    lazy=st.booleans(),
)
def test_branch_and_bound_against_brute_force(
    inst: tuple, p: int, limit: int, rounds: int, lazy: bool
) -> None:
    """Finished: the optimum, a valid bound within the gap. Stopped (node limit): a feasible
    selection and a valid bound. Either way the root fixings keep every optimal solution, and
    every root cut holds at every selection at least as good as the one found (with any
    feasible ``y``), so no better solution is ever cut off. With lazy coverage rows the node
    LPs are relaxations: the same must hold."""
    seed, n, m, density = inst
    cov = _random(seed, n, m, density)
    p = min(p, m - 1)
    sols = _all(cov, p)
    best = max(v for v, _ in sols)
    start = greedy(cov, p, np.empty(0, np.int64))
    res = branch_and_bound(
        cov,
        p,
        start,
        rel_gap=1e-9,
        node_limit=limit,
        time_limit=None,
        cut_rounds=rounds,
        lazy_rows=lazy,
    )
    assert res is not None
    assert len(set(res.selection.tolist())) == p
    assert cov.value(res.selection) == pytest.approx(res.value)
    assert res.value >= cov.value(start) - 1e-12
    assert res.bound >= best - 1e-6 and res.root_bound >= best - 1e-6
    if res.finished:
        assert res.value == pytest.approx(best, rel=1e-9)
        assert res.bound <= best * (1 + 1e-9) + 1e-6
    else:
        assert limit < 2000
    out, into = set(np.nonzero(res.fix0)[0].tolist()), set(np.nonzero(res.fix1)[0].tolist())
    for v, s in sols:
        if s & out or not into <= s:  # a solution the fixings exclude is worse than found
            assert v < res.value + 1e-9
        if v >= res.value - 1e-9:
            assert all(_cut_holds(cov, s, c) for c in res.cuts)
    assert rounds > 0 or not res.cuts
    assert lazy or res.rows_left_out == 0
    assert res.rows_added <= res.rows_left_out


@pytest.mark.parametrize("seed", [3, 18, 19, 24, 27])
def test_root_cuts_hold_at_every_selection(seed: int) -> None:
    """Instances where the root LP is fractional and cuts are added: with the global bounds
    only (no incumbent to fix against: start from a poor selection), every cut holds at every
    feasible selection; the search still returns the brute-force optimum."""
    cov = _random(seed, 16, 9, 0.3)
    sols = _all(cov, 3)
    worst = min(sols, key=lambda t: t[0])[1]
    res = branch_and_bound(
        cov, 3, np.array(sorted(worst)), rel_gap=1e-9, node_limit=2000, time_limit=None
    )
    assert res is not None and res.finished
    assert res.value == pytest.approx(max(v for v, _ in sols), rel=1e-9)
    if not res.fix0.any() and not res.fix1.any():
        assert all(_cut_holds(cov, s, c) for _, s in sols for c in res.cuts)
    else:  # fixings: the cuts may cut off only what the fixings exclude (worse solutions)
        assert all(
            _cut_holds(cov, s, c) for v, s in sols if v >= res.value - 1e-9 for c in res.cuts
        )


def test_cuts_are_generated_and_shrink_the_search() -> None:
    """On a benchmark-like instance whose LP is half-integral the cuts lower the root bound
    and the search needs fewer nodes for the same optimum."""
    cov, w = _clustered(31, 60, 14, 15.0)
    full = Cover.of(cov, w)
    start = greedy(full, 4, np.empty(0, np.int64))
    plain = branch_and_bound(
        full, 4, start, rel_gap=1e-9, node_limit=2000, time_limit=None, cut_rounds=0
    )
    cut = branch_and_bound(full, 4, start, rel_gap=1e-9, node_limit=2000, time_limit=None)
    assert plain is not None and cut is not None and plain.finished and cut.finished
    assert cut.cuts and not plain.cuts
    assert cut.value == pytest.approx(plain.value, rel=1e-12)
    assert cut.nodes <= plain.nodes


@pytest.mark.parametrize(("seed", "radius"), [(3, 15.0), (4, 11.0), (1, 15.0)])
@pytest.mark.parametrize("rounds", [0, 8])
def test_exact_branch_and_bound_equals_the_full_mip(
    seed: int, radius: float, rounds: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clustered instances where the LP is fractional (without cuts the search branches:
    17-33 nodes; the cuts bring that to 1-3): our search (stats say so) returns the objective
    HiGHS proves on the unreduced model."""
    monkeypatch.setattr(bb_mod, "_CUT_ROUNDS", rounds)
    cov, w = _clustered(seed, 600, 120, radius)
    model = MCLP(cov, w, 12, method="exact", lagrangian_iters=0).solve()
    full = Cover.of(cov, w)
    sel, _bound, status = _mip(full, 12, greedy(full, 12, np.empty(0, np.int64)), model)
    assert status == "optimal" and model.status_ == "optimal"
    assert model.stats_["bb"] == "optimal"
    assert model.stats_["bb_nodes"] >= 5 if rounds == 0 else model.stats_["bb_cuts"] > 0
    assert model.covered_weight_ == pytest.approx(full.value(sel), rel=1e-9)
    assert model.bound_ >= model.covered_weight_ and model.gap_ <= 1e-6


def test_node_limit_hands_over_to_highs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped after one node, the search passes its incumbent and root fixings to HiGHS;
    the answer is still the optimum."""
    monkeypatch.setattr(bb_mod, "_CUT_ROUNDS", 0)  # without cuts this instance branches
    cov, w = _clustered(3, 600, 120, 15.0)
    free = MCLP(cov, w, 12, method="exact", lagrangian_iters=0).solve()
    monkeypatch.setattr(mclp_mod, "_BB_NODES", 2)
    capped = MCLP(cov, w, 12, method="exact", lagrangian_iters=0).solve()
    assert capped.stats_.get("bb") == "node limit"
    assert capped.status_ == "optimal"
    assert capped.covered_weight_ == pytest.approx(free.covered_weight_, rel=1e-9)
    monkeypatch.setattr(mclp_mod, "_BB_MAX_COLUMNS", 0)  # too big for the search: HiGHS only
    highs = MCLP(cov, w, 12, method="exact", lagrangian_iters=0).solve()
    assert "bb" not in highs.stats_
    assert highs.covered_weight_ == pytest.approx(free.covered_weight_, rel=1e-9)


@pytest.mark.parametrize("engine", ["highs", "own"])
@pytest.mark.parametrize("seed", [5, 6])
def test_branch_and_bound_equals_spopt_cbc(
    seed: int, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On either node-LP engine (:mod:`corridorguard.placement._mclp_lp`)."""
    made: list[object] = []

    def make(name: str | None, model: dict, n_x: int) -> object:
        made.append(lp_mod.make_engine(engine, model, n_x))
        return made[-1]

    monkeypatch.setattr(bb_mod, "make_engine", make)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pulp
        from spopt.locate import MCLP as SpoptMCLP

    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 100, (10, 2))
    d = centres[rng.integers(0, 10, 300)] + rng.normal(0, 6, (300, 2))
    c = d[rng.choice(300, 60, replace=False)] + rng.normal(0, 1, (60, 2))
    cost = np.linalg.norm(d[:, None] - c[None], axis=2)
    w = rng.lognormal(0, 1, 300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SpoptMCLP.from_cost_matrix(cost, w, service_radius=12.0, p_facilities=7)
        ref = ref.solve(pulp.PULP_CBC_CMD(msg=False))
    ours = MCLP(cost <= 12.0, w, 7, method="exact").solve()
    assert ours.status_ == "optimal"
    assert "bb_nodes" not in ours.stats_ or made  # the search ran on the engine asked for
    assert ours.covered_weight_ == pytest.approx(float(pulp.value(ref.problem.objective)), rel=1e-7)


def test_time_limit_inside_the_search_returns_incumbent_and_root_bound() -> None:
    """A benchmark-sized instance (2,000 x 500, 30 km, where the search needs ~100 nodes)
    with a 50 ms limit: the search stops on time with the incumbent and a valid bound."""
    rng = np.random.default_rng(2)
    centres = np.column_stack([rng.uniform(0, 600, 40), 300 + rng.normal(0, 90, 40)])
    pts = np.vstack(
        [
            centres[rng.integers(0, 40, 1600)] + rng.normal(0, 15, (1600, 2)),
            rng.uniform(0, 600, (400, 2)),
        ]
    )
    w = rng.lognormal(0, 1, 2000)
    cand = pts[rng.choice(2000, 500, replace=False)] + rng.normal(0, 5, (500, 2))
    cov = np.sqrt(((pts[:, None, :] - cand[None, :, :]) ** 2).sum(axis=2)) <= 30.0
    full = MCLP(cov, w, 50, method="exact").solve()
    assert full.status_ == "optimal" and full.stats_["bb"] == "optimal"
    capped = MCLP(cov, w, 50, method="exact", time_limit=0.05).solve()
    assert capped.status_ == "time_limit" and capped.stats_["bb"] == "time limit"
    assert len(capped.selected_) == 50
    assert capped.covered_weight_ <= full.covered_weight_ + 1e-9
    assert capped.bound_ >= full.covered_weight_ - 1e-6
    assert capped.gap_ == pytest.approx(
        (capped.bound_ - capped.covered_weight_) / capped.covered_weight_
    )


@pytest.mark.parametrize(("seed", "radius"), [(4, 11.0), (1, 15.0)])
def test_lazy_rows_and_cuts_keep_the_optimum_on_branching_instances(
    seed: int, radius: float
) -> None:
    """Instances where the plain search branches (~25 nodes) and node LPs violate left-out
    rows (which get added back): every combination of cuts and lazy rows finishes with the
    same optimum, which HiGHS's MIP solver proves on the same model."""
    cov, w = _clustered(seed, 600, 120, radius)
    full = Cover.of(cov, w)
    start = greedy(full, 12, np.empty(0, np.int64))
    runs = {
        (rounds, lazy): branch_and_bound(
            full,
            12,
            start,
            rel_gap=1e-9,
            node_limit=5000,
            time_limit=None,
            cut_rounds=rounds,
            lazy_rows=lazy,
        )
        for rounds in (0, 8)
        for lazy in (False, True)
    }
    model = MCLP(cov, w, 12, method="exact", lagrangian_iters=0)
    sel, _bound, status = _mip(full, 12, start, model)
    assert status == "optimal"
    plain, lazy_plain = runs[0, False], runs[0, True]
    assert plain is not None and lazy_plain is not None
    assert plain.nodes >= 20 and lazy_plain.nodes >= 20
    assert lazy_plain.rows_added > 0 and plain.rows_left_out == 0
    for res in runs.values():
        assert res is not None and res.finished
        assert res.value == pytest.approx(full.value(sel), rel=1e-9)
        assert full.value(res.selection) == pytest.approx(res.value, rel=1e-12)
        assert res.value <= res.bound <= res.value * (1 + 1e-9) + 1e-6
