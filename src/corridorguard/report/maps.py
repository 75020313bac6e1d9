"""Static corridor maps (matplotlib, Agg, offline).

:func:`draw_scenario` draws a scenario on a matplotlib ``Axes`` (boundary, roads coloured by
route, nodes, sites sized by criticality) so other reports can overlay risk or plans on it;
:func:`write_corridor_map` writes a finished PNG with a legend, the data-label note (e.g.
"road graph: schematic; sites approximate; forces notional") and the attributions.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from corridorguard.scenario.model import Scenario

__all__ = ["ROUTE_COLOURS", "draw_scenario", "label_note", "write_corridor_map"]

ROUTE_COLOURS = (
    "#0067A5", "#BE0032", "#008856", "#875692", "#F38400", "#882D17", "#E68FAC", "#2B9FBF",
    "#8DB600", "#222255", "#654522", "#B3446C", "#E25822", "#604E97", "#00A89D", "#F6A600",
    "#5A6E1E", "#848482", "#C71585", "#1E3F66", "#A0522D", "#556B2F", "#9B59B6", "#D4AC0D",
)  # fmt: skip
"""Colours cycled over the routes (in order of first appearance)."""


def label_note(scenario: Scenario) -> str:
    """``road graph: schematic; sites approximate; forces notional`` from the scenario labels."""
    labels = scenario.labels
    parts = []
    if "roads" in labels:
        parts.append(f"road graph: {labels['roads']}")
    for layer in ("nodes", "sites", "forces", "movements"):
        if layer in labels and (layer != "nodes" or labels[layer] != "real"):
            parts.append(f"{layer} {labels[layer]}")
    return "; ".join(parts) if parts else "data labels not given"


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry.get("type") == "Polygon":
        return list(geometry["coordinates"])
    if geometry.get("type") == "MultiPolygon":
        return [ring for poly in geometry["coordinates"] for ring in poly]
    return []


def _route_colours(scenario: Scenario) -> dict[str, str]:
    routes: dict[str, str] = {}
    for e in scenario.edges:
        if e.route not in routes:
            routes[e.route] = ROUTE_COLOURS[len(routes) % len(ROUTE_COLOURS)]
    return routes


def _labelled_nodes(scenario: Scenario) -> set[str]:
    """Junctions and dead ends (degree != 2) and movement end points."""
    degree: Counter[str] = Counter()
    for e in scenario.edges:
        degree[e.source] += 1
        degree[e.target] += 1
    keep = {n.id for n in scenario.nodes if degree[n.id] != 2}
    keep |= {m.origin for m in scenario.movements} | {m.destination for m in scenario.movements}
    return keep


def draw_scenario(ax: Axes, scenario: Scenario, *, label_sites: bool = True) -> dict[str, str]:
    """Draw ``scenario`` on ``ax``; returns the route -> colour mapping used."""
    if scenario.boundary is not None:
        for ring in _rings(scenario.boundary):
            xs, ys = zip(*[(p[0], p[1]) for p in ring], strict=True)
            ax.fill(xs, ys, facecolor="#f2efe9", edgecolor="#777777", linewidth=0.8, zorder=0)
    colours = _route_colours(scenario)
    for e in scenario.edges:
        a, b = scenario.node(e.source), scenario.node(e.target)
        width = 2.2 if e.road_class == "motorway" else 1.5
        ax.plot([a.lon, b.lon], [a.lat, b.lat], color=colours[e.route], lw=width, zorder=2)
    exact = [n for n in scenario.nodes if not n.approximate]
    approx = [n for n in scenario.nodes if n.approximate]
    ax.scatter([n.lon for n in exact], [n.lat for n in exact], s=9, c="black", zorder=3)
    ax.scatter(
        [n.lon for n in approx], [n.lat for n in approx], s=14, facecolors="white",
        edgecolors="black", linewidths=0.8, zorder=3,
    )  # fmt: skip
    for node in scenario.nodes:
        if node.id in _labelled_nodes(scenario):
            ax.annotate(
                node.name.split(" (")[0], (node.lon, node.lat), xytext=(3, -7),
                textcoords="offset points", fontsize=5.5, color="#333333", zorder=4,
            )  # fmt: skip
    _draw_sites(ax, scenario, label_sites=label_sites)
    return colours


def _draw_sites(ax: Axes, scenario: Scenario, *, label_sites: bool) -> None:
    if not scenario.sites:
        return
    sizes = [18 + 22 * s.criticality for s in scenario.sites]
    ax.scatter(
        [s.lon for s in scenario.sites], [s.lat for s in scenario.sites], s=sizes, marker="D",
        c="#c0392b", edgecolors="white", linewidths=0.6, alpha=0.9, zorder=5,
    )  # fmt: skip
    if not label_sites:
        return
    x_right = max(n.lon for n in scenario.nodes)
    placed: list[tuple[float, float]] = []
    for s in sorted(scenario.sites, key=lambda s: (s.lat, s.lon)):
        k = sum(1 for x, y in placed if abs(x - s.lon) < 1.2 and abs(y - s.lat) < 0.8)
        placed.append((s.lon, s.lat))
        right = s.lon > x_right - 2.5
        ax.annotate(
            s.name, (s.lon, s.lat), xytext=(-8 if right else 8, 4 + 10 * k),
            textcoords="offset points", fontsize=5.5, color="#7b241c", zorder=6,
            ha="right" if right else "left",
            arrowprops={"arrowstyle": "-", "color": "#c0392b", "lw": 0.4},
        )  # fmt: skip


def write_corridor_map(
    scenario: Scenario, path: str | Path, *, dpi: int = 150, title: str | None = None
) -> Path:
    """Write a PNG map of ``scenario`` to ``path``; returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(10, 11.5))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.06, 0.1, 0.9, 0.83))
    colours = draw_scenario(ax, scenario)
    x0, y0, x1, y1 = scenario.bbox()
    pad = 0.6
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
    ax.set_xlabel("longitude (°E)", fontsize=8)
    ax.set_ylabel("latitude (°N)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, color="#dddddd", lw=0.4, zorder=-1)
    ax.set_title(title or scenario.title or scenario.name, fontsize=12)
    _legend(ax, colours)
    ax.text(
        0.5, 0.995, label_note(scenario), transform=ax.transAxes, ha="center", va="top",
        fontsize=10, fontweight="bold", color="#7b241c",
        bbox={"boxstyle": "round", "facecolor": "#fff3cd", "edgecolor": "#c0392b"}, zorder=10,
    )  # fmt: skip
    fig.text(0.06, 0.02, "\n".join(scenario.attribution), fontsize=6.5, color="#555555")
    fig.savefig(out, dpi=dpi)
    return out


def _legend(ax: Axes, colours: dict[str, str]) -> None:
    handles: list[Any] = [Line2D([], [], color=c, lw=2, label=r) for r, c in colours.items()]
    handles += [
        Line2D([], [], ls="", marker="o", color="black", ms=3, label="town (GeoNames)"),
        Line2D([], [], ls="", marker="o", mfc="white", mec="black", ms=4,
               label="approximate point"),
        Line2D([], [], ls="", marker="D", color="#c0392b", ms=5,
               label="project site (size = criticality)"),
    ]  # fmt: skip
    leg = ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(0.0, 0.95), fontsize=6, ncol=2,
        title="routes", title_fontsize=7, framealpha=0.9,
    )  # fmt: skip
    leg.set_zorder(11)
