"""The corridor map draws every layer, shows the data-label note, and labels do not collide."""

from __future__ import annotations

import itertools

from matplotlib.figure import Figure
from matplotlib.text import Annotation, Text

from corridorguard.report.maps import corridor_figure, densest_window, draw_scenario, label_note
from corridorguard.scenario import load_scenario


def test_label_note_for_cpec() -> None:
    note = label_note(load_scenario("cpec"))
    assert note.startswith("road graph: schematic; sites approximate; forces notional")


def test_label_note_without_labels() -> None:
    sc = load_scenario("cpec").model_copy(update={"labels": {}})
    assert label_note(sc) == "data labels not given"


def test_draw_scenario_draws_every_layer() -> None:
    sc = load_scenario("cpec")
    ax = Figure().add_subplot()
    colours = draw_scenario(ax, sc)
    assert set(colours) == {e.route for e in sc.edges}
    assert len(set(colours.values())) == len(colours)  # distinct colour per route
    assert len(ax.lines) == len(sc.edges)
    texts = {t.get_text() for t in ax.texts}
    assert {s.name.split(" (")[0] for s in sc.sites} <= texts
    assert {"Gwadar", "Karachi", "Khunjerab Pass"} <= texts
    assert len(ax.patches) >= 1  # the boundary outline


def test_figure_note_inset_and_no_label_collisions() -> None:
    sc = load_scenario("cpec")
    fig = corridor_figure(sc)
    (main,) = fig.axes
    (inset,) = main.child_axes
    assert any(label_note(sc) == t.get_text() for t in main.texts)
    window = densest_window(sc)
    assert inset.get_xlim() == (window[0], window[2])
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    labelled: set[str] = set()
    for ax in (main, inset):
        sites = [t for t in ax.texts if isinstance(t, Annotation) and t.get_gid() == "site"]
        labelled |= {t.get_text() for t in sites}
        shown = [t for t in ax.texts if isinstance(t, Annotation) and t.get_visible()]
        boxes = [Text.get_window_extent(t, renderer) for t in shown if t.get_gid()]
        for a, b in itertools.combinations(boxes, 2):
            assert not a.overlaps(b)
    # every site is labelled once: in the inset when inside its window, else on the main map
    assert labelled == {s.name.split(" (")[0] for s in sc.sites}
