"""Any malformed game document gives a ValidationError, never another exception."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from corridorguard.errors import ValidationError
from corridorguard.games import Game, load_game

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=True)
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)

BASE: dict[str, Any] = {
    "targets": [
        {"id": "a", "defender_reward": 0, "defender_penalty": -3,
         "attacker_reward": 3, "attacker_penalty": -1},
        {"id": "b", "defender_reward": 1, "defender_penalty": -2,
         "attacker_reward": 2, "attacker_penalty": 0},
    ],
    "resources": 1,
    "attacker_types": [
        {"id": "x", "probability": 1.0, "targets": [
            {"id": "a", "attacker_reward": 3, "attacker_penalty": -1},
            {"id": "b", "attacker_reward": 2, "attacker_penalty": 0}]},
    ],
    "resource_types": [{"id": "r", "count": 1, "eligible": ["a", "b"], "agency": "p"}],
    "agency_capacity": {"p": 1},
    "burden": {"targets": {"a": 1.0}, "weight": 0.0, "cap": None},
}  # fmt: skip


def paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += paths(v, (*prefix, i))
    return out


ALL_PATHS = [p for p in paths(BASE) if p]


def test_base_document_is_valid() -> None:
    assert isinstance(load_game(copy.deepcopy(BASE)), Game)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ALL_PATHS), json_values)
@example(("resources",), float("nan"))
@example(("resources",), float("inf"))
@example(("resource_types", 0, "count"), float("-inf"))
@example(("agency_capacity",), None)
@example(("resource_types", 0, "eligible"), [["a"]])
def test_replacing_any_field_never_crashes(path: tuple, value: Any) -> None:
    doc = copy.deepcopy(BASE)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    try:
        load_game(json.loads(json.dumps(doc)) if _jsonable(doc) else doc)
    except ValidationError as exc:
        assert exc.field is not None or exc.message


def _jsonable(doc: Any) -> bool:
    try:
        json.dumps(doc, allow_nan=False)
    except ValueError:
        return False
    return True
