"""The guides in docs/ are run: every shell block executes in a sandbox and succeeds
(or fails as the guide says), and every relative link in README and docs/ resolves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.site.quickstart import prepare_copy
from tests.docs.guides import blocks, relative_links
from tests.helpers import REPO_ROOT

DOCS = REPO_ROOT / "docs"
GUIDES = sorted(DOCS.glob("*.md"))
RUN = ["campaigns.md", "releases.md", "operations.md"]


def test_the_task_guides_exist_and_readme_links_them() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for name in [*RUN, "site-admin.md"]:
        assert (DOCS / name).is_file(), name
        assert f"(docs/{name})" in readme, name


@pytest.mark.parametrize("page", [REPO_ROOT / "README.md", *GUIDES], ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for line, target in relative_links(page):
        path = target.split("#", 1)[0]
        if path and not (page.parent / path).exists():
            broken.append(f"{page.name}:{line}: {target}")
    assert broken == []


@pytest.mark.parametrize("page", GUIDES, ids=lambda p: p.name)
def test_a_block_that_is_not_run_says_why(page: Path) -> None:
    for block in blocks(page):
        if block.skipped_because is not None:
            assert len(block.skipped_because) > 10, block.where


def _environment(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MCPROD_")}
    env.update(
        PATH=f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        HOME=str(home),
        MCPROD_LOG_DIR=str(home / "logs"),
        GIT_AUTHOR_NAME="guide", GIT_AUTHOR_EMAIL="guide@localhost",
        GIT_COMMITTER_NAME="guide", GIT_COMMITTER_EMAIL="guide@localhost",
    )
    return env


@pytest.mark.slow
@pytest.mark.parametrize("name", RUN)
def test_the_guide_runs(name: str, tmp_path: Path) -> None:
    sandbox = prepare_copy(REPO_ROOT / "examples" / "quickstart", tmp_path / "production")
    env = _environment(tmp_path)
    ran = 0
    for block in blocks(DOCS / name):
        if block.skipped_because is not None:
            continue
        if block.file is not None:
            target = sandbox / block.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.body.split("\n", 1)[1], encoding="utf-8")
            continue
        if block.lang != "sh":
            continue
        result = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + block.body],
            cwd=sandbox, env=env, capture_output=True, text=True, timeout=300, check=False,
        )
        assert result.returncode == block.expect_exit, (
            f"{block.where}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
        assert "Traceback" not in result.stdout + result.stderr, block.where
        ran += 1
    assert ran >= 3, f"{name}: only {ran} shell blocks ran"
