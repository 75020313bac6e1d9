"""The report is checked by opening it: ``corridorguard plan`` then headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from typer.testing import CliRunner

from corridorguard.cli import app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plan")
    res = CliRunner().invoke(
        app,
        ["plan", "--scenario", "cpec", "--days", "1", "--seed", "2", "--sim-days", "4000",
         "--out", str(out), "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["seed"] == 2 and doc["forecast"]["status"] == "prior"
    assert set(doc["answer"]["plans"]) == {"static", "optimised", "uncoordinated"}
    return out / "report.html"


def _chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM, "Debian package `chromium` is required (see .ci/run)"
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip


def test_report_is_self_contained(report: Path) -> None:
    html = report.read_text("utf-8")
    # no network: no external scripts, stylesheets or images
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "<script" not in html
    assert html.count('src="data:image/png;base64,') >= 4


def test_dom_has_maps_tables_and_labels(report: Path, tmp_path: Path) -> None:
    dom = _chromium(["--dump-dom", report.as_uri()], tmp_path).stdout
    imgs = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', dom)
    assert {"patrol routes map", "placement map", "convoy routes map", "what-if plot"} <= set(imgs)
    assert dom.count("<table") >= 8
    assert dom.count("<tr>") >= 40
    for text in (
        "Are current measures enough?",
        "NOT VALIDATED",
        "Accountability",
        "vehicle-hours",
        "schematic",
        "notional",
        "GeoNames",
        "Natural Earth",
        "Seed 2",
    ):
        assert text in dom, text
    for plan in ("static", "optimised", "uncoordinated"):
        assert f"<td>{plan}</td>" in dom


def test_screenshot_is_not_blank(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    _chromium([f"--screenshot={shot}", "--window-size=1400,3000", report.as_uri()], tmp_path)
    img = imread(str(shot))
    assert img.shape[0] >= 2000 and img.shape[1] >= 1000
    grey = img[..., :3].mean(axis=2)
    assert float(np.std(grey)) > 0.05  # text, tables and maps, not a blank page
    assert len(np.unique((grey * 255).astype(np.uint8))) > 50
