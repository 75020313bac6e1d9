"""Figures of the plan report (matplotlib Agg, no pyplot state): PNG bytes for embedding."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from corridorguard.report.maps import draw_scenario, label_note
from corridorguard.scenario.model import Scenario

__all__ = ["convoy_map", "placement_map", "png_bytes", "what_if_plot"]

_ROUTE_COLOURS = ["#c0392b", "#2471a3", "#229954", "#7d3c98", "#d68910"]


def png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _map(scenario: Scenario, title: str) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(8, 8))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.06, 0.06, 0.9, 0.86))
    draw_scenario(ax, scenario, label_sites=False)
    x0, y0, x1, y1 = scenario.bbox()
    ax.set_xlim(x0 - 0.3, x1 + 0.3)
    ax.set_ylim(y0 - 0.3, y1 + 0.3)
    ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
    ax.set_title(title, fontsize=11)
    ax.text(
        0.5, 0.995, label_note(scenario), transform=ax.transAxes, ha="center", va="top",
        fontsize=8, fontweight="bold", color="#7b241c",
        bbox={"boxstyle": "round", "facecolor": "#fff3cd", "edgecolor": "#c0392b"}, zorder=10,
    )  # fmt: skip
    return fig, ax


def placement_map(
    scenario: Scenario,
    *,
    checkpoints: Sequence[str],
    cameras: Sequence[str],
    drones: Sequence[str],
    qrf_bases: Sequence[str],
) -> bytes:
    """Checkpoint segments, camera and drone nodes and QRF bases over the corridor."""
    fig, ax = _map(scenario, "Checkpoints, sensors and quick-reaction forces (optimised)")
    edges = {e.id: e for e in scenario.edges}
    for k, eid in enumerate(checkpoints):
        e = edges[eid]
        a, b = scenario.node(e.source), scenario.node(e.target)
        ax.scatter(
            (a.lon + b.lon) / 2, (a.lat + b.lat) / 2, s=70, marker="s", c="#f1c40f",
            edgecolors="black", zorder=6, label="checkpoint" if k == 0 else None,
        )  # fmt: skip
    for nodes, marker, colour, label in (
        (cameras, "o", "#1f618d", "camera"),
        (drones, "^", "#117a65", "drone station"),
        (qrf_bases, "*", "#8e44ad", "QRF base"),
    ):
        pts = [scenario.node(n) for n in nodes]
        if pts:
            ax.scatter(
                [p.lon for p in pts], [p.lat for p in pts], s=150 if marker == "*" else 45,
                marker=marker, c=colour, edgecolors="white", zorder=7, label=label,
            )  # fmt: skip
    ax.legend(loc="lower left", fontsize=8)
    return png_bytes(fig)


def convoy_map(scenario: Scenario, routers: dict[str, Any]) -> bytes:
    """Every movement's alternative routes (line width = probability of use)."""
    fig, ax = _map(scenario, "Convoy routes and their randomised choice")
    for k, (cid, router) in enumerate(routers.items()):
        colour = _ROUTE_COLOURS[k % len(_ROUTE_COLOURS)]
        for r in router.routes_:
            xs, ys = zip(*r.coords, strict=True)
            ax.plot(
                xs, ys, color=colour, lw=1.5 + 5 * r.probability, alpha=0.75, zorder=5,
                label=f"{cid}: route {r.index} p={r.probability:.2f}",
            )  # fmt: skip
    ax.legend(loc="lower left", fontsize=7)
    return png_bytes(fig)


def what_if_plot(curves: dict[str, list[dict[str, Any]]], metric: str = "harm") -> bytes:
    """One panel per resource: the metric (with its CI) against the number added."""
    n = max(len(curves), 1)
    fig = Figure(figsize=(3.2 * n, 3.2))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    for ax, (name, curve) in zip(axes, curves.items(), strict=False):
        xs = [p["level"] for p in curve]
        ys = [p[metric]["mean"] for p in curve]
        lo = [p[metric]["mean"] - p[metric]["low"] for p in curve]
        hi = [p[metric]["high"] - p[metric]["mean"] for p in curve]
        ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=4, color="#1f618d")
        ax.set_title(f"+ {name}", fontsize=10)
        ax.set_xlabel("added")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("expected harm per attacker-day")
    fig.suptitle("What if we add resources? (95% CI)", fontsize=10)
    fig.tight_layout()
    return png_bytes(fig)
