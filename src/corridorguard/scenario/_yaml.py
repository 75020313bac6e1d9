"""YAML reading with line numbers, and without YAML 1.1 surprises.

PyYAML follows YAML 1.1, where ``06:00`` is the base-60 integer 360 and ``no`` is ``False``.
:class:`ScenarioLoader` keeps YAML 1.2-like scalars (times stay strings). :func:`line_map`
maps every path in the document (``("forces", 1, "units", 0, "base")``) to its 1-based line.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["Path_", "ScenarioLoader", "line_for", "line_map", "load_yaml"]

Path_ = tuple[str | int, ...]


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ScenarioLoader(_Base):
    """Safe loader (libyaml when available) with YAML 1.2 core ints, floats and booleans."""


_REPLACED = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool"}
ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ScenarioLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
ScenarioLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
ScenarioLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)


def load_yaml(text: str) -> tuple[Any, dict[Path_, int]]:
    """Parse ``text``; return the data and its :func:`line_map`. Raises ``yaml.YAMLError``."""
    loader = ScenarioLoader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()
    return data, ({} if node is None else line_map(node))


def line_map(node: yaml.Node, path: Path_ = ()) -> dict[Path_, int]:
    """Every path in a composed YAML document -> the 1-based line where its value starts."""
    out: dict[Path_, int] = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key.value)
            out.update(line_map(value, (*path, name)))
            out[(*path, name)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.update(line_map(item, (*path, i)))
    return out


def line_for(lines: dict[Path_, int], path: Path_) -> int | None:
    """Line of ``path``, or of its longest known prefix (a missing field -> its parent)."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None
