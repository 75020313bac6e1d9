"""The computational core never imports the store, the API or the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "corridorguard"
CORE = ["scenario", "incidents", "risk", "games", "patrol", "placement", "routing", "simulate"]
SHELL = ("corridorguard.store", "corridorguard.api", "corridorguard.cli", "corridorguard._cli")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{a.name}" for a in node.names)
    return names


def _core_files() -> list[Path]:
    files: list[Path] = []
    for name in CORE:
        folder = PKG / name
        if folder.is_dir():
            files.extend(sorted(folder.rglob("*.py")))
        elif (PKG / f"{name}.py").is_file():
            files.append(PKG / f"{name}.py")
    return files


def test_core_exists() -> None:
    assert (PKG / "scenario").is_dir()
    assert _core_files()


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(PKG)))
def test_core_module_imports_no_shell_layer(path: Path) -> None:
    bad = [n for n in _imports(path) if n.startswith(SHELL)]
    assert not bad, f"{path.relative_to(PKG)} imports {bad}"


def test_checker_catches_a_leak(tmp_path: Path) -> None:
    leaky = tmp_path / "leaky.py"
    leaky.write_text("from corridorguard.store import repo\nimport corridorguard.api\n")
    found = [n for n in _imports(leaky) if n.startswith(SHELL)]
    assert "corridorguard.store" in found
    assert "corridorguard.api" in found
