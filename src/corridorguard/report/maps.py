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

from corridorguard.report._labels import declutter
from corridorguard.scenario.model import Scenario

__all__ = [
    "ROUTE_COLOURS",
    "Window",
    "corridor_figure",
    "densest_window",
    "draw_scenario",
    "label_note",
    "write_corridor_map",
]

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


def _short(name: str) -> str:
    return name.split(" (")[0]


Window = tuple[float, float, float, float]
"""(min lon, min lat, max lon, max lat)."""


def _inside(lon: float, lat: float, w: Window) -> bool:
    return w[0] <= lon <= w[2] and w[1] <= lat <= w[3]


def draw_scenario(
    ax: Axes,
    scenario: Scenario,
    *,
    label_sites: bool = True,
    window: Window | None = None,
    unlabelled: Window | None = None,
) -> dict[str, str]:
    """Draw ``scenario`` on ``ax``; returns the route -> colour mapping used.

    Without ``window`` (the whole scenario) only junctions, dead ends and movement end points
    are named; with a ``window`` (a zoomed inset) every node and site inside it is named.
    Nothing inside ``unlabelled`` is named (an inset shows it).
    """
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
    named = _labelled_nodes(scenario) if window is None else set(scenario.node_index)
    for node in scenario.nodes:
        if node.id not in named or (unlabelled and _inside(node.lon, node.lat, unlabelled)):
            continue
        if window is None or _inside(node.lon, node.lat, window):
            ax.annotate(
                _short(node.name), (node.lon, node.lat), xytext=(3, -7),
                textcoords="offset points", fontsize=5.5, color="#333333", zorder=4,
                annotation_clip=True, clip_on=window is not None, gid="node",
            )  # fmt: skip
    _draw_sites(
        ax, scenario, label_sites=label_sites, window=window or scenario.bbox(),
        clip=window is not None, unlabelled=unlabelled,
    )  # fmt: skip
    return colours


def _draw_sites(
    ax: Axes,
    scenario: Scenario,
    *,
    label_sites: bool,
    window: Window,
    clip: bool,
    unlabelled: Window | None,
) -> None:
    if not scenario.sites:
        return
    sizes = [18 + 22 * s.criticality for s in scenario.sites]
    ax.scatter(
        [s.lon for s in scenario.sites], [s.lat for s in scenario.sites], s=sizes, marker="D",
        c="#c0392b", edgecolors="white", linewidths=0.6, alpha=0.9, zorder=5,
    )  # fmt: skip
    if not label_sites:
        return
    for s in scenario.sites:
        if not _inside(s.lon, s.lat, window) or (unlabelled and _inside(s.lon, s.lat, unlabelled)):
            continue
        ax.annotate(
            _short(s.name), (s.lon, s.lat), xytext=(8, 4), textcoords="offset points",
            fontsize=5.5, color="#7b241c", zorder=6, clip_on=clip, gid="site",
            arrowprops={"arrowstyle": "-", "color": "#c0392b", "lw": 0.4, "shrinkA": 0},
        )  # fmt: skip


def densest_window(scenario: Scenario, *, half_lon: float = 1.3, half_lat: float = 1.0) -> Window:
    """The window around the node with the most nodes and sites nearby (for a zoomed inset)."""
    points = [(n.lon, n.lat) for n in scenario.nodes] + [(s.lon, s.lat) for s in scenario.sites]

    def crowd(n: Any) -> int:
        return sum(
            1 for x, y in points if abs(x - n.lon) <= half_lon and abs(y - n.lat) <= half_lat
        )

    centre = max(scenario.nodes, key=crowd)
    return (
        centre.lon - half_lon,
        centre.lat - half_lat,
        centre.lon + half_lon,
        centre.lat + half_lat,
    )


def write_corridor_map(
    scenario: Scenario,
    path: str | Path,
    *,
    dpi: int = 150,
    title: str | None = None,
    inset: Window | bool | None = True,
) -> Path:
    """Write a PNG map of ``scenario`` to ``path`` (see :func:`corridor_figure`); returns it."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    corridor_figure(scenario, title=title, inset=inset).savefig(out, dpi=dpi)
    return out


def _worth_an_inset(scenario: Scenario) -> Window | None:
    """The densest window when it holds >= 8 points and is small against the whole map."""
    window = densest_window(scenario)
    x0, y0, x1, y1 = scenario.bbox()
    points = [(n.lon, n.lat) for n in scenario.nodes] + [(s.lon, s.lat) for s in scenario.sites]
    crowd = sum(1 for x, y in points if _inside(x, y, window))
    small = (window[2] - window[0]) < 0.35 * (x1 - x0) and (window[3] - window[1]) < 0.35 * (
        y1 - y0
    )
    return window if crowd >= 8 and small else None


def corridor_figure(
    scenario: Scenario, *, title: str | None = None, inset: Window | bool | None = True
) -> Figure:
    """The corridor map as a matplotlib ``Figure`` (Agg canvas, no pyplot state).

    ``inset``: ``True`` adds a zoomed panel (lower right) on the most crowded area
    (:func:`densest_window`) when it holds at least 8 points and is small against the whole
    map, a window ``(lon0, lat0, lon1, lat1)`` zooms there, ``False`` or
    ``None`` draws no inset.
    """
    fig = Figure(figsize=(10, 11.5))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.06, 0.1, 0.9, 0.83))
    if inset is True:
        inset = _worth_an_inset(scenario)
    window = inset or None
    colours = draw_scenario(ax, scenario, unlabelled=window)
    x0, y0, x1, y1 = scenario.bbox()
    pad = 0.6
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    aspect = 1 / math.cos(math.radians((y0 + y1) / 2))
    ax.set_aspect(aspect)
    ax.set_xlabel("longitude (°E)", fontsize=8)
    ax.set_ylabel("latitude (°N)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, color="#dddddd", lw=0.4, zorder=-1)
    ax.set_title(title or scenario.title or scenario.name, fontsize=12)
    legend = _legend(ax, colours)
    note = ax.text(
        0.5, 0.995, label_note(scenario), transform=ax.transAxes, ha="center", va="top",
        fontsize=10, fontweight="bold", color="#7b241c",
        bbox={"boxstyle": "round", "facecolor": "#fff3cd", "edgecolor": "#c0392b"}, zorder=10,
    )  # fmt: skip
    axes, blocked = [ax], [legend, note]
    if window is not None:
        sub = _inset(ax, scenario, window, aspect)
        axes.append(sub)
        blocked.append(sub)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes = [a.get_window_extent(renderer) for a in blocked]
    declutter(fig, axes, obstacles={id(ax): boxes})
    fig.text(0.06, 0.02, "\n".join(scenario.attribution), fontsize=6.5, color="#555555")
    return fig


def _inset(ax: Axes, scenario: Scenario, window: Window, aspect: float) -> Axes:
    from matplotlib.patches import Rectangle

    sub = ax.inset_axes((0.655, 0.008, 0.34, 0.38))
    draw_scenario(sub, scenario, window=window)
    sub.set_xlim(window[0], window[2])
    sub.set_ylim(window[1], window[3])
    sub.set_aspect(aspect, adjustable="box", anchor="SE")
    sub.set_xticks([])
    sub.set_yticks([])
    sub.set_facecolor("white")
    sub.set_zorder(12)
    sub.set_title("detail (dashed box)", fontsize=7, pad=2)
    ax.add_patch(
        Rectangle(
            (window[0], window[1]), window[2] - window[0], window[3] - window[1], fill=False,
            edgecolor="#444444", lw=0.8, ls="--", zorder=9,
        )
    )  # fmt: skip
    return sub


def _legend(ax: Axes, colours: dict[str, str]) -> Any:
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
    return leg
