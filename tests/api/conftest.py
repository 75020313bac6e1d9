"""Fixtures of the API tests (helpers live in ``api_world``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_world import Template, World, copy_world, make_template


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return make_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def world(template: Template, tmp_path: Path) -> Iterator[World]:
    w = copy_world(template, tmp_path)
    try:
        yield w
    finally:
        w.client.close()
        w.store.close()


@pytest.fixture(scope="module")
def shared_world(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = copy_world(template, tmp_path_factory.mktemp("world"))
    try:
        yield w
    finally:
        w.client.close()
        w.store.close()
