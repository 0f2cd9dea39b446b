"""The cycle's steps against real stores (SQLite and the CouchDB test server) and the
real local backend: reserve-then-submit, recovery, monitoring, retry, stale sites."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reconciler.backends.base import Backend, SubmitSpec
from reconciler.errors import BackendError
from reconciler.model import Retry
from reconciler.site.decisions import mark_submitted, reserve, select_for_submission
from reconciler.site.jobs import site_jobs, waiting_in_queue_order
from reconciler.site.monitor import monitor_jobs
from reconciler.site.recovery import recover_own_reservations, release_stale_sites
from reconciler.site.retry import retry_failed
from reconciler.site.submit import submit_jobs
from reconciler.store.cas import bulk_cas
from reconciler.store.interface import Store
from tests.backends.support import is_finished, wait_for_state, write_script
from tests.site.support import (
    NOW,
    add_jobs,
    campaign,
    expect_in,
    fresh_store,
    local_backend,
    site,
    verify_file_url,
    write_outputs,
)


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Store:
    return fresh_store(store_url, tmp_path)


@pytest.fixture
def backend(tmp_path: Path) -> Backend:
    return local_backend(tmp_path / "work")


def preparer(folder: Path, body: str = "exit 0") -> Callable[[dict[str, Any]], SubmitSpec]:
    def prepare(job: dict[str, Any]) -> SubmitSpec:
        spec = write_script(folder, str(job["backend_name"]).replace(":", "_"), body)
        return replace(spec, name=str(job["backend_name"]))

    return prepare


def clock() -> Any:
    return NOW


def submit_waiting(store: Store, backend: Backend, folder: Path, body: str = "exit 0") -> Any:
    chosen = select_for_submission(
        list(waiting_in_queue_order(store, ["water"])), site(), {"water": campaign()}, 0, NOW
    ).chosen
    return submit_jobs(store, backend, chosen, site="here", prepare=preparer(folder, body),
                       clock=clock)


def test_submit_fills_the_site_and_records_backend_ids(
    store: Store, backend: Backend, tmp_path: Path
) -> None:
    add_jobs(store, range(1, 6))
    result = submit_waiting(store, backend, tmp_path / "scripts")
    assert (result.reserved, result.submitted, result.lost_races) == (3, 3, 0)
    submitted = site_jobs(store, "here", ["submitted"])
    assert sorted(j["run"] for j in submitted) == [1, 2, 3]
    for job in submitted:
        assert job["backend_name"] == f"{job['_id']}.a1"
        assert backend.find_by_name(job["backend_name"]) == job["backend_id"]
        assert job["attempts"][0]["status"] == "submitted"
    assert sorted(j["run"] for j in waiting_in_queue_order(store, ["water"])) == [4, 5]


def test_a_reconciler_with_stale_documents_loses_every_race(
    store: Store, backend: Backend, tmp_path: Path
) -> None:
    jobs = add_jobs(store, range(1, 4))
    first = submit_jobs(store, backend, jobs, site="here", prepare=preparer(tmp_path / "a"),
                        clock=clock)
    second = submit_jobs(store, backend, jobs, site="here", prepare=preparer(tmp_path / "b"),
                         clock=clock)
    assert (first.submitted, second.reserved, second.lost_races) == (3, 0, 3)
    assert not (tmp_path / "b").exists()  # the loser never even wrote a script


def test_a_submission_error_releases_the_reservation(store: Store, tmp_path: Path) -> None:
    add_jobs(store, range(1, 3))
    backend = local_backend(tmp_path / "work")

    def no_script(job: dict[str, Any]) -> SubmitSpec:
        spec = write_script(tmp_path / "s", str(job["run"]), "exit 0")
        spec.script.chmod(0o644)  # the local backend refuses it
        return spec

    waiting = list(waiting_in_queue_order(store, ["water"]))
    result = submit_jobs(store, backend, waiting, site="here", prepare=no_script, clock=clock)
    assert (result.submitted, result.released) == (0, 2)
    job = store.get("job:WaterBi214:r1:s0:p1")
    assert job is not None and job["status"] == "waiting"
    assert job["reason"].startswith("submission failed: ")
    assert job["reason"].endswith("job script missing or not executable")
    assert job["attempts"][-1]["status"] == "released"


def test_recovery_adopts_what_reached_the_backend_and_releases_the_rest(
    store: Store, backend: Backend, tmp_path: Path
) -> None:
    jobs = add_jobs(store, range(1, 4))
    reserved, _ = bulk_cas(store, [reserve(job, "here", NOW) for job in jobs])
    # The crash came after the first job reached the backend, before its id was recorded.
    backend_id = backend.submit(preparer(tmp_path / "s")(reserved[0]))
    result = recover_own_reservations(store, backend, "here", NOW)
    assert (result.adopted, result.released) == (1, 2)
    adopted = store.get(reserved[0]["_id"])
    assert adopted is not None
    assert (adopted["status"], adopted["backend_id"]) == ("submitted", backend_id)
    released = store.get(reserved[1]["_id"])
    assert released is not None and released["status"] == "waiting"
    assert released["reason"] == (
        "reservation job:WaterBi214:r2:s0:p1.a1 of site here was never submitted"
        " (released at start-up)"
    )
    again = reserve(released, "here", NOW)
    assert again["backend_name"] == "job:WaterBi214:r2:s0:p1.a2"


def finished_jobs(store: Store, backend: Backend, tmp_path: Path, body: str = "exit 0") -> list[
        dict[str, Any]]:
    add_jobs(store, range(1, 4))
    submit_waiting(store, backend, tmp_path / "scripts", body)
    jobs = site_jobs(store, "here", ["submitted"])
    for job in jobs:
        wait_for_state(backend, job["backend_id"], is_finished)
    return jobs


def card_for(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    return lambda job: tmp_path / "cards" / f"{job['backend_name']}.json"


def test_completed_only_when_every_output_is_verified(
    store: Store, backend: Backend, tmp_path: Path
) -> None:
    jobs = finished_jobs(store, backend, tmp_path)
    storage = tmp_path / "storage"
    cards = card_for(tmp_path)
    for job in jobs:
        write_outputs(storage, cards(job), job)
    stem = "WaterBi214_r2_s0_p1"
    (storage / f"{stem}.root").unlink()  # job 2: missing
    (storage / "WaterBi214_r3_s0_p1.ntuple.root").write_bytes(b"event")  # job 3: truncated
    result = monitor_jobs(store, backend, jobs, card_path=cards, verify=verify_file_url,
                          expected=expect_in(tmp_path / "storage"), now=NOW)
    assert (result.completed, result.failed) == (1, 2)
    done = store.get("job:WaterBi214:r1:s0:p1")
    assert done is not None and done["status"] == "completed"
    data = store.get("data:ntuple:WaterBi214:r1:s0:p1")
    assert data is not None
    assert data["files"] == [{
        "name": "WaterBi214_r1_s0_p1.ntuple.root",
        "url": (storage / "WaterBi214_r1_s0_p1.ntuple.root").as_uri(),
        "size": 6,
        "adler32": "08eb0296",
    }]
    assert (data["job_id"], data["labels"], data["data_type"]) == (done["_id"], ["water"], "ntuple")
    assert store.get("data:ratds:WaterBi214:r1:s0:p1") is not None
    missing = store.get("job:WaterBi214:r2:s0:p1")
    assert missing is not None and missing["status"] == "failed"
    assert missing["reason"] == (
        f"output check failed: {stem}.root: missing on storage"
    )
    truncated = store.get("job:WaterBi214:r3:s0:p1")
    assert truncated is not None
    assert truncated["reason"] == (
        "output check failed: WaterBi214_r3_s0_p1.ntuple.root: size 5 on storage, 6 recorded"
    )
    assert store.get("data:ratds:WaterBi214:r2:s0:p1") is None


def test_wrong_checksum_and_missing_card(store: Store, backend: Backend, tmp_path: Path) -> None:
    jobs = finished_jobs(store, backend, tmp_path)
    storage = tmp_path / "storage"
    cards = card_for(tmp_path)
    write_outputs(storage, cards(jobs[0]), jobs[0])
    (storage / "WaterBi214_r1_s0_p1.root").write_bytes(b"EVENTS")
    write_outputs(storage, cards(jobs[1]), jobs[1])
    cards(jobs[1]).write_text("{not json")
    monitor_jobs(store, backend, jobs, card_path=cards, verify=verify_file_url,
                          expected=expect_in(tmp_path / "storage"), now=NOW)
    reasons = {j["run"]: j["reason"] for j in site_jobs(store, "here", ["failed"])}
    assert reasons[1] == (
        "output check failed: WaterBi214_r1_s0_p1.root: adler32 064b01d6 on storage,"
        " 08eb0296 recorded"
    )
    assert reasons[2].startswith(f"unreadable return card {cards(jobs[1])}: ")
    assert reasons[3] == f"no return card at {cards(jobs[2])}"


def test_a_failed_job_is_retried_per_policy(store: Store, backend: Backend, tmp_path: Path) -> None:
    jobs = finished_jobs(store, backend, tmp_path, body="exit 3")
    monitor_jobs(store, backend, jobs, card_path=card_for(tmp_path), verify=verify_file_url,
                 expected=expect_in(tmp_path / "storage"), now=NOW)
    failed = site_jobs(store, "here", ["failed"])
    assert len(failed) == 3
    assert failed[0]["reason"].startswith("failed in the batch system (exit code 3)")
    result = retry_failed(store, "here", {"water": campaign()}, NOW, 60)
    assert result.retried == 3  # no output was produced
    job = store.get("job:WaterBi214:r1:s0:p1")
    assert job is not None
    assert (job["status"], job["not_before"]) == ("waiting", "2026-01-01T12:01:00.000000Z")
    assert job["retry_decision"] == "the attempt produced no output"


def test_not_retried_is_decided_once(store: Store, backend: Backend, tmp_path: Path) -> None:
    jobs = finished_jobs(store, backend, tmp_path, body="exit 3")
    monitor_jobs(store, backend, jobs, card_path=card_for(tmp_path), verify=verify_file_url,
                 expected=expect_in(tmp_path / "storage"), now=NOW)
    strict = {"water": campaign(retry=Retry(1, ()))}
    first = retry_failed(store, "here", strict, NOW, 60)
    assert (first.retried, first.gave_up) == (0, 3)
    assert first.given_up[0] == (
        "job:WaterBi214:r1:s0:p1 not retried (gave up after 1 of 1 attempts); last reason: failed"
        " in the batch system (exit code 3)"
    )
    again = retry_failed(store, "here", strict, NOW, 60)
    assert (again.retried, again.gave_up) == (0, 0)


class Unreachable:
    kind = "slurm"

    def find_by_names(self, names: Any) -> dict[str, str]:
        raise BackendError("squeue --json: command not found (squeue is not on PATH)")


def test_stale_site_reservations(store: Store, backend: Backend, tmp_path: Path) -> None:
    jobs = add_jobs(store, range(1, 3))
    held, _ = bulk_cas(store, [reserve(job, "elsewhere", NOW) for job in jobs])
    kept = release_stale_sites(store, ["elsewhere"], lambda _s: backend, NOW, 7200)
    # the local backend here does not know the names -> released
    assert kept.stale_released == 2
    job = store.get(held[0]["_id"])
    assert job is not None and job["status"] == "waiting"
    assert job["reason"] == (
        "released from stale site elsewhere (no heartbeat): "
        "job:WaterBi214:r1:s0:p1.a1 is not in its backend"
    )


def test_stale_site_whose_backend_cannot_be_asked(store: Store) -> None:
    jobs = add_jobs(store, range(1, 2))
    bulk_cas(store, [mark_submitted(reserve(jobs[0], "elsewhere", NOW), "9", NOW)])
    store.create({"_id": "site:elsewhere", "type": "site",
                  "heartbeat_at": "2026-01-01T09:00:00.000000Z"})
    result = release_stale_sites(store, ["elsewhere"], lambda _s: Unreachable(),  # type: ignore[arg-type,return-value]
                                 NOW, 7200)
    assert result.stale_released == 1
    job = store.get("job:WaterBi214:r1:s0:p1")
    assert job is not None
    assert job["reason"] == (
        "released from stale site elsewhere (last heartbeat 2026-01-01T09:00:00.000000Z): its"
        " backend cannot be asked: squeue --json: command not found (squeue is not on PATH)"
    )


def test_a_fresh_heartbeat_or_a_known_name_keeps_the_job(
    store: Store, backend: Backend, tmp_path: Path
) -> None:
    jobs = add_jobs(store, range(1, 3))
    held, _ = bulk_cas(store, [reserve(job, "elsewhere", NOW) for job in jobs])
    store.create({"_id": "site:elsewhere", "type": "site",
                  "heartbeat_at": "2026-01-01T11:00:00.000000Z"})
    assert release_stale_sites(store, ["elsewhere"], lambda _s: backend, NOW, 7200
                               ).stale_released == 0
    backend.submit(preparer(tmp_path / "s")(held[0]))
    later = NOW.replace(hour=20)
    result = release_stale_sites(store, ["elsewhere"], lambda _s: backend, later, 7200)
    assert (result.stale_released, result.stale_kept) == (1, 1)


def test_a_storage_outage_leaves_finished_jobs_for_the_next_cycle(
    store: Store, backend: Backend, tmp_path: Path
) -> None:
    jobs = finished_jobs(store, backend, tmp_path)
    storage = tmp_path / "storage"
    cards = card_for(tmp_path)
    for job in jobs:
        write_outputs(storage, cards(job), job)

    def storage_down(url: str, size: int, adler32: str) -> str | None:
        return "cannot check: gfal-stat: no answer within 300 s"

    result = monitor_jobs(store, backend, jobs, card_path=cards, verify=storage_down,
                          expected=expect_in(storage), now=NOW)
    assert (result.completed, result.failed) == (0, 0)
    assert len(result.errors) == len(jobs)
    assert "left for the next cycle" in result.errors[0]
    assert [j["status"] for j in map(store.get, (j["_id"] for j in jobs))] == (
        [jobs[0]["status"]] * len(jobs)
    )
    result = monitor_jobs(store, backend, jobs, card_path=cards, verify=verify_file_url,
                          expected=expect_in(tmp_path / "storage"), now=NOW)
    assert result.completed == len(jobs)
