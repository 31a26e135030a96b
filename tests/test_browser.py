"""The HTML reports in a real browser: Debian's Chromium, headless.

Chromium parses and lays out each report as a person would see it; the test
reads back the DOM it built (expected sections, hostile input shown as text,
no script element) and a screenshot (not blank). CI installs Chromium
(``.ci/run``); elsewhere, without it, the test is skipped unless ``CI`` is
set, in which case a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

import devplan
from devplan._reports import file_name
from test_reports import (
    EMPLOYEE_SECTIONS,
    HOSTILE,
    HOSTILE_COMPETENCY,
    HOSTILE_EMPLOYEE,
    MANAGER_SECTIONS,
    ORGANISATION_SECTIONS,
    _Page,
    hostile_bundle,
)

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)

if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail(
            "Chromium is not installed; CI must install it (apt-get install "
            "chromium, see .ci/run).",
            pytrace=False,
        )
    pytestmark = pytest.mark.skip(
        reason="chromium not installed (apt-get install chromium)"
    )


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        f"--user-data-dir={tmp / 'profile'}",
        *args,
    ]
    env = {**os.environ, "HOME": str(tmp)}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=True, env=env
    )


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    bundle, _, _ = hostile_bundle()
    result = devplan.generate_plans(bundle)
    devplan.write_reports(result, bundle, out, employees=[HOSTILE_EMPLOYEE])
    return {
        "employee": (
            out / "employees" / file_name(HOSTILE_EMPLOYEE),
            EMPLOYEE_SECTIONS,
        ),
        "manager": (out / "managers" / file_name(HOSTILE_EMPLOYEE), MANAGER_SECTIONS),
        "organisation": (out / "organisation.html", ORGANISATION_SECTIONS),
    }


#: Appended to a copy of a report: lists the elements that stick out of the
#: window on the right (none should).
_WIDTH_PROBE = """<script>
window.addEventListener("load", () => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > width + 1)
    .map((e) => e.tagName).slice(0, 5);
  document.body.setAttribute("data-overflow", wide.join(","));
});
</script>"""

#: The hostile texts each report shows.
EXPECTED = {
    "employee": HOSTILE,
    "manager": (HOSTILE_EMPLOYEE,),
    "organisation": (HOSTILE_COMPETENCY,),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["employee", "manager", "organisation"])
def test_report_in_chromium(reports, kind, tmp_path):
    path, sections = reports[kind]
    url = path.resolve().as_uri()
    dom = _chromium(tmp_path, "--dump-dom", url).stdout
    page = _Page(dom)
    # the browser built the page: every section, and the charts as SVG
    assert set(page.sections) == sections
    assert "svg" in page.tags or kind == "manager"
    # hostile input is text on the page, never an element (the templates
    # use no <script> and no <b>; the hostile title carries both)
    assert "script" not in page.tags and "b" not in page.tags
    text = "".join(page.text)
    for hostile in EXPECTED[kind]:
        assert hostile in text

    # nothing is wider than the window (a copy of the page measures itself)
    probe = tmp_path / "probe.html"
    probe.write_text(
        path.read_text("utf-8").replace("</body>", _WIDTH_PROBE + "</body>"), "utf-8"
    )
    dom = _chromium(
        tmp_path, "--window-size=1280,1600", "--dump-dom", probe.as_uri()
    ).stdout
    over = re.search(r'data-overflow="([^"]*)"', dom)
    assert over is not None and over.group(1) == "", over

    shot = tmp_path / "shot.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1600", url)
    image = mpimg.imread(shot)
    assert image.shape[:2] == (1600, 1280)
    pixels = image[..., :3].reshape(-1, 3)
    colours = np.unique(np.round(pixels * 255).astype(np.uint8), axis=0)
    # text, cards and charts: far more than a blank or single-colour page
    assert len(colours) > 50
    # and most of the page is not the background
    assert (pixels.std(axis=0) > 0.05).any()
