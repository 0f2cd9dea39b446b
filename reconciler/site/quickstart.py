"""`mcprod quickstart` (`make run`): a whole production on this machine, with the embedded defaults.

What it does, so that a new user sees every moving part once:
1. copies `examples/quickstart/` (a campaign, a stand-in RAT release, a site
   `local`) to `.mcprod/quickstart/` in this clone, replacing the placeholder
   `/QUICKSTART` in its YAML with that folder's absolute path (site files need
   absolute paths), and commits it to a fresh git repository there;
2. runs site cycles for `local` (SQLite store, local backend, file:// storage
   under the copy) until every job is completed with verified outputs;
3. prints `mcprod status` for that repository.

Every run starts from a fresh copy, so a second `make run` behaves like the first;
the previous copy is replaced. Nothing outside `.mcprod/quickstart/` is touched.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from reconciler.errors import McprodError
from reconciler.site.cycle import CycleOptions
from reconciler.site.result import SiteCycleResult
from reconciler.site.wiring import run_cycle
from reconciler.store.design import ensure_design
from reconciler.store.open import init_store, open_store

PLACEHOLDER = "/QUICKSTART"
RATDB_PASSWORD_FILE = "ratdb-password"
SITE = "local"
INTERVAL_S = 0.3
TIMEOUT_S = 50.0
UNFINISHED = ("waiting", "reserved", "submitted", "running")


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def prepare_copy(source: Path, target: Path) -> Path:
    """A fresh, committed copy of the example repository at `target`."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, symlinks=False)  # follows the links to schemas/ and rat
    for folder in ("rat-versions", "sites"):
        for path in sorted((target / folder).glob("*.yaml")):
            path.write_text(path.read_text().replace(PLACEHOLDER, str(target)))
    git = ["git", "-C", str(target), "-c", "user.name=mcprod quickstart",
           "-c", "user.email=quickstart@localhost"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "quickstart example"], check=True)
    write_ratdb_password(target)
    return target


def create_database(root: Path) -> None:
    """What `mcprod db init` does: the quickstart is one of the two places that create
    a database (no other command does, so a lost state.db is never silently fresh)."""
    store, _ = init_store(None, root)
    try:
        ensure_design(store)
    finally:
        store.close()
def write_ratdb_password(target: Path) -> None:
    """The password file sites/local.yaml points at: random, owner-only, outside Git.

    The stand-in RAT connects to no database; the file lets the example's run-by-run
    jobs take the same path as production (the job script reads it at run time)."""
    path = target / RATDB_PASSWORD_FILE
    path.touch(mode=0o600)
    path.write_text(secrets.token_urlsafe(16) + "\n")
    with (target / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write(f"/{RATDB_PASSWORD_FILE}\n")


def counts(root: Path) -> dict[str, int]:
    store = open_store(None, root)
    try:
        rows = store.view("mcprod/jobs_by_status_module", reduce=True, group_level=1)
        return {str(row.key[0]): int(row.value) for row in rows}
    finally:
        store.close()


def progress_line(number: int, result: SiteCycleResult, by_status: dict[str, int]) -> str:
    shown = ", ".join(f"{status} {n}" for status, n in sorted(by_status.items()))
    return (f"cycle {number}: submitted {result.submitted}, completed {result.completed},"
            f" failed {result.failed}  |  jobs: {shown}")


def run(source: Path, target: Path, timeout_s: float = TIMEOUT_S) -> int:
    print(f"mcprod quickstart: copying {source} to {target}")
    root = prepare_copy(source, target)
    create_database(root)
    options = CycleOptions(site=SITE, repo_root=root, retry_backoff_s=1.0)
    started = time.monotonic()
    number = 0
    while True:
        number += 1
        result = run_cycle(options)
        by_status = counts(root)
        print(progress_line(number, result, by_status))
        for error in result.errors:
            print(f"  error: {error}")
        if by_status and not any(by_status.get(s) for s in UNFINISHED):
            break
        if time.monotonic() - started > timeout_s:
            raise McprodError(f"quickstart: not finished after {timeout_s:g} s")
        time.sleep(INTERVAL_S)
    elapsed = time.monotonic() - started
    print(f"mcprod quickstart: every job finished in {elapsed:.1f} s ({number} cycles)\n")
    print(f"$ mcprod status --repo {root}")
    sys.stdout.flush()
    status = subprocess.run(
        [sys.executable, "-m", "reconciler", "status", "--repo", str(root)], check=False
    )
    print(f"\nOutputs are under {root / 'storage'}; job folders under {root / '.mcprod'}.")
    return 0 if status.returncode == 0 and set(by_status) <= {"completed"} else 1



def run_example() -> int:
    """The quickstart on this clone's `examples/quickstart/`; the exit code."""
    root = repo_root()
    return run(root / "examples" / "quickstart", root / ".mcprod" / "quickstart")
