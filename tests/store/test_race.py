"""Two processes racing on one document: exactly one compare-and-set wins each round."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reconciler.store.design import ensure_design
from reconciler.store.open import open_store
from tests.helpers import REPO_ROOT

ROUNDS = 50


def _ask(worker: subprocess.Popen[str], command: str) -> str:
    assert worker.stdin is not None and worker.stdout is not None
    worker.stdin.write(command + "\n")
    worker.stdin.flush()
    return worker.stdout.readline().strip()


def test_exactly_one_writer_wins_each_round(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url, tmp_path)
    ensure_design(store)
    store.create({"_id": "contested", "wins": 0})
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.store.race_worker", store_url, "contested", name],
            cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        for name in ("first", "second")
    ]
    try:
        winners = []
        for _ in range(ROUNDS):
            assert [_ask(w, "read") for w in workers] == ["ready", "ready"]
            # Both hold the same revision now; send both writes before reading any answer.
            for worker in workers:
                assert worker.stdin is not None
                worker.stdin.write("write\n")
                worker.stdin.flush()
            answers = [w.stdout.readline().strip() for w in workers if w.stdout]
            assert sorted(answers) == ["lost", "won"]
            winners.append(answers.index("won"))
    finally:
        for worker in workers:
            if worker.stdin:
                worker.stdin.close()
            worker.wait(timeout=30)
            if worker.stdout:
                worker.stdout.close()
    final = store.get("contested")
    assert final is not None
    assert final["wins"] == ROUNDS
    assert final["_rev"].startswith(f"{ROUNDS + 1}-")
    assert [w.returncode for w in workers] == [0, 0]
