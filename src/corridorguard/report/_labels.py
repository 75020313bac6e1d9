"""Greedy label placement for map annotations (no overlaps where a free spot exists).

Each annotation (``gid`` ``"site"`` or ``"node"``) tries candidate offsets around its point in
turn and keeps the first whose text box overlaps no placed label, no plotted point and no
obstacle (the legend, an inset). Site labels go first; a node label that finds no free spot is
hidden, a site label keeps its least-crowded spot.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

__all__ = ["declutter"]

_CANDIDATES: tuple[tuple[float, float], ...] = (
    (5, 3), (5, -9), (-5, 3), (-5, -9), (0, 7), (0, -13), (9, 12), (-9, 12), (9, -18),
    (-9, -18), (14, 22), (-14, 22), (14, -28), (-14, -28), (22, 4), (-22, 4), (20, 34),
    (-20, 34), (20, -40), (-20, -40),
)  # fmt: skip


def _point_boxes(ax: Axes) -> list[Bbox]:
    boxes = []
    for coll in ax.collections:
        for x, y in ax.transData.transform(coll.get_offsets()):
            boxes.append(Bbox.from_extents(x - 2, y - 2, x + 2, y + 2))
    return boxes


def _place(ann: Annotation, renderer: Any, dx: float, dy: float) -> Bbox:
    ann.xyann = (dx, dy)
    ann.set_horizontalalignment("left" if dx > 0 else "right" if dx < 0 else "center")
    ann.set_verticalalignment("bottom" if dy >= 0 else "top")
    ann.update_positions(renderer)
    return Text.get_window_extent(ann, renderer)


def declutter(fig: Figure, axes: list[Axes], *, obstacles: dict[int, list[Bbox]]) -> None:
    """Move every labelled annotation of ``axes`` to a free spot (see the module docstring).

    ``obstacles`` maps ``id(ax)`` to extra boxes (display coordinates) to keep clear of.
    """
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    for ax in axes:
        frame = ax.get_window_extent(renderer)
        blocked = _point_boxes(ax) + obstacles.get(id(ax), [])
        placed: list[Bbox] = []
        anns = [t for t in ax.texts if isinstance(t, Annotation) and t.get_gid()]
        anns.sort(key=lambda a: a.get_gid() != "site")
        for ann in anns:
            best: tuple[int, float, float] | None = None
            near_only = ann.get_gid() == "node"  # no leader line: stay next to the dot
            for dx, dy in _CANDIDATES[:8] if near_only else _CANDIDATES:
                box = _place(ann, renderer, dx, dy)
                inside = frame.containsx(box.x0) and frame.containsx(box.x1)
                inside = inside and frame.containsy(box.y0) and frame.containsy(box.y1)
                hits = sum(box.overlaps(b) for b in placed) * 3 + sum(
                    box.overlaps(b) for b in blocked
                )
                hits += 0 if inside else 10
                if best is None or hits < best[0]:
                    best = (hits, dx, dy)
                if hits == 0:
                    break
            assert best is not None
            if best[0] > 0 and ann.get_gid() == "node":
                ann.set_visible(False)
                continue
            placed.append(_place(ann, renderer, best[1], best[2]))
