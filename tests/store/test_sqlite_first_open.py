"""Several processes creating the same brand-new SQLite store at once all succeed.

SQLite can answer "database is locked" at once, without its busy handler waiting,
while another process switches a new file to WAL; the store must wait instead."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import REPO_ROOT

OPENER = """
import sys, time, pathlib
from reconciler.store.sqlite import SqliteStore
go = pathlib.Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
SqliteStore(pathlib.Path(sys.argv[1]), create=True).close()
print("opened")
"""


def test_processes_creating_one_new_store_at_once_all_succeed(tmp_path: Path) -> None:
    for round_number in range(12):
        db = tmp_path / f"state-{round_number}.db"
        go = tmp_path / f"go-{round_number}"
        openers = [
            subprocess.Popen(
                [sys.executable, "-c", OPENER, str(db), str(go)],
                cwd=REPO_ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        time.sleep(0.3)  # every opener is importing or polling by now
        go.touch()
        outcomes = [opener.communicate(timeout=60) for opener in openers]
        assert [out for out, _ in outcomes] == ["opened\n"] * 4, [err for _, err in outcomes]
