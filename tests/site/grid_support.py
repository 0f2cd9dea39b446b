"""Whole-cycle tests on the grid backends: the quickstart repository switched to a
`dirac` or `condor` backend whose commands are the test doubles under tests/doubles/."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from tests.helpers import REPO_ROOT
from tests.site.cycle_support import git, jobs, make_site_repo, parsed, reconcile, store_of

DOUBLES = REPO_ROOT / "tests" / "doubles"


def double_env(kind: str, home: Path) -> dict[str, str]:
    """PATH with the double's commands first, and the folder that keeps its queue."""
    home.mkdir(parents=True, exist_ok=True)
    variable = {"dirac": "DIRAC_DOUBLE_HOME", "condor": "CONDOR_DOUBLE_HOME"}[kind]
    return {"PATH": f"{DOUBLES / kind / 'bin'}{os.pathsep}{os.environ['PATH']}",
            variable: str(home)}


def grid_repo(tmp_path: Path, backend: str, max_running: int = 12) -> Path:
    repo = make_site_repo(tmp_path / "repo")
    site = repo / "sites" / "local.yaml"
    site.write_text(site.read_text().replace("backend: {type: local}", f"backend: {backend}")
                    .replace("max_running: 4", f"max_running: {max_running}")
                    + "store: embedded\n")  # one machine's test: the SQLite store on purpose
    git(repo, "commit", "-qam", f"run the site on {backend}")
    return repo


def set_faults(home: Path, **globs: list[str]) -> None:
    (home / "faults.json").write_text(json.dumps(globs))


def calls(home: Path, command: str) -> int:
    log = home / "calls.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return sum(1 for line in lines if line.split()[0] == command)


def run_until_settled(
    repo: Path, env: dict[str, str], timeout_s: float = 90
) -> list[dict[str, Any]]:
    """Cycles until every job is completed or cancelled; the cycles' reports."""
    reports: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while True:
        reports.append(parsed(reconcile(repo, env=env)))
        statuses = {j["status"] for j in jobs(store_of(repo))}
        if statuses and statuses <= {"completed", "cancelled"}:
            return reports
        assert time.monotonic() < deadline, (statuses, reports[-1])
        time.sleep(0.3)
