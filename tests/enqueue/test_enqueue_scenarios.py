"""Declared changes reconciled against both stores: pause, priority, counts, templates, prune."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.documents import campaign_status_id
from reconciler.store.open import open_store
from tests.enqueue.repo import (
    Repo,
    StoreFactory,
    all_jobs,
    campaign_yaml,
    make_repo,
    run_enqueue,
)

BI214 = "{module: WaterBi214, n_ev: %d, ev_per_run: 1000}"
BETA = "{module: WaterPmtBetagammas, n_ev: 2000, ev_per_run: 1000, template: {radius: %d}}"



def _doc(url: str, repo: Repo, doc_id: str) -> dict[str, object]:
    store = open_store(url, repo.root)
    try:
        doc = store.get(doc_id)
        assert doc is not None
        return doc
    finally:
        store.close()


@pytest.fixture
def setup(tmp_path: Path, new_store: StoreFactory) -> tuple[Repo, str]:
    repo = make_repo(tmp_path / "repo", {"c": campaign_yaml("c", [BI214 % 2500])})
    url = new_store()
    assert run_enqueue(repo, url).applied.created == 3
    return repo, url


def test_pause_then_resume(setup: tuple[Repo, str]) -> None:
    repo, url = setup
    before = {j["_id"]: j["_rev"] for j in all_jobs(url, repo.root)}
    repo.write_campaign("c", campaign_yaml("c", [BI214 % 2500], state="paused"))
    paused = run_enqueue(repo, url)
    assert (paused.applied.updated, paused.plan.is_empty) == (0, True)
    # Pausing writes no job document: the campaign's declared state says it.
    assert {j["_id"]: j["_rev"] for j in all_jobs(url, repo.root)} == before
    assert not any("paused" in j for j in all_jobs(url, repo.root))
    status = _doc(url, repo, "campaign:c")
    assert status["state"] == "paused"
    assert status["conditions"] == {
        "Ready": False, "Progressing": False, "Stalled": False, "Suspended": True
    }
    repo.write_campaign("c", campaign_yaml("c", [BI214 % 2500]))
    assert run_enqueue(repo, url).applied.updated == 0
    assert {j["_id"]: j["_rev"] for j in all_jobs(url, repo.root)} == before
    status = _doc(url, repo, "campaign:c")
    assert (status["state"], status["counts"]) == ("active", {"waiting": 3})
    assert status["conditions"]["Suspended"] is False


def test_priority_change_updates_in_place(setup: tuple[Repo, str]) -> None:
    repo, url = setup
    before = {j["_id"]: j["_rev"] for j in all_jobs(url, repo.root)}
    repo.write_campaign("c", campaign_yaml("c", [BI214 % 2500], priority=300))
    result = run_enqueue(repo, url)
    assert (result.applied.created, result.applied.updated) == (0, 3)
    after = all_jobs(url, repo.root)
    assert {j["_id"] for j in after} == set(before)
    assert {j["priority"] for j in after} == {300}
    assert run_enqueue(repo, url).plan.is_empty


def test_count_increase_then_decrease(setup: tuple[Repo, str]) -> None:
    repo, url = setup
    repo.write_campaign("c", campaign_yaml("c", [BI214 % 4500]))
    result = run_enqueue(repo, url)
    assert (result.applied.created, result.applied.updated) == (2, 1)
    jobs = {j["run"]: j["events"] for j in all_jobs(url, repo.root)}
    assert jobs == {0: 1000, 1: 1000, 2: 1000, 3: 1000, 4: 500}

    repo.write_campaign("c", campaign_yaml("c", [BI214 % 1500]))
    kept = run_enqueue(repo, url)
    assert (kept.orphans, kept.applied.cancelled, kept.applied.updated) == (3, 0, 1)
    pruned = run_enqueue(repo, url, prune=True)
    assert pruned.applied.cancelled == 3 and pruned.refusal is None
    status = {j["run"]: (j["status"], j["events"]) for j in all_jobs(url, repo.root)}
    assert status == {0: ("waiting", 1000), 1: ("waiting", 500), 2: ("cancelled", 1000),
                      3: ("cancelled", 1000), 4: ("cancelled", 500)}
    assert run_enqueue(repo, url, prune=True).plan.is_empty


def test_changed_template_orphans_old_entry_cancelled_only_with_prune(
    tmp_path: Path, new_store: StoreFactory
) -> None:
    repo = make_repo(tmp_path / "repo", {"c": campaign_yaml("c", [BI214 % 1000, BETA % 7250])})
    url = new_store()
    run_enqueue(repo, url)
    repo.write_campaign("c", campaign_yaml("c", [BI214 % 1000, BETA % 6000]))
    first = run_enqueue(repo, url)
    assert (first.applied.created, first.orphans, first.applied.cancelled) == (2, 2, 0)
    passes = sorted((j["run"], j["pass"], j["template"]["radius"], j["status"])
                    for j in all_jobs(url, repo.root) if j["module"] == "WaterPmtBetagammas")
    assert passes == [(0, 1, 7250, "waiting"), (0, 2, 6000, "waiting"),
                      (1, 1, 7250, "waiting"), (1, 2, 6000, "waiting")]
    second = run_enqueue(repo, url, prune=True)
    assert second.applied.cancelled == 2
    assert {j["_id"] for j in all_jobs(url, repo.root) if j["status"] == "cancelled"} == {
        "job:WaterPmtBetagammas:r0:s0:p1", "job:WaterPmtBetagammas:r1:s0:p1"
    }


def test_prune_guard_refuses_over_budget(setup: tuple[Repo, str]) -> None:
    repo, url = setup
    repo.write_campaign("c", campaign_yaml("c", [BI214 % 1000]))
    result = run_enqueue(repo, url, prune=True, max_cancel=1)
    assert result.refusal == (
        "prune refused: it would cancel 2 jobs, more than --max-cancel 1; "
        "raise --max-cancel or set the campaign's state: cancelled"
    )
    assert result.applied.cancelled == 0
    assert {j["status"] for j in all_jobs(url, repo.root)} == {"waiting"}
    status = _doc(url, repo, "campaign:c")
    assert status["conditions"]["Stalled"] is True  # type: ignore[index]
    assert status["last_error"] == result.refusal


def test_cancelled_campaign_cancels_waiting_but_never_running_jobs(
    setup: tuple[Repo, str]
) -> None:
    repo, url = setup
    store = open_store(url, repo.root)
    running = store.get("job:WaterBi214:r0:s0:p1")
    assert running is not None
    store.update({**running, "status": "running", "site": "local", "backend_id": "7"})
    store.close()
    repo.write_campaign("c", campaign_yaml("c", [BI214 % 2500], state="cancelled"))
    result = run_enqueue(repo, url, max_cancel=0)
    assert result.applied.cancelled == 2 and result.refusal is None
    assert sorted((j["run"], j["status"]) for j in all_jobs(url, repo.root)) == [
        (0, "running"), (1, "cancelled"), (2, "cancelled")
    ]


def test_unchanged_declaration_is_recognised_without_reading_jobs(
    setup: tuple[Repo, str]
) -> None:
    repo, url = setup
    again = run_enqueue(repo, url)
    assert again.up_to_date and again.desired_jobs == 3 and again.observed_jobs == 3
    # A job written behind the reconciler's back is only seen by a forced (full) run.
    store = open_store(url, repo.root)
    doc = store.get("job:WaterBi214:r2:s0:p1")
    assert doc is not None
    store.update({**doc, "priority": 1})
    store.close()
    assert run_enqueue(repo, url).up_to_date
    forced = run_enqueue(repo, url, force=True)
    assert not forced.up_to_date and forced.applied.updated == 1
    # Any change of the declaration (here --prune) plans in full.
    assert not run_enqueue(repo, url, prune=True).up_to_date


def test_a_changed_campaign_is_replanned_without_reading_the_others(
    setup: tuple[Repo, str]
) -> None:
    repo, url = setup
    repo.write_campaign("d", campaign_yaml("d", [BETA % 6000]))
    assert run_enqueue(repo, url).applied.created == 2
    # Behind the reconciler's back, so that only a re-plan of c would notice and undo it.
    store = open_store(url, repo.root)
    doc = store.get("job:WaterBi214:r2:s0:p1")
    assert doc is not None
    store.update({**doc, "priority": 1})
    store.close()
    repo.write_campaign("d", campaign_yaml("d", [BETA % 6000], priority=7))
    changed = run_enqueue(repo, url)
    assert (changed.unchanged, changed.campaigns, changed.applied.updated) == (1, 2, 2)
    assert (changed.desired_jobs, changed.observed_jobs) == (5, 5)
    assert _doc(url, repo, "job:WaterBi214:r2:s0:p1")["priority"] == 1  # c was not re-planned
    # Pausing changes no job: nothing is planned, the status document records the state.
    repo.write_campaign("d", campaign_yaml("d", [BETA % 6000], priority=7, state="paused"))
    paused = run_enqueue(repo, url)
    assert paused.up_to_date and paused.applied.updated == 0
    assert _doc(url, repo, campaign_status_id("d"))["state"] == "paused"
    assert _doc(url, repo, campaign_status_id("d"))["conditions"]["Suspended"] is True
    assert run_enqueue(repo, url, force=True).applied.updated == 1
