"""A site repository for whole-cycle tests: the quickstart example, committed in tmp_path,
and ways to look at what the store and the local backend hold afterwards."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from reconciler.cli.app import run as run_cli
from reconciler.site import wiring  # noqa: F401  (imported once here, before any fork)
from reconciler.site.quickstart import create_database, prepare_copy
from reconciler.site.result import SiteCycleResult
from reconciler.store.interface import Store
from reconciler.store.open import open_store
from tests.helpers import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "quickstart"


def make_site_repo(target: Path) -> Path:
    """The committed example with its embedded database created (as `db init` does)."""
    repo = prepare_copy(EXAMPLE, target)
    create_database(repo)
    return repo


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=test", "-c", "user.email=test@localhost",
         *args],
        capture_output=True, text=True, check=True,
    )
    return done.stdout


def reconcile(repo: Path, *extra: str, env: dict[str, str] | None = None,
              db: str | None = None) -> subprocess.CompletedProcess[str]:
    """`mcprod reconcile --site local --once ...` in a process of its own, forked from
    the test process (the CLI entry point runs there as in `python -m reconciler`, but
    without paying the imports again: most cycle tests run several cycles)."""
    args = ["reconcile", "--site", "local", "--once", "--repo", str(repo),
            "--retry-backoff", "0", "--format", "json", *extra]
    if db:
        args += ["--db", db]
    return run_forked(args, env or {})


def run_forked(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="mcprod-cli-") as folder:
        out_path, err_path = Path(folder) / "out", Path(folder) / "err"
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            code = 3
            try:
                os.environ.pop("MCPROD_DB", None)
                os.environ.update(env)
                sys.stdout = open(out_path, "w")  # noqa: SIM115
                sys.stderr = open(err_path, "w")  # noqa: SIM115
                code = run_cli(args)
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        return subprocess.CompletedProcess(
            args, code, out_path.read_text() if out_path.exists() else "",
            err_path.read_text() if err_path.exists() else "",
        )


STAMP = re.compile(r"\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\] ")


def unstamped(text: str) -> list[str]:
    """The lines of `reconcile --site` text output without their timestamps (each has one)."""
    lines = []
    for line in text.splitlines():
        assert STAMP.match(line), f"no timestamp: {line!r}"
        lines.append(STAMP.sub("", line, count=1))
    return lines


def parsed(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.stdout.strip(), result.stderr
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def store_of(repo: Path, db: str | None = None) -> Store:
    return open_store(db, repo)


def jobs(store: Store) -> list[dict[str, Any]]:
    rows = store.view("mcprod/jobs_by_status_module", reduce=False)
    docs = store.get_many([r.id for r in rows if r.id])
    return [d for d in docs if d is not None]


def backend_names(work_dir: Path) -> list[str]:
    """The name of every job the local backend was ever given (one per submission)."""
    specs = sorted((work_dir / "local-backend" / "jobs").glob("*/spec.json"))
    return [json.loads(p.read_text())["name"] for p in specs]


def wait_until_backend_idle(work_dir: Path, timeout_s: float = 30) -> None:
    """Every job the local backend started has written its exit code. A job still in
    the backend's queue was not started (its slot was taken when it was submitted: the
    backend starts it at its next call, in the next cycle) and is not waited for."""
    deadline = time.monotonic() + timeout_s
    jobs_dir = work_dir / "local-backend" / "jobs"
    queued = work_dir / "local-backend" / "queued"
    while time.monotonic() < deadline:
        dirs = list(jobs_dir.glob("*")) if jobs_dir.exists() else []
        if all((d / "exit_code").exists() or (d / "cancelled").exists()
               or (queued / d.name).exists() for d in dirs):
            return
        time.sleep(0.05)
    raise AssertionError(f"local backend jobs still running after {timeout_s} s")


def assert_one_backend_job_per_attempt(store: Store, work_dir: Path) -> None:
    names = backend_names(work_dir)
    assert len(names) == len(set(names)), f"an attempt was submitted twice: {sorted(names)}"
    for job in jobs(store):
        for attempt in job.get("attempts") or []:
            if attempt.get("backend_id"):
                assert attempt["backend_name"] in names


def cycle_result(data: dict[str, Any]) -> SiteCycleResult:
    fields = {k: v for k, v in data.items() if k not in ("ok", "needs_human")}
    return SiteCycleResult(**fields)
