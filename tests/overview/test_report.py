"""`mcprod report --html`: structure of the page, and a real headless Chromium looking at it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import run_mcprod
from tests.overview.png import content_share, read_pixels
from tests.overview.production import Production

# Anything that would make a browser fetch; "#..." references stay within the page.
LOADS = re.compile(r"<(script|link|img|iframe|object|embed|video|audio|source)\b|\bsrc\s*=|"
                   r"url\((?!#)|@import|href\s*=\s*\"(?!#)", re.IGNORECASE)


@pytest.fixture(scope="module")
def page(production: Production, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    done = run_mcprod(["report", "--html", str(out), "--repo", str(production.root)])
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"report: 1 campaigns, 1 sites -> {out}/index.html\n"
    return out / "index.html"


def test_the_page_holds_the_campaign_its_plot_and_the_failure_table(page: Path) -> None:
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert '<section class="campaign" id="campaign-0"><h2>quickstart-demo' in text
    assert '<a href="#campaign-0">quickstart-demo</a>' in text
    plots = re.findall(r'<div class="plot"><svg\b.*?</svg></div>', text, re.S)
    assert len(plots) == 2  # the campaign's burn-down, the site's throughput
    assert "completed and remaining jobs" in plots[0]
    failures = re.search(r'<table class="failures">.*?</table>', text, re.S)
    assert failures is not None
    assert ("<code>failed in the batch system (exit code N); stderr: stand-in rat: failing as"
            " asked (exit N)</code></td><td>2</td><td>2</td><td>0</td>") in failures.group(0)
    assert "<td>12</td>" in text


def test_the_page_loads_nothing(page: Path) -> None:
    text = page.read_text()
    assert LOADS.search(text) is None, LOADS.search(text)
    assert "http://" not in text and "https://" not in text  # not even a namespace URL


def test_headless_chromium_renders_a_page_that_is_not_blank(page: Path, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: tests/services/install-packages.sh installs it"
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         # no network: every host name fails to resolve, and no proxy could serve one
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
         f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    width, height, pixels = read_pixels(shot)
    assert (width, height) == (1280, 1600)
    share, colours = content_share(pixels)
    assert share > 0.05, f"only {share:.1%} of the screenshot differs from the background"
    assert colours > 50
    # The header bar (dark slate) and a progress bar's green are where the page puts them.
    assert pixels[10 * width + 10] == (0x26, 0x32, 0x38)
    assert (0x2E, 0x7D, 0x32) in set(pixels)
