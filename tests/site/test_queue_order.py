"""The waiting queue, one per campaign, merged (reconciler.site.jobs), against both stores:
the merge gives the one global order, and only the eligible campaigns' queues are read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.documents import job_id
from reconciler.site.decisions import eligible_campaigns, queue_key
from reconciler.site.jobs import waiting_in_queue_order
from reconciler.store.interface import Store, ViewRow
from tests.site.support import campaign, fresh_store, job_doc, site


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Store:
    return fresh_store(store_url, tmp_path)


class CountingStore:
    """A store that records the view ranges queried and the documents read."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.queried: list[tuple[str, Any]] = []
        self.read: list[str] = []

    def view(self, name: str, **options: Any) -> list[ViewRow]:
        self.queried.append((name, options.get("startkey")))
        return self.store.view(name, **options)

    def get_many(self, ids: list[str]) -> list[Any]:
        self.read.extend(ids)
        return self.store.get_many(ids)


def _jobs() -> list[dict[str, Any]]:
    """Three campaigns' waiting jobs with interleaved priorities and ages."""
    docs = []
    for n in range(30):
        label = ("water", "solar", "scint")[n % 3]
        docs.append(job_doc(
            n, _id=job_id(f"M{label}", n, 0, 1), campaign=label, labels=[label],
            priority=(100, 200, 100, 50)[n % 4], created_at=f"2026-01-01T00:00:{59 - n % 7:02d}Z",
        ))
    docs.append(job_doc(99, _id=job_id("Mwater", 99, 0, 1), status="running"))
    return docs


@pytest.mark.parametrize("first_page", [1, 2, 500])
def test_the_merged_queues_are_the_one_global_order(store: Store, first_page: int) -> None:
    docs = _jobs()
    store.bulk_create(docs)
    merged = [d["_id"] for d in waiting_in_queue_order(store, ["water", "solar", "scint"],
                                                       first_page=first_page)]
    waiting = [d for d in docs if d["status"] == "waiting"]
    assert merged == [d["_id"] for d in sorted(waiting, key=queue_key)]
    assert len(merged) == 30


def test_only_the_eligible_campaigns_queues_are_read(store: Store) -> None:
    store.bulk_create(_jobs())
    campaigns = {
        "water": campaign("water"),
        "solar": campaign("solar", state="paused"),
        "scint": campaign("scint", sites=("liverpool",)),
    }
    counting = CountingStore(store)
    eligible = eligible_campaigns(site(), campaigns)
    assert eligible == ["water"]
    got = [d["_id"] for d in waiting_in_queue_order(counting, eligible)]  # type: ignore[arg-type]
    assert got and all(i.startswith("job:Mwater:") for i in got)
    assert {start[0] for _, start in counting.queried} == {"water"}
    assert all(i.startswith("job:Mwater:") for i in counting.read)
