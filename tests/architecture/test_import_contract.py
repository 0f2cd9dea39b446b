"""The package's import contract (pyproject.toml, [tool.importlinter]) holds, and would
catch a violation: a copy of the package with planted bad imports breaks each contract."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO_ROOT

LINT = Path(sys.executable).with_name("lint-imports")
PLANTED = "reconciler_planted"


def _lint(config: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--config", str(config), "--no-cache"],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )


def _planted_copy(tmp_path: Path) -> Path:
    """The package renamed (so the installed one cannot shadow it) and its config."""
    target = tmp_path / PLANTED
    shutil.copytree(REPO_ROOT / "reconciler", target,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for path in target.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"\breconciler\b", PLANTED, text), encoding="utf-8")
    config = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = config[config.index("[tool.importlinter]"):]
    (tmp_path / "contract.toml").write_text(re.sub(r"\breconciler\b", PLANTED, section))
    return target


def _plant(module: Path, line: str) -> None:
    text = module.read_text(encoding="utf-8")
    marker = "from __future__ import annotations\n"
    module.write_text(text.replace(marker, f"{marker}\n{line}\n", 1), encoding="utf-8")


def test_the_package_keeps_every_contract(tmp_path: Path) -> None:
    _planted_copy(tmp_path)
    result = _lint(tmp_path / "contract.toml", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


def test_each_planted_violation_breaks_its_contract(tmp_path: Path) -> None:
    package = _planted_copy(tmp_path)
    _plant(package / "model.py", f"import {PLANTED}.store.sqlite  # noqa")  # upward
    _plant(package / "enqueue" / "plan.py", "import subprocess  # noqa")  # I/O in the planner
    _plant(package / "site" / "cycle.py", "import typer  # noqa")  # CLI framework outside cli
    _plant(package / "job" / "storage.py", "import couchdb  # noqa")  # client outside the store
    result = _lint(tmp_path / "contract.toml", tmp_path)
    assert result.returncode == 1
    assert "Contracts: 0 kept, 4 broken." in result.stdout, result.stdout
    assert f"{PLANTED}.model -> {PLANTED}.store.sqlite" in result.stdout
    assert f"{PLANTED}.enqueue.plan -> subprocess" in result.stdout
    assert f"{PLANTED}.site.cycle -> typer" in result.stdout
    assert f"{PLANTED}.job.storage -> couchdb" in result.stdout
