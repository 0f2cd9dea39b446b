"""The store going away in the middle of a cycle: exit 1 with one line, nothing lost,
the next cycle converges (the jobs submitted before the outage are adopted, not
submitted again)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, run_mcprod
from tests.services.couchserver import POUCHDB_SERVER, answers, free_port, http_json
from tests.site.cycle_support import (
    assert_one_backend_job_per_attempt,
    backend_names,
    jobs,
    make_site_repo,
    parsed,
    reconcile,
    store_of,
    unstamped,
)

WORK = Path(".mcprod") / "sites" / "local"


class DiskServer:
    """pouchdb-server on a data folder, so that its databases survive a restart."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(POUCHDB_SERVER), "--dir", str(self.folder / "data"), "--host", "127.0.0.1",
                 "--port", str(self.port)],
                cwd=self.folder, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 30
        while not answers(self.url):
            assert self.process.poll() is None, (self.folder / "server.log").read_text()
            assert time.monotonic() < deadline, "pouchdb-server did not answer"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DiskServer]:
    running = DiskServer(tmp_path / "couch")
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.couch
def test_store_gone_between_submit_and_record(server: DiskServer, tmp_path: Path) -> None:
    repo = make_site_repo(tmp_path / "repo")
    db = f"{server.url}/production"
    http_json("PUT", db)
    assert run_mcprod(["db", "init", "--repo", str(repo), "--db", db]).returncode == 0
    marker = tmp_path / "paused"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "MCPROD_TEST_PAUSE_AT": "after-submit",
           "MCPROD_TEST_PAUSE_FILE": str(marker)}
    env.pop("MCPROD_DB", None)
    cycle = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "reconcile", "--site", "local", "--once",
         "--repo", str(repo), "--db", db],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert cycle.poll() is None, cycle.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    server.stop()  # the store goes away after the batch system took the jobs
    marker.unlink()
    _out, err = cycle.communicate(timeout=120)
    assert cycle.returncode == 1
    assert len(err.strip().splitlines()) == 1, err
    assert unstamped(err)[0].startswith(f"error: {db}: cannot reach the server (")
    assert "Traceback" not in err
    submitted_before = backend_names(repo / WORK)
    assert len(submitted_before) == 4

    server.start()
    report = parsed(reconcile(repo, db=db))
    assert (report["adopted"], report["released"]) == (4, 0)
    store = store_of(repo, db)
    adopted = {j["backend_name"] for j in jobs(store) if j.get("attempt") == 1 and j["site"]}
    assert set(submitted_before) <= adopted
    assert_one_backend_job_per_attempt(store, repo / WORK)

