"""Extra campaign labels: stamped on new jobs, and added to or removed from the
existing job and data documents on the next reconcile (both stores)."""

from __future__ import annotations

from pathlib import Path

from reconciler.store.open import open_store
from tests.enqueue.repo import (
    Repo,
    StoreFactory,
    all_jobs,
    campaign_yaml,
    make_repo,
    run_enqueue,
)

BI214 = "{module: WaterBi214, n_ev: 2500, ev_per_run: 1000}"


def _with_labels(labels: list[str]) -> str:
    text = campaign_yaml("c", [BI214])
    return text.replace("label: c\n", f"label: c\nlabels: [{', '.join(labels)}]\n", 1)



def _data_for(url: str, repo: Repo, job: dict[str, object]) -> None:
    """A data document as the monitor writes it for a completed job."""
    store = open_store(url, repo.root)
    try:
        store.create({
            "_id": f"data:ratds:{job['module']}:r{job['run']}:s{job['subrun']}:p{job['pass']}",
            "type": "data", "data_type": "ratds", "module": job["module"],
            "run": job["run"], "subrun": job["subrun"], "pass": job["pass"],
            "campaign": job["campaign"], "labels": list(job["labels"]),  # type: ignore[call-overload]
            "job_id": job["_id"], "files": [],
        })
    finally:
        store.close()


def _by_label(url: str, repo: Repo, label: str) -> list[str]:
    store = open_store(url, repo.root)
    try:
        rows = store.view("mcprod/data_by_label", startkey=[label], endkey=[label, {}],
                          reduce=False)
        return sorted(str(row.id) for row in rows)
    finally:
        store.close()


def test_labels_follow_the_declaration(tmp_path: Path, new_store: StoreFactory) -> None:
    repo = make_repo(tmp_path / "repo", {"c": _with_labels(["water-paper"])})
    url = new_store()
    assert run_enqueue(repo, url).applied.created == 3
    jobs = all_jobs(url, repo.root)
    assert {tuple(job["labels"]) for job in jobs} == {("c", "water-paper")}
    _data_for(url, repo, jobs[0])

    repo.write_campaign("c", _with_labels(["water-paper", "bi-study"]))
    run_enqueue(repo, url)
    assert {tuple(job["labels"]) for job in all_jobs(url, repo.root)} == {
        ("c", "water-paper", "bi-study")
    }
    data_id = f"data:ratds:WaterBi214:r{jobs[0]['run']}:s0:p{jobs[0]['pass']}"
    assert _by_label(url, repo, "bi-study") == [data_id]

    repo.write_campaign("c", campaign_yaml("c", [BI214]))
    run_enqueue(repo, url)
    assert {tuple(job["labels"]) for job in all_jobs(url, repo.root)} == {("c",)}
    assert _by_label(url, repo, "water-paper") == []
    assert _by_label(url, repo, "c") == [data_id]


def test_a_priority_change_leaves_the_labels_alone(
    tmp_path: Path, new_store: StoreFactory
) -> None:
    repo = make_repo(tmp_path / "repo", {"c": _with_labels(["water-paper"])})
    url = new_store()
    run_enqueue(repo, url)
    repo.write_campaign("c", _with_labels(["water-paper"]).replace("priority: 100", "priority: 7"))
    result = run_enqueue(repo, url)
    assert result.applied.updated == 3  # the priority change; the labels stay as they were
    assert {tuple(job["labels"]) for job in all_jobs(url, repo.root)} == {("c", "water-paper")}
