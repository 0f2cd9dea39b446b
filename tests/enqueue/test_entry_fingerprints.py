"""Per-entry fingerprints: a changed declaration re-plans only the entries that changed.

A counting store records what the enqueue reads and writes; a plan of everything,
made just before each enqueue, says what the enqueue must decide."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.enqueue.plan import Plan
from reconciler.enqueue.step import EnqueueResult, compute_plan, enqueue, load_repo
from reconciler.store.interface import ViewRow
from reconciler.store.open import open_store
from tests.enqueue.repo import (
    VERSION,
    Repo,
    StoreFactory,
    all_jobs,
    campaign_yaml,
    make_repo,
    run_enqueue,
)

BI214 = "{module: WaterBi214, n_ev: %d, ev_per_run: 1000}"
BETA = ("{module: WaterPmtBetagammas, n_ev: 2000, ev_per_run: 1000, template: {radius: %d}"
        "%s}")
SOLAR = "{module: ScintSolar_Nue, t_run: 1, t_format: day, n_runs: 3}"


class CountingStore:
    """Records the ranges of job views queried, the job ids read and written."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.ranges: list[tuple[str, Any]] = []
        self.read: set[str] = set()
        self.written: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def view(self, name: str, **options: Any) -> list[ViewRow]:
        rows: list[ViewRow] = self.store.view(name, **options)
        if name == "mcprod/jobs_by_campaign":
            self.ranges.append((name, options.get("startkey")))
            self.read.update(str(row.id) for row in rows)
        return rows

    def get_many(self, ids: list[str]) -> list[Any]:
        self.read.update(i for i in ids if i.startswith("job:"))
        return self.store.get_many(ids)

    def _wrote(self, docs: list[dict[str, Any]]) -> None:
        self.written.update(d["_id"] for d in docs if str(d["_id"]).startswith("job:"))

    def bulk_create(self, docs: list[dict[str, Any]]) -> Any:
        self._wrote(docs)
        return self.store.bulk_create(docs)

    def bulk_update(self, docs: list[dict[str, Any]]) -> Any:
        self._wrote(docs)
        return self.store.bulk_update(docs)

    def create(self, doc: dict[str, Any]) -> Any:
        self._wrote([doc])
        return self.store.create(doc)

    def update(self, doc: dict[str, Any]) -> Any:
        self._wrote([doc])
        return self.store.update(doc)


def counted_enqueue(repo: Repo, url: str, **options: Any) -> tuple[EnqueueResult, CountingStore]:
    repo.commit()
    declared = load_repo(repo.root, {VERSION: repo.release})
    store = CountingStore(open_store(url, repo.root))
    try:
        return enqueue(store, declared, rat_roots={VERSION: repo.release}, **options), store  # type: ignore[arg-type]
    finally:
        store.close()


def _beta(radius: int = 7250, priority: int | None = None) -> str:
    return BETA % (radius, "" if priority is None else f", priority: {priority}")


@pytest.fixture
def setup(tmp_path: Path, new_store: StoreFactory) -> tuple[Repo, str]:
    repo = make_repo(tmp_path / "repo", {
        "c": campaign_yaml("c", [BI214 % 2500, _beta(), SOLAR]),
        "d": campaign_yaml("d", [BI214 % 1000]),
    })
    url = new_store()
    assert run_enqueue(repo, url).applied.created == 3 + 2 + 3 + 1
    return repo, url


def _revisions(repo: Repo, url: str) -> dict[str, str]:
    return {j["_id"]: j["_rev"] for j in all_jobs(url, repo.root)}


def test_pausing_reads_and_writes_no_job(setup: tuple[Repo, str]) -> None:
    repo, url = setup
    before = _revisions(repo, url)
    store = open_store(url, repo.root)
    seq = store.changes().last_seq
    store.close()
    repo.write_campaign("c", campaign_yaml("c", [BI214 % 2500, _beta(), SOLAR], state="paused"))
    result, counted = counted_enqueue(repo, url)
    assert (result.up_to_date, result.plan.is_empty, result.observed_jobs) == (True, True, 9)
    assert (counted.ranges, counted.read, counted.written) == ([], set(), set())
    store = open_store(url, repo.root)
    assert [c.id for c in store.changes(since=seq).results] == ["campaign:c"]
    status = store.get("campaign:c")
    store.close()
    assert status is not None and status["state"] == "paused"
    assert status["counts"] == {"waiting": 8}
    assert _revisions(repo, url) == before
    # Resuming reads and writes nothing either.
    repo.write_campaign("c", campaign_yaml("c", [BI214 % 2500, _beta(), SOLAR]))
    result, counted = counted_enqueue(repo, url)
    assert (counted.ranges, counted.read, counted.written) == ([], set(), set())
    assert _revisions(repo, url) == before


def test_changing_one_entry_priority_reads_and_writes_only_that_entry(
    setup: tuple[Repo, str]
) -> None:
    repo, url = setup
    before = {j["_id"]: j for j in all_jobs(url, repo.root)}
    beta = {i for i, j in before.items() if j["module"] == "WaterPmtBetagammas"}
    (beta_key,) = {before[i]["entry_key"] for i in beta}
    repo.write_campaign("c", campaign_yaml("c", [BI214 % 2500, _beta(priority=300), SOLAR]))
    result, counted = counted_enqueue(repo, url)
    assert (result.applied.updated, result.applied.created, result.observed_jobs) == (2, 0, 9)
    assert counted.ranges == [("mcprod/jobs_by_campaign", ["c", beta_key])]
    assert (counted.read, counted.written) == (beta, beta)
    after = {j["_id"]: j for j in all_jobs(url, repo.root)}
    assert {i for i in after if after[i]["_rev"] != before[i]["_rev"]} == beta
    assert {after[i]["priority"] for i in beta} == {300}
    # The next enqueue knows the entry is applied: nothing read.
    result, counted = counted_enqueue(repo, url)
    assert result.up_to_date and counted.read == set()


def _same(full: Plan, done: Plan) -> None:
    assert [(c.campaign, c.job.slot, c.job.events) for c in done.creates] == [
        (c.campaign, c.job.slot, c.job.events) for c in full.creates
    ]
    assert done.updates == full.updates
    assert done.cancels == full.cancels
    assert done.orphans == full.orphans
    assert (done.withheld, done.refusal) == (full.withheld, full.refusal)


STEPS: list[tuple[str, list[str], dict[str, Any]]] = [
    ("active", [BI214 % 2500, _beta(priority=300), SOLAR], {}),
    ("active", [BI214 % 4500, _beta(priority=300), SOLAR], {}),  # remainder + new jobs
    ("active", [BI214 % 4500, _beta(6000), SOLAR], {}),  # new entry: the old one orphaned
    ("active", [BI214 % 4500, _beta(6000), SOLAR.replace("3}", "3, priority: 7}")], {}),
    ("active", [BI214 % 1500, _beta(6000), SOLAR], {"prune": True, "max_cancel": 1}),
    ("active", [BI214 % 1500, _beta(6000)], {"prune": True}),
    ("paused", [BI214 % 1500, _beta(6000)], {"prune": True}),
    ("active", [BI214 % 1500, _beta(6000), SOLAR], {}),  # cancelled jobs keep their slots
    ("cancelled", [BI214 % 1500, _beta(6000), SOLAR], {}),
]


def test_each_enqueue_decides_what_a_plan_of_everything_decides(
    setup: tuple[Repo, str]
) -> None:
    repo, url = setup
    read_per_step = []
    for state, modules, options in STEPS:
        repo.write_campaign("c", campaign_yaml("c", modules, state=state))
        repo.commit()
        declared = load_repo(repo.root, {VERSION: repo.release})
        store = open_store(url, repo.root)
        full = compute_plan(store, declared, rat_roots={VERSION: repo.release},
                            read_only=True, **options)
        store.close()
        result, counted = counted_enqueue(repo, url, **options)
        _same(full.plan, result.plan)
        assert result.observed_jobs == full.observed_jobs
        assert result.desired_jobs == sum(len(c.jobs) for c in full.desired)
        read_per_step.append(len(counted.read))
    # Jobs read: the changed entry (2 of beta; 3 of Bi214); the new beta entry has none
    # yet, and the old one's 2 live orphans are read at every re-plan of c, as a
    # whole-campaign read reported them; --prune on (and after the refusal) and off
    # again changes every fingerprint, d's (1 job) too: all 12 + 1 read; pausing reads
    # nothing; cancelling changes every entry of c: c is read whole (12).
    assert read_per_step == [2, 3, 2, 2 + 3, 13, 13, 0, 13, 12]
