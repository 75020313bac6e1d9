"""JSON game format, ``load_game``/``solve`` and the ``corridorguard game`` CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import corridorguard.cli
from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.games import dump_game, load_game, solve

runner = CliRunner()


def e4() -> dict[str, Any]:
    return {
        "targets": [
            {
                "id": name,
                "defender_reward": 0,
                "defender_penalty": -v,
                "attacker_reward": v,
                "attacker_penalty": 0,
            }
            for name, v in (("port", 10), ("dam", 5), ("depot", 2))
        ],
        "resources": 2,
    }


def write(tmp_path: Path, data: Any, name: str = "game.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_solve_json_equals_python_to_dict(tmp_path: Path) -> None:
    path = write(tmp_path, e4())
    res = runner.invoke(corridorguard.cli.app, ["game", "solve", str(path), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out == solve(load_game(path)).to_dict()
    assert out == solve(path).to_dict() == solve(e4()).to_dict()
    assert set(out) == {
        "coverage",
        "defender_utility",
        "attacker_utility",
        "attacked_target",
        "solver",
        "status",
    }
    assert out["coverage"] == pytest.approx({"port": 0.875, "dam": 0.75, "depot": 0.375})
    assert out["defender_utility"] == pytest.approx(-1.25)
    assert out["status"] == "optimal" and out["solver"] == "origami"


@pytest.mark.parametrize("solver", ["origami", "eraser", "multilp", "maximin", "robust"])
def test_cli_solvers_agree_on_zero_sum(tmp_path: Path, solver: str) -> None:
    path = write(tmp_path, e4())
    res = runner.invoke(
        corridorguard.cli.app, ["game", "solve", str(path), "--solver", solver, "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["solver"] == solver
    assert out["defender_utility"] == pytest.approx(-1.25, abs=1e-6)


def test_cli_qr_and_text_output(tmp_path: Path) -> None:
    path = write(tmp_path, e4())
    res = runner.invoke(corridorguard.cli.app, ["game", "solve", str(path), "--solver", "qr"])
    assert res.exit_code == 0, res.output
    assert "solver qr (optimal)" in res.output and "port:" in res.output
    args = ["game", "solve", str(path), "--solver", "qr", "--json"]
    low = json.loads(runner.invoke(corridorguard.cli.app, [*args, "--lam", "0.1"]).stdout)
    high = json.loads(runner.invoke(corridorguard.cli.app, [*args, "--lam", "20"]).stdout)
    assert low["coverage"] != high["coverage"]
    suqr = runner.invoke(corridorguard.cli.app, [*args, "--suqr", "-9.85,0.37,0.15"])
    assert suqr.exit_code == 0, suqr.output
    bad = runner.invoke(corridorguard.cli.app, [*args, "--suqr", "1,2"])
    assert bad.exit_code == 2 and "three numbers" in bad.output
    wrong = runner.invoke(corridorguard.cli.app, ["game", "solve", str(path), "--lam", "1"])
    assert wrong.exit_code == 2 and "apply to --solver qr" in wrong.output


def test_cli_sample_is_seeded(tmp_path: Path) -> None:
    path = write(tmp_path, e4())
    args = ["game", "sample", str(path), "--days", "5", "--seed", "7", "--json"]
    a = runner.invoke(corridorguard.cli.app, args)
    b = runner.invoke(corridorguard.cli.app, args)
    assert a.exit_code == 0, a.output
    assert a.stdout == b.stdout
    data = json.loads(a.stdout)
    assert data["seed"] == 7 and data["method"] == "comb" and len(data["days"]) == 5
    assert all(len(d["covered"]) == 2 for d in data["days"])
    text = runner.invoke(corridorguard.cli.app, args[:-1])
    assert "day 0:" in text.output


def test_bad_field_names_the_path(tmp_path: Path) -> None:
    data = e4()
    data["targets"][2]["defender_penalty"] = "high"
    path = write(tmp_path, data)
    res = runner.invoke(corridorguard.cli.app, ["game", "solve", str(path)])
    assert res.exit_code == 2
    assert "targets[2].defender_penalty: must be a number" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(corridorguard.cli.app, ["game", "solve", str(path), "--json"])
    err = json.loads(res.stdout)
    assert err["field"] == "targets[2].defender_penalty" and err["error"] == "invalid"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["targets"][1].pop("attacker_reward"), "targets[1].attacker_reward"),
        (lambda d: d["targets"][0].update(defender_penalty=5), "targets[0].defender_penalty"),
        (lambda d: d["targets"][0].update(attacker_penalty=20), "targets[0].attacker_penalty"),
        (lambda d: d["targets"][2].update(id="port"), "targets[2].id"),
        (lambda d: d["targets"][1].update(colour="red"), "targets[1].colour"),
        (lambda d: d.update(resources=-1), "resources"),
        (lambda d: d["targets"][1].update(attacker_reward=1e300), "targets[1].attacker_reward"),
        (lambda d: d.update(resources=1.5), "resources"),
        (lambda d: d.pop("resources"), "resources"),
        (
            lambda d: d.update(
                attacker_types=[
                    {
                        "id": "a",
                        "probability": 0.5,
                        "targets": [
                            {"id": t["id"], "attacker_reward": 1, "attacker_penalty": 0}
                            for t in d["targets"]
                        ],
                    }
                ]
            ),
            "attacker_types",
        ),
        (
            lambda d: d.update(resource_types=[{"id": "p", "count": 1, "eligible": ["nowhere"]}]),
            "resource_types[0].eligible[0]",
        ),
        (lambda d: d.update(burden={"targets": {"port": -1}}), "burden.targets[0]"),
        (
            lambda d: d["targets"][0].update(attacker_reward_range=[11, 12]),
            "targets[0].attacker_reward_range",
        ),
    ],
)
def test_validation_errors(mutate, field: str) -> None:
    data = e4()
    mutate(data)
    with pytest.raises(ValidationError) as info:
        load_game(data)
    assert info.value.field == field


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        load_game(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"targets": [\n', encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_game(broken)
    assert info.value.file == str(broken) and info.value.line == 2
    res = runner.invoke(corridorguard.cli.app, ["game", "solve", str(broken)])
    assert res.exit_code == 2 and "invalid JSON" in res.output


def test_unknown_solver_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, e4())
    res = runner.invoke(corridorguard.cli.app, ["game", "solve", str(path), "--solver", "magic"])
    assert res.exit_code == 2 and "unknown solver 'magic'" in res.output


def full_game() -> dict[str, Any]:
    data = e4()
    data.pop("resources")
    data["attacker_types"] = [
        {
            "id": "insurgent",
            "probability": 0.7,
            "targets": [
                {"id": "port", "attacker_reward": 10, "attacker_penalty": -1},
                {"id": "dam", "attacker_reward": 6, "attacker_penalty": -2},
                {"id": "depot", "attacker_reward": 1, "attacker_penalty": -1},
            ],
        },
        {
            "id": "criminal",
            "probability": 0.3,
            "targets": [
                {"id": "port", "attacker_reward": 2, "attacker_penalty": -5},
                {"id": "dam", "attacker_reward": 1, "attacker_penalty": -5},
                {
                    "id": "depot",
                    "attacker_reward": 8,
                    "attacker_penalty": -1,
                    "defender_penalty": -4,
                },
            ],
        },
    ]
    data["resource_types"] = [
        {"id": "police", "count": 1, "eligible": ["port", "dam"], "agency": "police"},
        {
            "id": "army",
            "count": 1,
            "eligible": ["dam", "depot"],
            "agency": "army",
            "kind": "checkpoint",
        },
    ]
    data["agency_capacity"] = {"police": 1}
    data["burden"] = {"targets": {"port": 3.0, "dam": 1.0, "depot": 2.0}, "weight": 0.01}
    return data


def test_full_format_round_trip_and_bayesian_typed_solve(tmp_path: Path) -> None:
    g = load_game(full_game())
    assert g.is_bayesian and g.is_typed and g.burden is not None and g.resources == 2
    again = load_game(json.loads(json.dumps(dump_game(g))))
    assert dump_game(again) == dump_game(g)
    path = write(tmp_path, full_game())
    res = runner.invoke(corridorguard.cli.app, ["game", "solve", str(path), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out == solve(g).to_dict()
    assert out["solver"] == "hetero"
    assert set(out["attacker_types"]) == {"insurgent", "criminal"}
    assert set(out["type_coverage"]["police"]) <= {"port", "dam"}
    assert out["burden"] >= 0
    res = runner.invoke(
        corridorguard.cli.app, ["game", "sample", str(path), "--days", "3", "--seed", "1", "--json"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["method"] == "bvn"


def test_cli_coordinate_and_frontier(tmp_path: Path) -> None:
    data = e4()
    data.pop("resources")
    data["resource_types"] = [
        {"id": "police", "count": 1, "eligible": ["port", "dam"], "agency": "police"},
        {"id": "army", "count": 1, "eligible": ["port", "depot"], "agency": "army"},
    ]
    data["burden"] = {"targets": {"port": 4.0, "dam": 1.0}}
    path = write(tmp_path, data)
    res = runner.invoke(corridorguard.cli.app, ["game", "coordinate", str(path), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["value_of_coordination"] >= -1e-9
    assert set(out["per_agency"]) == {"police", "army"}
    res = runner.invoke(
        corridorguard.cli.app, ["game", "frontier", str(path), "--points", "10", "--json"]
    )
    assert res.exit_code == 0, res.output
    pts = json.loads(res.stdout)["points"]
    assert len(pts) == 10 and pts[0]["cap"] == 0
    assert pts[-1]["expected_loss"] <= pts[0]["expected_loss"]
    text = runner.invoke(corridorguard.cli.app, ["game", "coordinate", str(path)])
    assert "value of coordination" in text.output
    e4_path = write(tmp_path, e4(), "plain.json")
    res = runner.invoke(corridorguard.cli.app, ["game", "frontier", str(e4_path)])
    assert res.exit_code == 2 and "burden" in res.output


def test_real_process_json_is_clean_of_solver_banners(tmp_path: Path) -> None:
    """HiGHS prints a banner on file descriptor 1 the first time; ``--json`` must stay JSON."""
    import os
    import subprocess
    import sys

    path = write(tmp_path, e4())
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.run(
        [sys.executable, "-m", "corridorguard", "game", "solve", str(path), "--solver", "eraser",
         "--json"],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["solver"] == "eraser"
