"""The quickstart, as a new user runs it: from a copy of the repository, twice."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT


def copy_of_repository(target: Path) -> Path:
    """The files a clone would have (tracked, plus new ones not ignored), nothing else."""
    listed = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "-co", "--exclude-standard", "-z"],
        capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            destination.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, destination)
    return target


@pytest.mark.slow
def test_quickstart_completes_every_job_twice(tmp_path: Path) -> None:
    clone = copy_of_repository(tmp_path / "mcprod")
    env = {**os.environ, "PYTHONPATH": str(clone)}
    env.pop("MCPROD_DB", None)
    for run in (1, 2):
        result = subprocess.run(
            [sys.executable, "-m", "reconciler", "quickstart"],
            cwd=clone, env=env, capture_output=True, text=True, timeout=120, check=False,
        )
        assert result.returncode == 0, f"run {run}:\n{result.stdout}\n{result.stderr}"
        lines = result.stdout.splitlines()
        assert lines[0] == (
            f"mcprod quickstart: copying {clone}/examples/quickstart to {clone}/.mcprod/quickstart"
        )
        assert any(line.startswith("mcprod quickstart: every job finished in ") for line in lines)
        assert "quickstart-demo: active, Ready: 12 of 12 jobs completed" in lines
        total = next(line for line in lines if line.startswith("  total "))
        assert total.split()[-3:] == ["0", "12", "100.0%"]
    outputs = sorted(p.name for p in (clone / ".mcprod" / "quickstart" / "storage").rglob("*.root"))
    assert len(outputs) == 5 * 2 + 2 * 2 + 3 + 2  # ratds+ntuple, ratds+ntuple, ntuple, ratds
