"""The whole site cycle on the `dirac` backend, against the DIRAC test double: jobs run
on "worker nodes" that share no folder with the reconciler; only the output sandbox
comes back. Outputs are verified on file:// storage standing in for the SE."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.site.cycle_support import git, jobs, parsed, reconcile, store_of
from tests.site.grid_support import calls, double_env, grid_repo, run_until_settled, set_faults

DIRAC = "{type: dirac, vo: snoplus.snolab.ca, proxy_min_hours: 24}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "dirac-service"


def test_the_quickstart_completes_on_dirac_with_a_failed_job_retried(
    tmp_path: Path, home: Path
) -> None:
    repo = grid_repo(tmp_path, DIRAC)
    env = double_env("dirac", home)
    set_faults(home, fail=["job:WaterBi214:r*.a1"])  # each WaterBi214 job fails once
    first = parsed(reconcile(repo, env=env))
    assert (first["enqueued"], first["submitted"], first["errors"]) == (12, 12, [])
    # 12 attempts in one parametric JDL, one submit call.
    assert calls(home, "dirac-wms-job-submit") == 1
    reports = run_until_settled(repo, env)
    assert all(r["errors"] == [] for r in reports), [r["errors"] for r in reports]
    store = store_of(repo)
    done = jobs(store)
    assert sorted(j["status"] for j in done) == ["completed"] * 12
    retried = [j for j in done if j["module"] == "WaterBi214"]
    assert len(retried) == 5
    for job in retried:
        first_try, second = job["attempts"]
        assert first_try["status"] == "failed"
        assert "DIRAC Failed: Application Finished With Errors" in first_try["reason"]
        assert "injected failure" in first_try["reason"]  # the stderr came back
        assert second["status"] == "completed"
    for job in done:
        data = store.get(
            f"data:{job['outputs'][0]}:{job['module']}:r{job['run']}:s0:p{job['pass']}"
        )
        assert data is not None
        assert all(f["url"].startswith("file://") for f in data["files"])
    # No job ran in the reconciler's folders: the worker nodes are gone, and each
    # attempt's folder holds what the output sandbox returned.
    assert list((home / "worker-nodes").iterdir()) == []
    job = done[0]
    attempt = (repo / ".mcprod" / "sites" / "local" / "jobs" / job["module"]
               / f"r{job['run']}_s{job['subrun']}_p{job['pass']}" / f"a{job['attempt']}")
    assert {"job.out", "job.err", "return-card.json"} <= {p.name for p in attempt.iterdir()}


def test_killed_between_submit_and_record_adopts_by_name(tmp_path: Path, home: Path) -> None:
    repo = grid_repo(tmp_path, DIRAC, max_running=4)
    env = double_env("dirac", home)
    crashed = reconcile(repo, env={**env, "MCPROD_TEST_CRASH_AT": "after-submit"})
    assert crashed.returncode == -9
    reserved = [j for j in jobs(store_of(repo)) if j["status"] == "reserved"]
    assert len(reserved) == 4
    report = parsed(reconcile(repo, env=env))
    assert (report["adopted"], report["released"], report["errors"]) == (4, 0, [])
    assert calls(home, "dirac-wms-job-submit") == 2  # the crashed one, and the next 4 jobs
    run_until_settled(repo, env)
    names = [a["backend_name"] for j in jobs(store_of(repo)) for a in j["attempts"]]
    assert len(names) == len(set(names)) == 12
    grid_names = (home / "jobs").glob("*.json")
    submitted = sorted(p.read_text().split('"name": "')[1].split('"')[0] for p in grid_names)
    assert submitted == sorted(names)  # never two grid jobs for one attempt


def test_a_proxy_below_the_threshold_submits_nothing(tmp_path: Path, home: Path) -> None:
    repo = grid_repo(tmp_path, DIRAC)
    env = double_env("dirac", home)
    (home / "proxy-seconds").write_text(str(3 * 3600))
    done = reconcile(repo, "--format", "text", env=env)
    assert done.returncode == 1
    # One line on stderr (cron mails it), after the cycle's timestamp.
    [line] = done.stderr.splitlines()
    assert line.split("] ", 1)[1] == (
        "error: submission blocked: grid proxy has 3.0 h left, below the site's 24 h "
        "(proxy_min_hours): renew it with dirac-proxy-init; nothing submitted"
    )
    assert "  enqueued 12, submit 0 (lost to another reconciler: 0)" in done.stdout
    assert "  submission blocked: grid proxy has 3.0 h left" in done.stdout
    assert calls(home, "dirac-wms-job-submit") == 0
    site = store_of(repo).get("site:local")
    assert site is not None
    assert any("submission blocked: grid proxy has 3.0 h left" in line
               for line in site["last_cycle"])


def test_stalled_and_lost_jobs_fail_with_reasons_and_are_retried(
    tmp_path: Path, home: Path
) -> None:
    repo = grid_repo(tmp_path, DIRAC)
    env = double_env("dirac", home)
    set_faults(home, stall=["job:WaterBi214Run:*.a1"], lose=["job:ScintSolar_Nue:*.a1"])
    run_until_settled(repo, env)
    store = store_of(repo)
    reasons = {j["module"]: j["attempts"][0]["reason"] for j in jobs(store)
               if len(j["attempts"]) > 1}
    assert "DIRAC Stalled: Job stalled: pilot not running" in reasons["WaterBi214Run"]
    assert "the backend no longer knows" in reasons["ScintSolar_Nue"]
    assert sorted(j["status"] for j in jobs(store)) == ["completed"] * 12
    # The stalled jobs were killed before their retry ran.
    assert calls(home, "dirac-wms-job-kill") >= 1


def test_a_catalogue_site_registers_lfn_and_guid_of_every_output(
    tmp_path: Path, home: Path
) -> None:
    repo = grid_repo(tmp_path, DIRAC)
    se = tmp_path / "se"
    site = repo / "sites" / "local.yaml"
    text = site.read_text()
    storage_line = next(line for line in text.splitlines() if line.startswith("storage:"))
    site.write_text(text.replace(storage_line, (
        f'storage: {{base_url: "file://{se}/snoplus/mc", catalogue: dfc,'
        ' lfn_base: /snoplus/mc, dirac_se: DOUBLE-SE}')))
    git(repo, "commit", "-qam", "register outputs in the DIRAC File Catalog")
    env = double_env("dirac", home)
    (home / "storage-elements.json").write_text(json.dumps({"DOUBLE-SE": f"file://{se}"}))
    run_until_settled(repo, env)
    catalogue = json.loads((home / "catalogue.json").read_text())
    store = store_of(repo)
    ids = [f"data:{kind}:{job['module']}:r{job['run']}:s{job['subrun']}:p{job['pass']}"
           for job in jobs(store) for kind in job["outputs"]]
    files = [f for data_id in ids for f in store.get(data_id)["files"]]
    assert len(files) == len(catalogue) >= 12
    for file in files:
        assert file["lfn"] == f"/snoplus/mc/quickstart-demo/{file['url'].split('/')[-2]}/" \
                              f"{file['name']}"
        assert file["url"] == f"file://{se}{file['lfn']}"
        assert catalogue[file["lfn"]] == {"guid": file["guid"], "se": "DOUBLE-SE",
                                          "size": file["size"]}
