"""A finished quickstart production with two injected failures, built once per test module.

The quickstart example is copied and committed (as `make run` does); its run-mode
macro is marked to make the stand-in RAT fail, so both WaterBi214Run jobs fail
their first attempt; the mark is then removed (and committed) and cycles run until
every job is completed. Result: 12 completed jobs, two of them with two attempts.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reconciler.site.cycle import CycleOptions
from reconciler.site.wiring import run_cycle
from reconciler.store.open import open_store
from tests.site.cycle_support import git, make_site_repo

FAIL_MARK = "# mcprod-standin: fail 3\n"
RUN_MACRO = Path("rat-release/mac/production/water/Bi214Run.mac")
FAILING_MODULE = "WaterBi214Run"
TIMEOUT_S = 90.0
RETRY_BACKOFF_S = 3.0


@dataclass(frozen=True)
class Production:
    root: Path  # the site repository (its store is <root>/.mcprod/state.db)
    failed_twice: tuple[str, ...]  # the job ids that failed once, then completed

    @property
    def db(self) -> str:
        return f"sqlite://{self.root}/.mcprod/state.db"

    def copy(self, target: Path) -> Production:
        """A copy of the repository and its store, for a test that changes them. Its site
        and release files point at the copy (new outputs go there; the data documents
        copied with the store still name the original's files)."""
        shutil.copytree(self.root, target, symlinks=True)
        for folder in ("rat-versions", "sites"):
            for path in (target / folder).glob("*.yaml"):
                path.write_text(path.read_text().replace(str(self.root), str(target)))
        git(target, "commit", "-qam", "the copy's own paths")
        # The copied store still holds the original's site lease: let it have expired,
        # as if the original reconciler had stopped long ago.
        store = open_store(None, target)
        try:
            lease = store.get("lease:site:local")
            if lease is not None:
                store.update({**lease, "expires_at": "2000-01-01T00:00:00.000000Z"})
        finally:
            store.close()
        return Production(target, self.failed_twice)


def _statuses(root: Path) -> dict[str, tuple[str, list[str]]]:
    """job id -> (status, attempt statuses), read from the documents."""
    store = open_store(None, root)
    try:
        rows = store.view("mcprod/jobs_by_status_module", reduce=False)
        docs = [d for d in store.get_many([r.id for r in rows if r.id]) if d is not None]
    finally:
        store.close()
    return {
        str(d["_id"]): (str(d.get("status")), [str(a.get("status")) for a in d["attempts"]])
        for d in docs
    }


Done = Callable[[dict[str, tuple[str, list[str]]]], bool]


def _cycles_until(root: Path, done: Done, what: str) -> None:
    # The back-off keeps a failed job from being resubmitted in the cycle that saw it
    # fail, while the macro still carries the failure mark.
    options = CycleOptions(site="local", repo_root=root, retry_backoff_s=RETRY_BACKOFF_S)
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        result = run_cycle(options)
        assert not result.errors, result.errors
        if done(_statuses(root)):
            return
        time.sleep(0.2)
    raise AssertionError(f"not {what} after {TIMEOUT_S:g} s: {_statuses(root)}")


def _failing(found: dict[str, tuple[str, list[str]]]) -> list[str]:
    return sorted(k for k in found if k.startswith(f"job:{FAILING_MODULE}:"))


def build_production(target: Path) -> Production:
    root = make_site_repo(target)
    macro = root / RUN_MACRO
    clean = macro.read_text()
    macro.write_text(FAIL_MARK + clean)
    git(root, "commit", "-qam", "make the run-mode module fail")

    def failed_once(found: dict[str, tuple[str, list[str]]]) -> bool:
        failing = _failing(found)
        return len(failing) == 2 and all("failed" in found[k][1] for k in failing)

    _cycles_until(root, failed_once, "failed once")
    macro.write_text(clean)
    git(root, "commit", "-qam", "the run-mode module works again")

    def all_completed(found: dict[str, tuple[str, list[str]]]) -> bool:
        states = [status for status, _ in found.values()]
        return len(states) == 12 and set(states) == {"completed"}

    _cycles_until(root, all_completed, "all completed")
    return Production(root, tuple(_failing(_statuses(root))))
