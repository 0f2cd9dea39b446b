"""The repository's pre-commit hook: `pre-commit run --all-files` passes here, and fails
on a planted bad campaign. Real pre-commit, real git; nothing fetched (a local hook
that runs the installed mcprod)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers import REPO_ROOT

BIN = str(Path(sys.executable).parent)


def pre_commit(cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "HOME": str(home),
        "PRE_COMMIT_HOME": str(home / "pre-commit"),
        "LANG": "C.UTF-8",
    }
    return subprocess.run(
        [f"{BIN}/pre-commit", "run", "--all-files", "--color", "never"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def test_the_offered_hook_and_the_local_one_run_the_same_command() -> None:
    offered = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    local = yaml.safe_load((REPO_ROOT / ".pre-commit-config.yaml").read_text())
    (hook,) = offered
    (repo,) = local["repos"]
    (used,) = repo["hooks"]
    assert hook["id"] == used["id"] == "mcprod-validate"
    assert repo["repo"] == "local"  # nothing is fetched
    assert (hook["entry"], hook["files"]) == (used["entry"], used["files"])


def test_pre_commit_passes_on_this_repository(tmp_path: Path) -> None:
    result = pre_commit(REPO_ROOT, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mcprod validate" in result.stdout and "Passed" in result.stdout


def test_a_planted_bad_campaign_fails_the_hook(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    for folder in ("campaigns", "rat-versions", "sites", "runlists"):
        if (REPO_ROOT / folder).is_dir():
            shutil.copytree(REPO_ROOT / folder, clone / folder)
    shutil.copyfile(REPO_ROOT / ".pre-commit-config.yaml", clone / ".pre-commit-config.yaml")
    git_env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@invalid",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@invalid"}
    (clone / "campaigns" / "planted.yaml").write_text(
        'label: planted\nrat_version: "6.4.0"\nmodules:\n  - {module: X, n_ev: 1e6}\n'
    )
    for args in (["init", "-q"], ["add", "-A"]):
        subprocess.run(["git", *args], cwd=clone, env=git_env, check=True, timeout=60)
    result = pre_commit(clone, tmp_path)
    assert result.returncode == 1
    assert "Failed" in result.stdout
    assert "campaigns/planted.yaml:4:23: modules[0] (X): n_ev: 1e6 reads as text in YAML" in (
        result.stdout
    )
