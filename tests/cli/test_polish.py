"""CLI habits: --version, completion, one usage-error style for --format (exit 2),
reconcile without --once, status outside a repository, natural run order, files
written with the user's umask, import-jobs --force and other campaigns' run lists."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from reconciler.cli.writing import write_all
from reconciler.documents import natural_key
from tests.helpers import REPO_ROOT, run_mcprod


def test_version() -> None:
    result = run_mcprod(["--version"])
    assert result.returncode == 0
    assert result.stdout.startswith("mcprod ") and result.stdout.strip() != "mcprod"


def test_shell_completion_can_be_shown_and_installed() -> None:
    result = run_mcprod(["--show-completion", "bash"])
    assert result.returncode == 0
    assert "_MCPROD_COMPLETE=complete_bash" in result.stdout
    assert "--install-completion" in run_mcprod(["--help"]).stdout


@pytest.mark.parametrize(
    "command",
    [
        ["validate"], ["publish"], ["retry", "--label", "x"], ["cancel", "--label", "x"],
        ["status"], ["exactly", "x"], ["db", "init"], ["reconcile", "--site", "x"],
        ["import-jobs", "jobs.json", "--label", "x"],
    ],
)
def test_a_bad_format_is_the_same_usage_error_everywhere(
    command: list[str], tmp_path: Path
) -> None:
    result = run_mcprod([*command, "--format", "yaml"], cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Invalid value for '--format': " in result.stderr
    assert "'yaml' is not one of" in result.stderr


def test_reconcile_without_once_or_site_is_a_usage_error(tmp_path: Path) -> None:
    result = run_mcprod(["reconcile"], cwd=tmp_path)
    assert result.returncode == 2
    said = " ".join(result.stderr.split())
    assert "without --site, reconcile runs one enqueue pass: pass --once (cron), or" in said


def test_status_outside_a_repository_says_so(tmp_path: Path) -> None:
    result = run_mcprod(["status"], cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {tmp_path.resolve()} is not an mcprod repository (no campaigns/, rat-versions/"
        " or sites/): run this in your repository, or name the production's database with"
        " --db URL or $MCPROD_DB\n"
    )


def test_runs_sort_by_number_not_as_text() -> None:
    ids = ["job:W:r10000:s0:p1", "job:W:r1000:s0:p2", "job:W:r1000:s0:p10", "job:V:r2:s0:p1"]
    assert sorted(ids, key=natural_key) == [
        "job:V:r2:s0:p1", "job:W:r1000:s0:p2", "job:W:r1000:s0:p10", "job:W:r10000:s0:p1"
    ]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_written_files_get_the_users_umask(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        write_all({tmp_path / "a.yaml": "a: 1\n"})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.yaml").stat().st_mode) == mode


def test_db_init_lists_in_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    result = run_mcprod(["db", "init", "--db", url, "--format", "json"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert (shown["created"], bool(shown["changed"])) == (True, True)


def test_force_never_overwrites_a_run_list_another_campaign_uses(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for folder in ("rat-versions", "sites", "schemas"):
        shutil.copytree(REPO_ROOT / folder, repo / folder)
    (repo / "campaigns").mkdir()
    (repo / "runlists").mkdir()
    (repo / "runlists" / "runs.txt").write_text("100151\n")
    (repo / "campaigns" / "theirs.yaml").write_text(
        'label: theirs\nrat_version: "6.3.2"\nmodules:\n'
        "  - {module: WaterBi214Run, runlist: runlists/runs.txt}\n"
    )
    request = tmp_path / "jobs.json"
    request.write_text('{"rat_v": "6.3.2", "modules": [{"module": "WaterBi214Run", "n_runs": 1}]}')
    mine = tmp_path / "runs.txt"
    mine.write_text("200000\n")
    result = run_mcprod(
        ["import-jobs", str(request), "--label", "mine", "-L", str(mine), "--force",
         "--repo", str(repo)]
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {repo / 'runlists' / 'runs.txt'} is the run list of campaigns/theirs.yaml:"
        " --force would change that campaign's runs; rename your run list\n"
    )
    assert (repo / "runlists" / "runs.txt").read_text() == "100151\n"
    assert not (repo / "campaigns" / "mine.yaml").exists()
