"""``docs/game-format.md`` stays true: its examples match its schema, load and solve as shown."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from corridorguard.games import load_game, solve

DOC = Path(__file__).resolve().parents[2] / "docs" / "game-format.md"


def blocks(tag: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return re.findall(rf"```{tag}\n(.*?)```", text, flags=re.S)


def examples() -> list[dict]:
    out = [json.loads(b) for b in blocks("json")]
    return [d for d in out if "targets" in d]


def test_doc_has_schema_and_examples() -> None:
    assert len(blocks("json schema")) == 1
    assert len(examples()) == 2


@pytest.mark.parametrize("index", [0, 1])
def test_examples_validate_load_and_solve(index: int) -> None:
    schema = json.loads(blocks("json schema")[0])
    data = examples()[index]
    jsonschema.validate(data, schema)
    sol = solve(load_game(data))
    assert sol.status == "optimal"


def test_documented_output_matches() -> None:
    shown = [json.loads(b) for b in blocks("json") if '"coverage"' in b]
    assert len(shown) == 1
    got = solve(load_game(examples()[0])).to_dict()
    assert got.keys() == shown[0].keys()
    assert got["coverage"] == pytest.approx(shown[0]["coverage"])
    assert got["defender_utility"] == pytest.approx(shown[0]["defender_utility"])


def test_schema_rejects_a_typo() -> None:
    schema = json.loads(blocks("json schema")[0])
    bad = examples()[0] | {"resorces": 2}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
