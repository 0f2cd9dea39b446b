"""The whole site cycle on the `condor` backend, against the HTCondor test double: one
cluster per batch, jobs on worker folders of their own, the return card and logs
transferred back into the attempt's folder, failures held or exited."""

from __future__ import annotations

from pathlib import Path

from tests.site.cycle_support import jobs, parsed, reconcile, store_of
from tests.site.grid_support import calls, double_env, grid_repo, run_until_settled, set_faults

CONDOR = "{type: condor, request_memory: 2GB}"


def test_the_quickstart_completes_on_condor_with_failures_retried(tmp_path: Path) -> None:
    home = tmp_path / "condor-service"
    repo = grid_repo(tmp_path, CONDOR)
    env = double_env("condor", home)
    set_faults(home, fail=["job:WaterBi214:r*.a1"], stall=["job:WaterBi214Run:*.a1"])
    first = parsed(reconcile(repo, env=env))
    assert (first["enqueued"], first["submitted"], first["errors"]) == (12, 12, [])
    assert calls(home, "condor_submit") == 1  # one cluster for the batch
    reports = run_until_settled(repo, env)
    assert all(r["errors"] == [] for r in reports), [r["errors"] for r in reports]
    store = store_of(repo)
    done = jobs(store)
    assert sorted(j["status"] for j in done) == ["completed"] * 12
    reasons = {j["module"]: j["attempts"][0]["reason"] for j in done if len(j["attempts"]) > 1}
    assert set(reasons) == {"WaterBi214", "WaterBi214Run"}
    assert "exit code 1" in reasons["WaterBi214"]
    assert "injected failure" in reasons["WaterBi214"]  # job.err came back
    assert "HTCondor held it: Job stalled" in reasons["WaterBi214Run"]
    assert calls(home, "condor_rm") >= 1  # the held jobs were removed before their retry
    for job in done:
        data = store.get(
            f"data:{job['outputs'][0]}:{job['module']}:r{job['run']}:s0:p{job['pass']}"
        )
        assert data is not None
    assert list((home / "worker-nodes").iterdir()) == []


def test_killed_between_submit_and_record_adopts_by_name_on_condor(tmp_path: Path) -> None:
    home = tmp_path / "condor-service"
    repo = grid_repo(tmp_path, CONDOR, max_running=4)
    env = double_env("condor", home)
    crashed = reconcile(repo, env={**env, "MCPROD_TEST_CRASH_AT": "after-submit"})
    assert crashed.returncode == -9
    report = parsed(reconcile(repo, env=env))
    assert (report["adopted"], report["released"], report["errors"]) == (4, 0, [])
    run_until_settled(repo, env)
    names = [a["backend_name"] for j in jobs(store_of(repo)) for a in j["attempts"]]
    assert len(names) == len(set(names)) == 12
