"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real datasets; read-only)."""
    path = SHARED / "data"
    assert path.is_dir(), f"missing {path}"
    return path
