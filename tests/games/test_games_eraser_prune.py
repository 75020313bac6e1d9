"""ERASER's incumbent-based pruning and warm-start search do not change the optimum."""

from __future__ import annotations

import pytest

from corridorguard.games import Eraser, random_game


@pytest.mark.parametrize(("n", "m", "types", "seed"), [(8, 2, 3, 0), (30, 4, 3, 1), (60, 6, 4, 2)])
def test_pruning_and_search_keep_the_optimum(n: int, m: int, types: int, seed: int) -> None:
    g = random_game(n, m, types=types, seed=seed)
    plain = Eraser(g, prune=False).solve()
    pruned = Eraser(g).solve()
    searched = Eraser(g, search_lps=6).solve()
    assert plain.pruned_ == 0 and pruned.pruned_ >= 0
    for s in (pruned, searched):
        assert s.defender_utility_ == pytest.approx(plain.defender_utility_, abs=1e-7)
        assert s.coverage_.sum() <= m + 1e-7


def test_pruning_fixes_binaries_on_a_large_game() -> None:
    # with 60 targets and 4 types some (type, target) pairs cannot beat the warm start
    s = Eraser(random_game(60, 6, types=4, seed=3)).solve()
    assert s.pruned_ > 0
