"""`mcprod validate` as a user runs it: real subprocesses, exit codes, output forms."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from reconciler.cli.app import run
from tests.config.corpus import BASE, EXAMPLES, RELEASE
from tests.helpers import REPO_ROOT, run_mcprod


def _broken_repo(tmp_path: Path) -> Path:
    """The base repository plus several files broken in different ways at once."""
    repo = tmp_path / "repo"
    shutil.copytree(BASE, repo)
    campaigns = repo / "campaigns"
    campaigns.mkdir()
    for name in ("malformed", "not-utf8", "empty", "duplicate-key"):
        shutil.copyfile(EXAMPLES / "invalid" / "yaml" / f"{name}.yaml", campaigns / f"{name}.yaml")
    (campaigns / "is-a-directory.yaml").mkdir()
    shutil.copyfile(
        EXAMPLES / "invalid" / "campaign" / "run-numbers-not-integers.yaml",
        campaigns / "run-numbers-not-integers.yaml",
    )
    shutil.copyfile(
        EXAMPLES / "invalid" / "site" / "password.yaml", repo / "sites" / "password.yaml"
    )
    return repo


def test_every_problem_of_every_file_is_reported_together_sorted(tmp_path: Path) -> None:
    repo = _broken_repo(tmp_path)
    result = run_mcprod(["validate", "--repo", str(repo), "--rat-root", f"1.0.0={RELEASE}"])
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines == [
        "campaigns/duplicate-key.yaml:7:5: modules[0] (WaterBi214Run): run_numbers:"
        " duplicate key (first at line 6): keep only one",
        "campaigns/duplicate-key.yaml:8:1: label: duplicate key (first at line 2): keep only one",
        "campaigns/empty.yaml:1:1: empty file: expected a campaign mapping"
        " (label, rat_version, modules, ...)",
        "campaigns/is-a-directory.yaml:1:1: is a directory, expected a YAML file holding"
        " a campaign mapping (label, rat_version, modules, ...)",
        "campaigns/malformed.yaml:5:1: invalid YAML: did not find expected ',' or '}'"
        " (while parsing a flow mapping at line 4)",
        "campaigns/not-utf8.yaml:3:18: not UTF-8 text (byte 0xe9): save the file as UTF-8",
        "campaigns/run-numbers-not-integers.yaml:8:9: modules[0] (WaterBi214Run): run_numbers:"
        " expected integers, got '1001a'",
        "sites/password.yaml:7:3: storage.password: looks like a credential; secrets never go"
        " in the repository (a site reads them from its environment or a file only it can read)",
        "8 errors, 0 warnings in 11 files",
    ]


def test_json_format_is_a_list_of_findings(tmp_path: Path) -> None:
    repo = _broken_repo(tmp_path)
    result = run_mcprod(
        ["validate", "--repo", str(repo), "--rat-root", f"1.0.0={RELEASE}", "--format", "json"]
    )
    assert result.returncode == 1
    findings = json.loads(result.stdout)
    assert len(findings) == 8
    assert findings[-1] == {
        "file": "sites/password.yaml",
        "line": 7,
        "column": 3,
        "json_path": "$.storage.password",
        "severity": "error",
        "message": "storage.password: looks like a credential; secrets never go in the"
        " repository (a site reads them from its environment or a file only it can read)",
    }
    assert findings[-2]["json_path"] == "$.modules[0].run_numbers[1]"


def test_the_repository_itself_validates_with_module_checks_skipped() -> None:
    result = run_mcprod(["validate"], cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    versions_used = sorted(
        {
            str(yaml.safe_load(path.read_text())["rat_version"])
            for path in (REPO_ROOT / "campaigns").glob("*.yaml")
        }
    )
    skipped = [
        f"rat-versions/{version}.yaml:4:1: warning: env: no RAT release found from this path,"
        f" so module checks for RAT {version} were skipped"
        f" (pass --rat-root {version}=DIR to check them)"
        for version in versions_used
    ]
    assert [line for line in lines if "module checks" in line] == skipped
    assert all(": warning: " in line for line in lines[:-1]), lines
    assert lines[-1].startswith("0 errors, ")


def test_repo_defaults_to_the_current_folder(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(BASE, repo)
    result = run_mcprod(["validate"], cwd=repo)
    assert (result.returncode, result.stdout) == (0, "0 errors, 0 warnings in 4 files\n")


def test_warnings_alone_exit_zero(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(BASE, repo)
    shutil.copyfile(EXAMPLES / "valid" / "site" / "gamma.yaml", repo / "sites" / "gamma.yaml")
    result = run_mcprod(["validate", "--repo", str(repo)])
    assert result.returncode == 0
    assert result.stdout.endswith("0 errors, 1 warning in 5 files\n")


def test_usage_errors_exit_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args, fragment in (
        (["--format", "xml"], "'xml' is not one of"),
        (["--rat-root", "1.0.0"], "expected VERSION=DIR"),
        (["--rat-root", f"1.0.0={tmp_path / 'nowhere'}"], "is not a folder"),
        (["--rat-root", f"9.9.9={RELEASE}"], "9.9.9: no rat-versions/9.9.9.yaml"),
    ):
        assert run(["validate", "--repo", str(BASE), *args]) == 2, args
        err = capsys.readouterr().err
        assert fragment in err, err
    # The same boundary seen from outside, once.
    result = run_mcprod(["validate", "--repo", str(BASE), "--no-such-option"])
    assert result.returncode == 2
    assert "No such option" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_repository_is_an_error_not_a_crash(tmp_path: Path) -> None:
    result = run_mcprod(["validate", "--repo", str(tmp_path / "nowhere")])
    assert result.returncode == 1
    assert result.stdout == (
        f"{tmp_path / 'nowhere'}:1:1: no such directory: pass --repo with a repository folder\n"
        "1 error, 0 warnings in 0 files\n"
    )


def test_rat_root_in_the_equals_form_the_workflows_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(BASE, repo)
    (repo / "campaigns").mkdir()
    shutil.copyfile(
        EXAMPLES / "invalid" / "campaign" / "unknown-module.yaml",
        repo / "campaigns" / "unknown-module.yaml",
    )
    assert run(["validate", "--repo", str(repo), f"--rat-root=1.0.0={RELEASE}"]) == 1
    out = capsys.readouterr().out
    assert "no module 'WaterBi241Run' in RAT 1.0.0 (did you mean 'WaterBi214Run'?)" in out
    assert "module checks" not in out
