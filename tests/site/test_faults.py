"""Fault tests of the whole site cycle, through the real CLI: racing reconcilers,
crashes inside reserve -> submit -> record, bad outputs, a bad commit."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from reconciler.site.cycle import CycleOptions
from reconciler.site.wiring import run_cycle
from reconciler.store.design import ensure_design
from reconciler.store.open import open_store
from tests.helpers import init_sqlite, run_mcprod
from tests.site.cycle_support import (
    assert_one_backend_job_per_attempt,
    backend_names,
    git,
    jobs,
    make_site_repo,
    parsed,
    reconcile,
    store_of,
    wait_until_backend_idle,
)

WORK = Path(".mcprod") / "sites" / "local"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_site_repo(tmp_path / "repo")


def test_a_cycle_submits_up_to_max_running(repo: Path) -> None:
    # Through `python -m reconciler`, as cron runs it (the other tests fork, for speed).
    result = run_mcprod(["reconcile", "--site", "local", "--once", "--repo", str(repo),
                         "--format", "json"])
    assert result.returncode == 0, result.stderr
    report = parsed(result)
    assert (report["enqueued"], report["submitted"], report["errors"]) == (12, 4, [])
    statuses = sorted(j["status"] for j in jobs(store_of(repo)))
    assert statuses.count("submitted") == 4
    assert statuses.count("waiting") == 8


def _one_cycle(options: CycleOptions, start: Any, results: Any) -> None:
    start.wait()
    result = run_cycle(options)
    results.put((result.submitted, result.lost_races, result.errors))


def test_two_reconcilers_started_together_never_submit_twice(tmp_path: Path) -> None:
    """20 rounds of two reconciler processes for one site released at the same instant
    (forked after the imports, so that the two really overlap and each round is short)."""
    repo = make_site_repo(tmp_path / "repo")
    init_sqlite(f"sqlite:///{tmp_path}/warm.db")
    run_cycle(CycleOptions(site="local", repo_root=repo, db_url=f"sqlite:///{tmp_path}/warm.db",
                           work_dir=tmp_path / "warm"))  # the imports, once, before forking
    context = multiprocessing.get_context("fork")
    for round_ in range(20):
        db = f"sqlite:///{tmp_path}/round{round_}.db"
        work = tmp_path / f"work{round_}"
        options = CycleOptions(site="local", repo_root=repo, db_url=db, work_dir=work)
        # The database exists before the race, as at a site (a cron job creates it once).
        ensure_design(open_store(db, repo, create=True))
        start, results = context.Event(), context.Queue()
        both = [context.Process(target=_one_cycle, args=(options, start, results))
                for _ in range(2)]
        for process in both:
            process.start()
        start.set()
        for process in both:
            process.join(60)
            assert process.exitcode == 0
        reports = [results.get(timeout=5) for _ in both]
        assert all(errors == [] for _, _, errors in reports), reports
        store = store_of(repo, db)
        active = [j for j in jobs(store) if j["status"] in ("reserved", "submitted", "running")]
        assert len(active) <= 4, f"round {round_}: max_running 4, {len(active)} active"
        assert sum(submitted for submitted, _, _ in reports) == len(backend_names(work))
        assert_one_backend_job_per_attempt(store, work)
        store.close()


def test_killed_between_reserve_and_submit_releases_at_next_cycle(repo: Path) -> None:
    crashed = reconcile(repo, env={"MCPROD_TEST_CRASH_AT": "after-reserve"})
    assert crashed.returncode == -9
    store = store_of(repo)
    assert sorted(j["status"] for j in jobs(store)).count("reserved") == 4
    assert backend_names(repo / WORK) == []
    report = parsed(reconcile(repo))
    assert (report["released"], report["adopted"], report["submitted"]) == (4, 0, 4)
    names = backend_names(repo / WORK)
    assert len(names) == 4 and all(name.endswith(".a2") for name in names)
    assert_one_backend_job_per_attempt(store, repo / WORK)


def test_killed_between_submit_and_record_adopts_at_next_cycle(repo: Path) -> None:
    crashed = reconcile(repo, env={"MCPROD_TEST_CRASH_AT": "after-submit"})
    assert crashed.returncode == -9
    store = store_of(repo)
    reserved = [j for j in jobs(store) if j["status"] == "reserved"]
    assert len(reserved) == 4
    assert sorted(backend_names(repo / WORK)) == sorted(j["backend_name"] for j in reserved)
    report = parsed(reconcile(repo))
    assert (report["adopted"], report["released"]) == (4, 0)
    for job in reserved:
        fresh = store.get(job["_id"])
        assert fresh is not None and fresh["backend_id"] is not None
        assert fresh["attempt"] == 1
    wait_until_backend_idle(repo / WORK)
    parsed(reconcile(repo))
    assert_one_backend_job_per_attempt(store, repo / WORK)


def run_to_finished_jobs(repo: Path) -> None:
    """First cycle submits four jobs; returns when they have finished in the backend."""
    assert parsed(reconcile(repo))["submitted"] == 4
    wait_until_backend_idle(repo / WORK)


def storage_file(repo: Path, name: str) -> Path:
    found = sorted((repo / "storage").rglob(name))
    assert len(found) == 1, found
    return found[0]


def test_bad_outputs_fail_with_the_reason_and_follow_the_retry_policy(repo: Path) -> None:
    run_to_finished_jobs(repo)
    store = store_of(repo)
    submitted = sorted(
        (j for j in jobs(store) if j["status"] == "submitted"), key=lambda j: j["_id"]
    )
    missing, truncated, corrupt = submitted[0], submitted[1], submitted[2]

    def names(job: dict[str, object]) -> list[str]:
        stem = f"{job['module']}_r{job['run']}_s{job.get('subrun', 0)}_p{job['pass']}"
        return [n for n in (f"{stem}.root", f"{stem}.ntuple.root")
                if list((repo / "storage").rglob(n))]

    for name in names(missing):
        storage_file(repo, name).unlink()
    first = storage_file(repo, names(truncated)[0])
    first.write_bytes(first.read_bytes()[:-5])
    other = storage_file(repo, names(corrupt)[0])
    data = bytearray(other.read_bytes())
    data[0] ^= 0x01
    other.write_bytes(bytes(data))

    report = parsed(reconcile(repo))
    assert report["completed"] == 1
    assert report["failed"] == 3
    after = {j["_id"]: j for j in jobs(store)}
    gone = after[missing["_id"]]
    assert gone["attempts"][0]["reason"].startswith("output check failed: ")
    assert "missing on storage" in gone["attempts"][0]["reason"]
    assert gone["status"] in ("waiting", "submitted")  # no output at all: retried
    assert gone["retry_decision"] == "the attempt produced no output"
    short = after[truncated["_id"]]
    assert short["status"] == "failed"
    assert f"{names(truncated)[0]}: size " in short["reason"]
    assert short["retry_decision"] == "reason not listed in retry.on"
    wrong = after[corrupt["_id"]]
    assert wrong["status"] == "failed"
    assert f"{names(corrupt)[0]}: adler32 " in wrong["reason"]
    assert store.get(f"data:ratds:{wrong['module']}:r{wrong['run']}:s0:p{wrong['pass']}") is None


def test_a_commit_that_does_not_validate_keeps_the_last_good_one(repo: Path) -> None:
    good = git(repo, "rev-parse", "HEAD").strip()
    assert parsed(reconcile(repo))["submitted"] == 4
    campaign = repo / "campaigns" / "quickstart-demo.yaml"
    campaign.write_text(campaign.read_text().replace("priority: 100", "priority: high"))
    git(repo, "commit", "-qam", "a typo")
    wait_until_backend_idle(repo / WORK)
    result = reconcile(repo)
    assert result.returncode == 1
    report = parsed(result)
    assert report["monitor_only"] is True
    assert report["commit"] == good
    assert report["completed"] == 4  # monitoring went on
    assert report["submitted"] == 0  # nothing new from a bad or a last-good commit
    assert report["errors"][0] == (
        "campaigns/quickstart-demo.yaml:6:1: priority: expected an integer, got 'high'"
    )
    assert report["errors"][-1] == (
        f"working from the last good commit {good[:12]}: monitoring only"
    )


def test_a_failed_stage_out_is_reported_and_retried_when_listed(
    repo: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("storage cannot be created below a file\n")
    site = repo / "sites" / "local.yaml"
    site.write_text(site.read_text().replace(
        f"file://{repo}/storage", f"file://{blocker}/storage"
    ))
    campaign = repo / "campaigns" / "quickstart-demo.yaml"
    campaign.write_text(campaign.read_text().replace('"DUE TO TIME LIMIT"', '"Not a directory"'))
    git(repo, "commit", "-qam", "storage below a file; retry on it")
    run_to_finished_jobs(repo)
    parsed(reconcile(repo))
    store = store_of(repo)
    # back-off 0 in these tests: retried and submitted again in the same cycle
    retried = [j for j in jobs(store) if j["attempts"] and j["attempts"][0]["status"] == "failed"]
    assert len(retried) == 4
    assert all(j["attempt"] == 2 and j["status"] == "submitted" for j in retried)
    reason = retried[0]["attempts"][0]["reason"]
    assert reason.startswith("failed in the batch system (exit code 1); stage-out: ")
    assert "Not a directory" in reason
    assert "; stderr: " in reason and "stage-out failed: " in reason
    assert retried[0]["retry_decision"] == "reason matches retry.on 'Not a directory'"


def test_killed_between_launch_and_pid_file_starts_one_copy_only(repo: Path) -> None:
    crashed = reconcile(repo, env={"MCPROD_TEST_CRASH_AT": "local-after-launch"})
    assert crashed.returncode == -9
    work = repo / WORK
    for _ in range(60):
        report = parsed(reconcile(repo))
        assert report["failed"] == 0, report
        if sorted(j["status"] for j in jobs(store_of(repo))) == ["completed"] * 12:
            break
    else:
        raise AssertionError("not all jobs completed")
    launches = sorted((work / "local-backend" / "jobs").glob("*/launches"))
    assert len(launches) == 12
    assert [len(p.read_text().splitlines()) for p in launches] == [1] * 12
    for job in jobs(store_of(repo)):
        assert [a["status"] for a in job["attempts"]] == ["completed"]
    assert_one_backend_job_per_attempt(store_of(repo), work)
