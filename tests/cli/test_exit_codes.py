"""Exit codes at the CLI boundary: 0, 1, 2 (usage), 3 (internal error, logged), 130 (Ctrl-C)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reconciler.cli import validate_cmd
from reconciler.cli.app import run
from tests.helpers import REPO_ROOT, run_mcprod


def test_help_lists_the_application() -> None:
    result = run_mcprod(["--help"])
    assert result.returncode == 0
    assert "GitOps for SNO+ Monte Carlo production" in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = run_mcprod(["no-such-command"])
    assert result.returncode == 2
    assert "No such command" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_internal_error_exits_3_with_the_traceback_in_a_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise ZeroDivisionError("planted bug")

    monkeypatch.setenv("MCPROD_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(validate_cmd, "validate_repository", broken)
    assert run(["validate", "--repo", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    match = re.fullmatch(r"mcprod: internal error \(ZeroDivisionError\); details in (\S+)\n", err)
    assert match, err
    log = Path(match.group(1))
    assert log.parent == tmp_path / "logs"
    text = log.read_text(encoding="utf-8")
    assert text.startswith("Traceback (most recent call last):")
    assert "ZeroDivisionError: planted bug" in text


def test_ctrl_c_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(validate_cmd, "validate_repository", interrupted)
    assert run(["validate", "--repo", str(tmp_path)]) == 130
    assert capsys.readouterr().err == "mcprod: interrupted\n"


def test_sigint_to_a_running_command_exits_130(tmp_path: Path) -> None:
    """A real Ctrl-C: SIGINT to `mcprod quickstart` while it holds a reserved job
    (paused at a known point of the cycle, so the signal never races start-up)."""
    clone = tmp_path / "clone"
    shutil.copytree(REPO_ROOT / "examples", clone / "examples", symlinks=True)
    shutil.copytree(REPO_ROOT / "reconciler", clone / "reconciler",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("schemas", "tests/bin"):
        shutil.copytree(REPO_ROOT / folder, clone / folder)
    pause = tmp_path / "paused"
    env = {**os.environ, "MCPROD_TEST_PAUSE_AT": "after-reserve",
           "MCPROD_TEST_PAUSE_FILE": str(pause)}
    env.pop("MCPROD_DB", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "quickstart"], cwd=clone, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while not pause.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pause.exists(), "the quickstart never reached its first reservation"
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.rstrip().endswith("mcprod: interrupted")
    assert "Traceback" not in err
