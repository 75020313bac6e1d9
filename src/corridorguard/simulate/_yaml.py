"""YAML loading that remembers the line of every node, for errors that name file, line, field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from corridorguard.errors import ValidationError

__all__ = ["MarkedDoc", "field_path", "load_marked"]

Path_ = tuple[str | int, ...]


def field_path(loc: Sequence[str | int]) -> str:
    """``("injects", 2, "target")`` -> ``injects[2].target``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class MarkedDoc:
    """A parsed YAML document plus the 1-based line of each node, by path."""

    def __init__(self, data: Any, lines: dict[Path_, int], file: str) -> None:
        self.data = data
        self.lines = lines
        self.file = file

    def line(self, loc: Sequence[str | int]) -> int | None:
        """Line of the deepest node on ``loc`` that exists (the offending field or its parent)."""
        path = tuple(loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def error(self, message: str, loc: Sequence[str | int]) -> ValidationError:
        return ValidationError(
            message, file=self.file, line=self.line(loc), field=field_path(loc) or None
        )


def load_marked(text: str, file: str) -> MarkedDoc:
    """Parse one YAML document; syntax errors become :class:`ValidationError` with the line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ValidationError(f"YAML syntax: {exc.problem}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise ValidationError(f"YAML: {exc}", file=file) from None
    lines: dict[Path_, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return MarkedDoc(data, lines, file)


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            lines[(*path, name)] = key.start_mark.line + 1
            _walk(value, (*path, name), lines)
            lines[(*path, name)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines)
