"""`mcprod reconcile --once` against both stores: races, passes, crashes (real processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.enqueue.repo import Repo, StoreFactory, all_jobs, campaign_yaml, make_repo
from tests.helpers import REPO_ROOT, run_mcprod

SMALL = [
    "{module: WaterBi214, n_ev: 2500, ev_per_run: 1000}",
    "{module: ScintSolar_Nue, t_run: 1, t_format: day, n_runs: 2}",
    "{module: WaterBi214Run, run_numbers: [100151, 100152]}",
]
SMALL_JOBS = 7


def _reconcile_cmd(repo: Repo, url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "reconciler", "reconcile", "--once", "--repo", str(repo.root),
            "--db", url, *repo.rat_root, *extra]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MCPROD_DB"}
    env.update(extra)
    return env


def _slots(jobs: list[dict[str, object]]) -> Counter[tuple[object, ...]]:
    return Counter((j["campaign"], j["entry_key"], j["run"], j["index"]) for j in jobs
                   if j["status"] not in ("cancelled", "deleted"))


def test_two_reconcilers_started_together_make_each_job_once(
    tmp_path: Path, new_store: StoreFactory
) -> None:
    repo = make_repo(tmp_path / "repo", {"race": campaign_yaml("race", SMALL)})
    for repetition in range(20):
        url = new_store()
        procs = [
            subprocess.Popen(_reconcile_cmd(repo, url), cwd=REPO_ROOT, env=_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], (repetition, outputs)
        jobs = all_jobs(url, repo.root)
        slots = _slots(jobs)
        assert len(jobs) == SMALL_JOBS, (repetition, sorted(j["_id"] for j in jobs))
        assert set(slots.values()) == {1}
        assert {j["pass"] for j in jobs} == {1}
        # The later process finds every job present, or (when the first one has finished
        # already) the campaign applied as declared, and creates nothing itself.
        created = sum(int(out.split("created ")[1].split(",")[0]) for out, _ in outputs
                      if "created " in out)
        assert created == SMALL_JOBS


def test_second_campaign_for_the_same_modules_gets_pass_2(
    tmp_path: Path, new_store: StoreFactory
) -> None:
    repo = make_repo(tmp_path / "repo", {"first": campaign_yaml("first", SMALL)})
    url = new_store()
    assert run_mcprod(_reconcile_cmd(repo, url)[3:]).returncode == 0
    repo.write_campaign("second", campaign_yaml("second", SMALL))
    commit = repo.commit("second campaign")
    result = run_mcprod(_reconcile_cmd(repo, url)[3:])
    assert result.returncode == 0, result.stderr
    jobs = all_jobs(url, repo.root)
    second = sorted((j["module"], j["run"], j["pass"]) for j in jobs if j["campaign"] == "second")
    assert second == [
        ("ScintSolar_Nue", 0, 2), ("ScintSolar_Nue", 1, 2),
        ("WaterBi214", 0, 2), ("WaterBi214", 1, 2), ("WaterBi214", 2, 2),
        ("WaterBi214Run", 100151, 2), ("WaterBi214Run", 100152, 2),
    ]
    assert {j["commit"] for j in jobs if j["campaign"] == "second"} == {commit}
    exactly = run_mcprod(["exactly", "second", "--db", url, "--repo", str(repo.root)])
    assert exactly.stdout.splitlines()[:2] == ["ScintSolar_Nue 0 2", "ScintSolar_Nue 1 2"]


def test_killed_mid_apply_then_rerun_ends_with_exactly_the_declared_jobs(
    tmp_path: Path, new_store: StoreFactory
) -> None:
    big = ["{module: WaterBi214, n_ev: 600000, ev_per_run: 1000}"]  # 600 jobs: 2 batches
    repo = make_repo(tmp_path / "repo", {"big": campaign_yaml("big", big)})
    url = new_store()
    killed = subprocess.run(_reconcile_cmd(repo, url), cwd=REPO_ROOT, capture_output=True,
                            text=True, env=_env(MCPROD_TEST_CRASH_AT="mid-apply"), timeout=120)
    assert killed.returncode == -9
    partial = all_jobs(url, repo.root)
    assert len(partial) == 500  # killed after the first batch
    rerun = run_mcprod(_reconcile_cmd(repo, url)[3:])
    assert rerun.returncode == 0, rerun.stderr
    jobs = all_jobs(url, repo.root)
    assert len(jobs) == 600
    assert set(_slots(jobs).values()) == {1}
    assert sum(j["events"] for j in jobs) == 600000
    again = run_mcprod(["plan", "--repo", str(repo.root), "--db", url, *repo.rat_root,
                        "--format", "json"])
    assert '"actions": []' in again.stdout
