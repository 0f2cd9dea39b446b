"""The database going away in the middle of an apply: one clear line, nothing lost."""

from __future__ import annotations

import urllib.parse
from collections import Counter
from pathlib import Path

import pytest

from tests.enqueue.relay import VanishingRelay
from tests.enqueue.repo import all_jobs, campaign_yaml, make_repo
from tests.helpers import run_mcprod


@pytest.mark.couch
def test_store_gone_mid_apply_then_next_run_finishes(tmp_path: Path, couch_db_url: str) -> None:
    big = ["{module: WaterBi214, n_ev: 600000, ev_per_run: 1000}"]  # 2 bulk batches
    repo = make_repo(tmp_path / "repo", {"big": campaign_yaml("big", big)})
    target = urllib.parse.urlsplit(couch_db_url)
    relay = VanishingRelay(target.port or 80, vanish_on_bulk=2)
    via_relay = f"http://127.0.0.1:{relay.port}{target.path}"
    try:
        cut = run_mcprod(["reconcile", "--once", "--repo", str(repo.root), "--db", via_relay,
                          *repo.rat_root])
    finally:
        relay.vanish()
    assert cut.returncode == 1
    assert len(cut.stderr.splitlines()) == 1 and "Traceback" not in cut.stderr
    assert cut.stderr.startswith(f"error: {via_relay}: cannot reach the server")
    assert cut.stderr.endswith(
        "the apply stopped part-way: nothing is lost, the next `mcprod reconcile` finishes it\n"
    )
    assert len(all_jobs(couch_db_url, repo.root)) == 500
    done = run_mcprod(["reconcile", "--once", "--repo", str(repo.root), "--db", couch_db_url,
                       *repo.rat_root])
    assert done.returncode == 0, done.stderr
    jobs = all_jobs(couch_db_url, repo.root)
    assert len(jobs) == 600
    assert set(Counter((j["entry_key"], j["run"], j["index"]) for j in jobs).values()) == {1}
