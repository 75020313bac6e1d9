"""The corridor map draws every layer and shows the data-label note."""

from __future__ import annotations

from matplotlib.figure import Figure

from corridorguard.report.maps import draw_scenario, label_note
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
    assert {s.name for s in sc.sites} <= texts
    assert {"Gwadar", "Karachi", "Khunjerab Pass"} <= texts
    assert len(ax.patches) >= 1  # the boundary outline
