"""Views: the SQLite store answers every query with exactly the CouchDB server's rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import StoreError
from reconciler.store.design import ensure_design
from reconciler.store.interface import Store, ViewRow
from reconciler.store.open import open_store
from tests.store.corpus import QUERIES, data_docs, job_docs


def _comparable(rows: list[ViewRow]) -> list[tuple[Any, ...]]:
    """Rows without revisions (each store makes its own `_rev` hashes)."""
    out = []
    for row in rows:
        doc = None if row.doc is None else {k: v for k, v in row.doc.items() if k != "_rev"}
        out.append((row.id, row.key, row.value, doc))
    return out


@pytest.fixture
def both_stores(sqlite_url: str, couch_db_url: str, tmp_path: Path) -> tuple[Store, Store]:
    stores = (open_store(sqlite_url, tmp_path), open_store(couch_db_url, tmp_path))
    for store in stores:
        ensure_design(store)
        results = store.bulk_create(job_docs() + data_docs())
        assert all(r.ok for r in results)
        # Later changes must move rows: update some jobs in both stores.
        moved = [store.get(i) for i in ("job:Alpha:r300000:s0:p0", "job:Alpha:r300003:s1:p0")]
        store.bulk_update([{**d, "status": "completed", "site": "pine"} for d in moved if d])
    return stores


def test_every_query_answers_the_same_on_both_stores(both_stores: tuple[Store, Store]) -> None:
    sqlite_store, couch_store = both_stores
    for name, options in QUERIES:
        expected = _comparable(couch_store.view(name, **options))
        assert _comparable(sqlite_store.view(name, **options)) == expected, (name, options)


def test_the_corpus_exercises_the_views(both_stores: tuple[Store, Store]) -> None:
    """Guards the comparison above against vacuous agreement (empty views)."""
    _, couch_store = both_stores
    counts = {name: len(couch_store.view(name, **opts)) for name, opts in QUERIES if not opts}
    assert all(count > 0 for count in counts.values()), counts
    assert couch_store.view("mcprod/jobs_by_status_module") == [ViewRow(None, None, 61)]
    by_status = couch_store.view("mcprod/jobs_by_status_module", group_level=1)
    assert [(r.key, r.value) for r in by_status] == [
        (["cancelled"], 6), (["completed"], 9), (["deleted"], 7), (["failed"], 7),
        (["reserved"], 8), (["running"], 8), (["submitted"], 8), (["waiting"], 8),
    ]


def test_queue_order_is_campaign_then_priority_then_age(
    store_url: str, tmp_path: Path
) -> None:
    store = open_store(store_url, tmp_path)
    ensure_design(store)
    base = {"type": "job", "status": "waiting", "rat_version": "7.0.8", "campaign": "c"}
    store.bulk_create([
        {**base, "_id": "j-low-old", "priority": 1, "created_at": "2026-01-01"},
        {**base, "_id": "j-high-new", "priority": 9, "created_at": "2026-03-01"},
        {**base, "_id": "j-high-old", "priority": 9, "created_at": "2026-02-01"},
        # An earlier release's flag: the campaign's declared state decides, not the job.
        {**base, "_id": "j-old-paused", "priority": 5, "created_at": "2026-01-01",
         "paused": True},
        {**base, "_id": "j-other", "priority": 99, "created_at": "2026-01-01", "campaign": "b"},
        {**base, "_id": "j-running", "priority": 99, "created_at": "2026-01-01",
         "status": "running"},
    ])
    rows = store.view("mcprod/waiting_by_campaign", startkey=["c"], endkey=["c", {}])
    assert [r.id for r in rows] == ["j-high-old", "j-high-new", "j-old-paused", "j-low-old"]
    assert rows[0].key == ["c", -9, "2026-02-01", "j-high-old"]
    assert rows[0].value == "7.0.8"
    assert [r.key[0] for r in store.view("mcprod/waiting_by_campaign")] == ["b", *"cccc"]


def test_a_view_before_db_init_names_the_fix(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url, tmp_path)
    with pytest.raises(StoreError) as caught:
        store.view("mcprod/waiting_by_campaign")
    assert str(caught.value) == (
        f"{store.display_url}: view mcprod/waiting_by_campaign is not installed;"
        " run `mcprod db init`"
    )
    # The failed query left the store usable.
    assert store.create({"_id": "after"}).created
    assert ensure_design(store) == ["_design/mcprod: created"]
    assert store.view("mcprod/waiting_by_campaign") == []


def test_reduce_false_is_needed_for_rows_of_reduce_views(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url, tmp_path)
    ensure_design(store)
    assert store.view("mcprod/jobs_by_status_module") == []
    store.create({"_id": "j", "type": "job", "status": "waiting", "module": "M"})
    assert store.view("mcprod/jobs_by_status_module") == [ViewRow(None, None, 1)]
    assert store.view("mcprod/jobs_by_status_module", reduce=False) == [
        ViewRow("j", ["waiting", "M"], 1)
    ]
    with pytest.raises(ValueError, match="include_docs needs reduce=False"):
        store.view("mcprod/jobs_by_status_module", include_docs=True)
