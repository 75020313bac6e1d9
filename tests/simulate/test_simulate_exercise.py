"""Exercises: the shipped example, hand-offs and availability, errors naming file/line/field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from corridorguard.cli import app
from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.simulate.exercise import example_script, load_script, run_exercise

runner = CliRunner()

MINI = """\
exercise: {name: mini drill}
forces: [{id: police}, {id: army}]
default_comms_delay_min: 10
comms:
  - {from: police, to: army, delay_min: 4}
targets:
  - {id: camp, workers: 100, lethality: 0.1, force: police}
units:
  - id: patrol
    force: police
    kind: patrol
    detection_delay_min: 3
    posts: [{target: camp, start: 0, end: "01:00"}]
  - id: qrf
    force: army
    kind: qrf
    dispatch_delay_min: 2
    on_scene_min: 30
    travel_min: {camp: 15}
injects:
  - {id: A, at: 10, target: camp, type: assault, duration_min: 30}
  - {id: B, at: 20, target: camp, type: assault, duration_min: 60}
  - {id: C, at: 90, target: camp, type: assault, duration_min: 60}
"""


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_mini_drill_times_handoffs_and_busy_qrf(tmp_path: Path) -> None:
    r = run_exercise(load_script(_write(tmp_path, MINI)))
    a, b, c = r.injects
    # A: detected at 13, alert reaches the army at 17, QRF rolls at 19, on scene at 34 (< 40)
    assert (a.time_to_detect_min, a.handoff, a.handoff_delay_min) == (3.0, True, 4.0)
    assert a.response_min == pytest.approx(24.0) and a.in_time
    assert a.outcome == "interdicted_by_qrf" and a.expected_harm == pytest.approx(10 * 24 / 30)
    # B: the QRF is busy until 34 + 30 + 15 = 79: it waits 79 - 27 = 52 min
    assert b.qrf_wait_min == pytest.approx(52.0)
    assert b.response_min == pytest.approx(79 + 2 + 15 - 20)
    assert not b.in_time and b.outcome == "qrf_late"
    # C: the patrol's post ended at 60: nobody sees the attack
    assert c.outcome == "undetected" and c.expected_harm == pytest.approx(10.0)
    assert r.overall["detected"] == 2 and r.overall["handoffs"] == 2
    assert r.by_force["police"]["handoffs_sent"] == 2
    assert r.by_force["army"]["handoffs_received"] == 2
    assert r.by_force["army"]["qrf_dispatches"] == 2
    assert r.by_force["police"]["injects_in_area"] == 3


def test_shipped_example_runs_and_uses_comms_windows() -> None:
    script = load_script(example_script())
    assert script.exercise.notional
    r = run_exercise(script)
    by_id = {o.id: o for o in r.injects}
    assert by_id["I1"].outcome == "interdicted_by_qrf"
    assert by_id["I2"].handoff_delay_min == 12.0
    assert by_id["I4"].handoff_delay_min == 25.0  # radio relay down 03:00-05:00
    assert by_id["I5"].outcome == "stopped_on_site"
    assert by_id["I6"].outcome == "undetected"
    assert set(r.by_force) == {"police", "ssd"}


def test_cli_run_json_and_text() -> None:
    res = runner.invoke(app, ["exercise", "run", str(example_script()), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["ok"] and data["overall"]["injects"] == 6
    assert {"detection_share", "response_min", "handoff_delay_min"} <= set(data["overall"])
    text = runner.invoke(app, ["exercise", "run", str(example_script())])
    assert text.exit_code == 0 and "KPIs per force" in text.output
    ex = runner.invoke(app, ["exercise", "example"])
    assert ex.exit_code == 0 and yaml.safe_load(ex.output)["injects"]


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ("{id: B, at: 20, target: camp,", "{id: B, at: 20, target: kamp,", 22, "injects[1].target"),
        ("{id: C, at: 90,", "{id: C, at: soon,", 23, "injects[2].at"),
        (
            "    dispatch_delay_min: 2\n",
            "    dispatch_delay_min: -2\n",
            17,
            "units[1].dispatch_delay_min",
        ),
        (
            "    detection_delay_min: 3\n",
            "    detection_delay: 3\n",
            12,
            "units[0].detection_delay",
        ),
        ("  - {from: police, to: army,", "  - {from: polise, to: army,", 5, "comms[0].from"),
        ("    force: army\n    kind: qrf", "    force: army\n    kind: tank", 16, "units[1].kind"),
    ],
)
def test_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str
) -> None:
    assert old in MINI
    path = _write(tmp_path, MINI.replace(old, new, 1))
    with pytest.raises(ValidationError) as err:
        load_script(path)
    assert (err.value.file, err.value.line, err.value.field) == (str(path), line, field)


def test_binary_file_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "b.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValidationError) as err:
        load_script(path)
    assert err.value.file == str(path)


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = _write(tmp_path, MINI.replace("targets:\n", "targets: [\n", 1))
    with pytest.raises(ValidationError) as err:
        load_script(path)
    assert err.value.file == str(path) and err.value.line is not None


def test_cli_error_is_one_line_with_location(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        MINI.replace(
            "target: camp, type: assault, duration_min: 60}",
            "target: camp, type: assault, duration_min: 0}",
            1,
        ),
    )
    res = runner.invoke(app, ["exercise", "run", str(path), "--json"])
    assert res.exit_code == 2
    data = json.loads(res.output)
    assert (data["line"], data["field"], data["file"]) == (22, "injects[1].duration_min", str(path))
    res = runner.invoke(app, ["exercise", "run", str(tmp_path / "missing.yaml")])
    assert res.exit_code == 2 and "missing.yaml" in res.output


def test_plan_file_reference(tmp_path: Path) -> None:
    head, tail = MINI.split("injects:\n")
    plan_part = "\n".join(line for line in head.splitlines() if not line.startswith("exercise"))
    _write(tmp_path, plan_part + "\n", "plan.yaml")
    script = _write(tmp_path, "exercise: {name: ref}\nplan: plan.yaml\ninjects:\n" + tail)
    r = run_exercise(load_script(script))
    assert r.injects[0].response_min == pytest.approx(24.0)
    # an error inside the referenced plan names the plan file and its line
    _write(
        tmp_path, plan_part.replace("travel_min: {camp: 15}", "travel_min: {kamp: 15}"), "plan.yaml"
    )
    with pytest.raises(ValidationError) as err:
        load_script(script)
    assert err.value.file == str(tmp_path / "plan.yaml")
    assert err.value.field == "units[1].travel_min.kamp" and err.value.line == 18
    missing = _write(tmp_path, "exercise: {name: x}\nplan: nope.yaml\ninjects: []\n", "m.yaml")
    with pytest.raises(NotFoundError) as nf:
        load_script(missing)
    assert nf.value.line == 2 and nf.value.file == str(missing)


def test_unavailable_patrol_misses_the_attack_and_validate_command(tmp_path: Path) -> None:
    text = MINI + "availability:\n  - {unit: patrol, start: 5, end: 15, available: false}\n"
    path = _write(tmp_path, text)
    r = run_exercise(load_script(path))
    assert [o.outcome for o in r.injects] == ["undetected", "interdicted_by_qrf", "undetected"]
    res = runner.invoke(app, ["exercise", "validate", str(path), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["injects"] == 3
    bad = _write(tmp_path, text.replace("{unit: patrol,", "{unit: patrol2,"), "bad.yaml")
    res = runner.invoke(app, ["exercise", "validate", str(bad)])
    assert res.exit_code == 2 and "availability[0].unit" in res.output and ":25:" in res.output
