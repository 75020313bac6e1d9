"""Heat map of a forecast (PNG, matplotlib's Agg canvas; no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from corridorguard.risk.grid import Grid

__all__ = ["render_heatmap"]


def render_heatmap(
    grid: Grid,
    values: ArrayLike,
    path: str | Path,
    *,
    title: str = "Expected incidents per cell",
    points: tuple[ArrayLike, ArrayLike] | None = None,
    label: str = "expected incidents per cell",
    dpi: int = 120,
) -> Path:
    """Write a PNG heat map of ``values`` (one per active cell) in projected km.

    ``points`` (lon, lat) are drawn on top (e.g. the training events). Cells outside the region
    are blank.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    full = np.ma.masked_invalid(grid.to_full(values))
    extent = (
        grid.x0 / 1000,
        (grid.x0 + grid.nx * grid.cell) / 1000,
        grid.y0 / 1000,
        (grid.y0 + grid.ny * grid.cell) / 1000,
    )
    fig = Figure(figsize=(7, 6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(full, origin="lower", extent=extent, cmap="inferno_r", interpolation="nearest")
    if points is not None:
        x, y = grid.project(*points)
        ax.scatter(x / 1000, y / 1000, s=2, c="tab:cyan", alpha=0.5, linewidths=0)
    fig.colorbar(im, ax=ax, label=label)
    ax.set_xlabel("km (equal-area projection)")
    ax.set_ylabel("km")
    ax.set_title(title)
    ax.set_aspect("equal")
    out = Path(path)
    fig.savefig(out, dpi=dpi, bbox_inches="tight")
    return out
