"""Job documents planted in the store by someone who can write to it (DESIGN.md
invariant 11): each is skipped with one line naming it and the field, nothing of
it reaches a shell or a path, and the real jobs are submitted and monitored."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from reconciler.documents import Doc
from reconciler.job.untrusted import job_document_problem
from tests.site.cycle_support import make_site_repo, parsed, reconcile, store_of
from tests.site.support import fresh_store, job_doc


def planted() -> list[Doc]:
    # In the queue of the campaign the site runs: a site reads only the queues of the
    # campaigns it may run, so documents planted elsewhere are never even read.
    base: dict[str, Any] = {"priority": 1000, "created_at": "2020-01-01T00:00:00.000000Z",
                            "campaign": "quickstart-demo"}
    newline_id = "job:WaterBi214:r1:s0:p9\ntouch pwned"  # run in a job folder, if ever
    return [
        {**job_doc(1, **base), "_id": newline_id},
        {**job_doc(2, **base), "_id": "job:Evil:r2:s0:p1", "module": "../../escape"},
        {**job_doc(3, **base), "macro_path": "/etc/passwd"},
        {**job_doc(4, **base), "macro_path": "mac/../../../../etc/passwd"},
        {**job_doc(5, **base), "attempts": "many"},
        {**job_doc(6, **base), "priority": "high"},
        {**job_doc(7, **base), "not_before": 12345},
        {"_id": "job:WaterBi214:r8:s0:p1", "type": "job", "status": "waiting", **base},
        {**job_doc(9, **base), "template": {"radius": "1; rm -rf ~"}},
        # Held by this site, as if submitted: its backend id would be an option of scancel.
        {**job_doc(10), "status": "submitted", "site": "local", "attempt": 1,
         "backend_name": "job:WaterBi214:r10:s0:p1.a1", "backend_id": "--user=root"},
    ]


EXPECTED = [
    "job document 'job:WaterBi214:r1:s0:p9\\ntouch pwned' skipped: _id: 'job:WaterBi214:r1:s0:p9\\ntouch pwned' is not a job id (job:<module>:r<run>:s<sub>:p<pass>)",  # noqa: E501
    "job document 'job:Evil:r2:s0:p1' skipped: module: '../../escape' is not a module name (letters, digits, _ + -)",  # noqa: E501
    "job document 'job:WaterBi214:r3:s0:p1' skipped: macro_path: '/etc/passwd' is not a relative path inside the RAT release",  # noqa: E501
    "job document 'job:WaterBi214:r4:s0:p1' skipped: macro_path: 'mac/../../../../etc/passwd' leaves the RAT release",  # noqa: E501
    "job document 'job:WaterBi214:r5:s0:p1' skipped: attempts: 'many' is not a list of attempts",
    "job document 'job:WaterBi214:r6:s0:p1' skipped: priority: 'high' is not a whole number from -1000000000 to 1,000,000,000",  # noqa: E501
    "job document 'job:WaterBi214:r7:s0:p1' skipped: not_before: 12345 is not an ISO time",
    "job document 'job:WaterBi214:r8:s0:p1' skipped: module: missing",
    "job document 'job:WaterBi214:r9:s0:p1' skipped: template: radius: '1; rm -rf ~' is not a plain token (letters, digits, _ . : + -)",  # noqa: E501
    "job document 'job:WaterBi214:r10:s0:p1' skipped: backend_id: '--user=root' is not a batch-system job id",  # noqa: E501
]


def test_the_checker_accepts_what_the_planner_writes() -> None:
    assert job_document_problem(job_doc(1)) is None
    sub_run = {**job_doc(1), "_id": "job:WaterBi214:r1:s3:p1", "subrun": 3}
    assert job_document_problem(sub_run) is None
    old = {**job_doc(1), "_id": "job:WaterBi214:r1:p1"}
    assert job_document_problem(old) == (
        "_id: 'job:WaterBi214:r1:p1' is not a job id (job:<module>:r<run>:s<sub>:p<pass>)"
    )


def test_planted_documents_are_skipped_and_the_real_jobs_run(
    store_url: str, tmp_path: Path
) -> None:
    repo = make_site_repo(tmp_path / "repo")
    store = fresh_store(store_url, repo)
    for doc in planted():
        assert store.create(doc).created
    store.close()
    expected = EXPECTED

    first = reconcile(repo, db=store_url)
    assert first.returncode == 1
    report = parsed(first)
    assert sorted(report["errors"]) == sorted(expected)
    assert report["bad_documents"] == len(expected)
    # max_running is 4; the planted "submitted" document is counted (conservatively) as
    # holding a slot, and never acted on: 3 real jobs go.
    assert report["submitted"] == 3

    deadline = time.monotonic() + 90
    while True:
        report = parsed(reconcile(repo, db=store_url))
        store = store_of(repo, store_url)
        real = [d for d in store_jobs(store) if d.get("commit")]
        beat = store.get("site:local")
        store.close()
        if real and all(d["status"] == "completed" for d in real):
            break
        assert time.monotonic() < deadline, [d["status"] for d in real]
        time.sleep(0.3)
    assert len(real) == 12
    assert sorted(report["errors"]) == sorted(expected)  # still skipped, still one line each
    assert beat is not None and beat["bad_documents"] == len(expected)
    assert not list(tmp_path.rglob("pwned"))
    assert not list(tmp_path.rglob("escape")) and not list(tmp_path.rglob("*passwd*"))
    work = repo / ".mcprod" / "sites" / "local"
    scripts = "".join(p.read_text() for p in work.rglob("job.sh"))
    assert "rm -rf" not in scripts and "touch" not in scripts and "user=root" not in scripts
    planted_ids = {doc["_id"] for doc in planted()}
    store = store_of(repo, store_url)
    for doc in store.get_many(sorted(planted_ids)):
        assert (doc is not None and doc.get("attempts") != []) or doc.get("attempt") in (0, 1, None)
        assert doc is not None and doc["status"] in ("waiting", "submitted")
    store.close()
    assert json.dumps(report)  # the report itself stays printable


def store_jobs(store: Any) -> list[Doc]:
    rows = store.view("mcprod/jobs_by_status_module", reduce=False)
    return [d for d in store.get_many([r.id for r in rows if r.id]) if d is not None]
