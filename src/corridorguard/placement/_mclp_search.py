"""The MCLP coverage matrix in the layouts the kernels need, and the submodular online bound.

See :mod:`corridorguard.placement._mclp_kernels` for the search and
:mod:`corridorguard.placement.mclp` for the formulation and citations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix

__all__ = ["Cover", "online_bound"]


@dataclass(frozen=True)
class Cover:
    """A coverage matrix in the three layouts the kernels need, with its weights."""

    a: csr_matrix
    """``(n, m)`` 0/1 float CSR, sorted indices: demand × candidates."""
    ac: csc_matrix
    at: csr_matrix
    """``a.T`` as CSR (rows = candidates)."""
    w: np.ndarray

    @classmethod
    def of(cls, a: csr_matrix, w: np.ndarray) -> Cover:
        a = csr_matrix(a, dtype=np.float64)
        a.sort_indices()
        return cls(a, a.tocsc(), a.T.tocsr(), np.asarray(w, dtype=np.float64))

    @property
    def shape(self) -> tuple[int, int]:
        n, m = self.a.shape
        return int(n), int(m)

    def counts(self, sel: np.ndarray) -> np.ndarray:
        """How many selected candidates cover each demand row."""
        x = np.zeros(self.shape[1])
        x[sel] = 1.0
        return np.asarray(self.a @ x).astype(np.int64)

    def value(self, sel: np.ndarray) -> float:
        return float(self.w[self.counts(sel) > 0].sum())


def online_bound(cov: Cover, sel: np.ndarray, free: int) -> tuple[float, float, np.ndarray]:
    """``(value, bound, covered)``: the submodular online bound ``f(S) + sum of the ``free``
    largest marginal gains w.r.t. S`` (Leskovec et al. 2007), capped by the coverable weight."""
    a, w = cov.a, cov.w
    covered = cov.counts(sel) > 0
    value = float(w[covered].sum())
    gains = np.asarray(cov.at @ np.where(covered, 0.0, w)).ravel()
    gains[sel] = 0.0
    top = np.sort(gains)[::-1][:free]
    coverable = float(w[np.diff(a.indptr) > 0].sum())
    return value, min(value + float(top.sum()), coverable), covered
