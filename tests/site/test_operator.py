"""`mcprod retry` and `mcprod cancel` through the real CLI on a SQLite store."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.documents import job_id
from reconciler.operator import Selector, apply_plan, matches, parse_runs, plan_action
from reconciler.site.decisions import attempts_run, mark_failed, mark_submitted, reserve
from reconciler.store.cas import bulk_cas
from reconciler.store.interface import Store
from tests.helpers import run_mcprod
from tests.services.couchserver import http_json
from tests.site.cycle_support import run_forked
from tests.site.support import NOW, add_jobs, fresh_store, job_doc


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return fresh_store(f"sqlite:///{tmp_path}/.mcprod/state.db", tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("couch", marks=pytest.mark.couch)])
def either_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store of each kind: the plan reads view rows, which both must give alike."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/.mcprod/state.db"
    else:
        url = f"{request.getfixturevalue('couch_server_url')}/mcprod_ops_{uuid.uuid4().hex}"
        http_json("PUT", url)
    opened = fresh_store(url, tmp_path)
    yield opened
    opened.close()
    if request.param == "couch":
        http_json("DELETE", url)


def fail(store: Store, runs: range, reason: str = "segfault") -> None:
    jobs = add_jobs(store, runs)
    failed = [
        mark_failed(mark_submitted(reserve(j, "here", NOW), "1", NOW), reason, NOW)
        for j in jobs
    ]
    bulk_cas(store, failed)


def test_selector_matching() -> None:
    job = job_doc(100151, status="failed")
    assert matches(job, Selector("water", "Water*", ("failed",), (100150, 100152)))
    assert not matches(job, Selector("solar"))
    assert not matches(job, Selector(module="Scint*"))
    assert not matches(job, Selector(runs=(1, 10)))
    assert parse_runs("5-7") == (5, 7)
    assert parse_runs("5") == (5, 5)
    assert matches({**job, "subrun": 3}, Selector(subruns=(2, 4)))
    assert not matches({**job, "subrun": 5}, Selector(subruns=(2, 4)))
    assert not matches({**job, "subrun": "3"}, Selector(subruns=(2, 4)))  # untrusted field


def test_cancel_by_sub_run_range(store: Store, tmp_path: Path) -> None:
    store.bulk_create([
        job_doc(100151, _id=f"job:WaterBi214:r100151:s{sub}:p1", subrun=sub, index=sub)
        for sub in range(4)
    ])
    result = run_forked(["cancel", "--repo", str(tmp_path), "--label", "water",
                         "--runs", "100151", "--subruns", "2-3", "--format", "json"], {})
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["selector"] == (
        "--label water --status waiting --status reserved --status submitted --status running"
        " --status failed --runs 100151-100151 --subruns 2-3"
    )
    assert answer["changed"] == ["job:WaterBi214:r100151:s2:p1", "job:WaterBi214:r100151:s3:p1"]


def test_retry_puts_failed_jobs_back_with_a_fresh_budget(store: Store, tmp_path: Path) -> None:
    fail(store, range(1, 4))
    result = run_forked(["retry", "--repo", str(tmp_path), "--label", "water", "--runs", "2-3"], {})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "retry: 2 jobs match --label water --status failed --runs 2-3",
        "  failed -> waiting: 2",
        "  job:WaterBi214:r2:s0:p1 (failed)",
        "  job:WaterBi214:r3:s0:p1 (failed)",
    ]
    assert lines[4].startswith("retry: changed 2 jobs (logged in oplog:")
    job = store.get("job:WaterBi214:r2:s0:p1")
    assert job is not None
    assert job["status"] == "waiting"
    assert attempts_run(job) == 0
    assert job["operator_actions"][0]["action"] == "retry"
    untouched = store.get("job:WaterBi214:r1:s0:p1")
    assert untouched is not None and untouched["status"] == "failed"
    log_id = lines[4].split("logged in ")[1].rstrip(")")
    log = store.get(log_id)
    assert log is not None
    assert log["changed"] == ["job:WaterBi214:r2:s0:p1", "job:WaterBi214:r3:s0:p1"]


def test_more_than_100_jobs_need_yes(store: Store, tmp_path: Path) -> None:
    add_jobs(store, range(1, 102))
    dry = run_mcprod(["cancel", "--repo", str(tmp_path), "--label", "water"])
    assert dry.returncode == 1
    assert dry.stderr.strip() == (
        "error: cancel would change 101 jobs (more than 100): run again with --yes to do it"
    )
    assert "  waiting -> cancelled: 101" in dry.stdout
    assert "  ... and 81 more" in dry.stdout
    job = store.get("job:WaterBi214:r1:s0:p1")
    assert job is not None and job["status"] == "waiting"
    done = run_forked(["cancel", "--repo", str(tmp_path), "--label", "water", "--yes",
                       "--format", "json"], {})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["changed"]) == 101
    job = store.get("job:WaterBi214:r1:s0:p1")
    assert job is not None and job["status"] == "cancelled"


def test_cancel_of_a_submitted_job_is_left_for_its_site(store: Store, tmp_path: Path) -> None:
    jobs = add_jobs(store, range(1, 2))
    bulk_cas(store, [mark_submitted(reserve(jobs[0], "here", NOW), "77", NOW)])
    result = run_forked(["cancel", "--repo", str(tmp_path), "--status", "submitted",
                         "--module", "Water*"], {})
    assert result.returncode == 0, result.stderr
    job = store.get("job:WaterBi214:r1:s0:p1")
    assert job is not None
    assert (job["status"], job["attempts"][-1]["status"]) == ("cancelled", "cancel_requested")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["retry", "--module", "X"], "error: retry: choose jobs with --label and/or --status"),
        (["retry", "--status", "running"],
         "error: --status running: retry acts on failed, cancelled jobs only"),
        (["cancel", "--label", "w", "--runs", "9-1"],
         "error: --runs '9-1': the range ends before it starts"),
        (["cancel", "--label", "w", "--runs", "x"],
         "error: --runs 'x': expected a run range A-B, e.g. 100151-100200"),
        (["cancel", "--label", "w", "--runs", "\u0661\u0662"],  # Arabic-Indic digits
         "error: --runs '\u0661\u0662': expected a run range A-B, e.g. 100151-100200"),
        (["retry", "--label", "nowhere"],
         "error: --label nowhere: no campaign of that name and no jobs with it"
         " (declared: water)"),
        (["cancel", "--label", "w", "--subruns", "1-x"],
         "error: --subruns '1-x': expected a sub-run range A-B, e.g. 0-5"),
    ],
)
def test_bad_selections_are_refused(
    store: Store, tmp_path: Path, args: list[str], message: str
) -> None:
    declare_water(tmp_path)
    result = run_forked([*args, "--repo", str(tmp_path)], {})
    assert result.returncode == 1
    assert result.stderr.strip() == message


@pytest.mark.parametrize("flag", ["--runs", "--module", "--label"])
def test_an_empty_selection_value_is_a_usage_error_not_every_job(
    store: Store, tmp_path: Path, flag: str
) -> None:
    fail(store, range(100, 103))
    result = run_forked(["cancel", "--label", "water", flag, "", "--repo", str(tmp_path)], {})
    assert result.returncode == 2
    assert "must not be empty" in result.stderr
    rows = store.view("mcprod/jobs_by_campaign", startkey=["water"], endkey=["water", {}],
                      include_docs=True)
    assert {row.doc["status"] for row in rows if row.doc} == {"failed"}


def declare_water(repo: Path) -> None:
    (repo / "campaigns").mkdir(exist_ok=True)
    (repo / "campaigns" / "water.yaml").write_text("label: water\n")


def test_the_other_spelling_of_cancelled_is_accepted_with_a_hint(
    store: Store, tmp_path: Path
) -> None:
    result = run_forked(
        ["retry", "--repo", str(tmp_path), "--status", "canceled", "--dry-run"], {}
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == (
        "note: --status canceled: mcprod spells it cancelled; using cancelled"
    )
    assert result.stdout.splitlines()[0] == "retry: 0 jobs match --status cancelled"


def test_nothing_matching(store: Store, tmp_path: Path) -> None:
    declare_water(tmp_path)
    result = run_forked(["retry", "--repo", str(tmp_path), "--label", "water"], {})
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "retry: 0 jobs match --label water --status failed",
        "retry: nothing to do",
    ]


class _CountingReads:
    """The store, counting the documents read by id (views are not counted)."""

    def __init__(self, inner: Store) -> None:
        self.inner, self.read = inner, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def get_many(self, doc_ids: list[str]) -> list[object]:
        self.read += len(doc_ids)
        return self.inner.get_many(doc_ids)  # type: ignore[return-value]


def test_a_selection_reads_only_the_jobs_it_selects(store: Store) -> None:
    add_jobs(store, range(1, 41))
    fail(store, range(41, 44))
    counting = _CountingReads(store)
    # By label: the campaign's view rows carry status, module, run and sub-run.
    plan = plan_action(counting, "retry", Selector(label="water"))  # type: ignore[arg-type]
    assert [job["run"] for job in plan.jobs] == [41, 42, 43]
    assert counting.read == 0
    plan = plan_action(counting, "cancel", Selector(label="water", runs=(5, 6)))  # type: ignore[arg-type]
    assert [job["run"] for job in plan.jobs] == [5, 6] and counting.read == 0
    # By status across campaigns: only the jobs of that status are read, for their runs.
    plan = plan_action(counting, "retry", Selector(statuses=("failed",), runs=(42, 43)))  # type: ignore[arg-type]
    assert [job["run"] for job in plan.jobs] == [42, 43] and counting.read == 3


def test_a_job_that_moved_on_after_the_plan_is_left_alone(store: Store) -> None:
    jobs = add_jobs(store, range(1, 4))
    plan = plan_action(store, "cancel", Selector(label="water"))
    assert [job["status"] for job in plan.jobs] == ["waiting"] * 3
    # Meanwhile a site reserves run 2, and run 3 gets an unrelated update.
    reserved = reserve(jobs[1], "here", NOW)
    touched = {**jobs[2], "priority": 7}
    bulk_cas(store, [reserved, touched])
    applied = apply_plan(store, plan, NOW, "tester")
    assert sorted(applied.skipped) == [jobs[1]["_id"]]
    assert sorted(applied.changed) == sorted([jobs[0]["_id"], jobs[2]["_id"]])
    statuses = {doc["_id"]: doc["status"] for doc in store.get_many([j["_id"] for j in jobs])
                if doc}
    assert statuses == {jobs[0]["_id"]: "cancelled", jobs[1]["_id"]: "reserved",
                        jobs[2]["_id"]: "cancelled"}


def test_plan_and_apply_agree_on_both_stores(either_store: Store) -> None:
    """Selection by label, module, runs and status from the view rows, and the apply
    step's re-check, on the embedded store and on the CouchDB-compatible server."""
    jobs = add_jobs(either_store, range(1, 9))
    fail(either_store, range(9, 11))
    plan = plan_action(either_store, "cancel",
                       Selector(label="water", module="Water*", runs=(3, 10)))
    assert [(job["run"], job["status"]) for job in plan.jobs] == [
        (3, "waiting"), (4, "waiting"), (5, "waiting"), (6, "waiting"), (7, "waiting"),
        (8, "waiting"), (9, "failed"), (10, "failed"),
    ]
    bulk_cas(either_store, [reserve(jobs[3], "here", NOW)])  # run 4 is taken meanwhile
    applied = apply_plan(either_store, plan, NOW, "tester")
    assert list(applied.skipped) == [jobs[3]["_id"]]
    assert len(applied.changed) == 7
    after = {d["run"]: d["status"] for d in either_store.get_many(
        [j["_id"] for j in jobs] + [job_id("WaterBi214", r, 0, 1) for r in (9, 10)]) if d}
    assert after == {1: "waiting", 2: "waiting", 3: "cancelled", 4: "reserved",
                     5: "cancelled", 6: "cancelled", 7: "cancelled", 8: "cancelled",
                     9: "cancelled", 10: "cancelled"}
