"""The Store contract, run against both stores (SQLite and the CouchDB test server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.errors import Conflict
from reconciler.store.design import ensure_design
from reconciler.store.interface import Store, WriteResult
from reconciler.store.open import open_store


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator[Store]:
    opened = open_store(store_url, tmp_path)
    ensure_design(opened)
    yield opened
    opened.close()


def test_create_if_absent_reports_the_existing_document(store: Store) -> None:
    first = store.create({"_id": "job:M:r1:s0:p0", "type": "job", "status": "waiting"})
    assert first.created
    assert first.doc["_rev"].startswith("1-")
    again = store.create({"_id": "job:M:r1:s0:p0", "type": "job", "status": "running"})
    assert not again.created
    assert again.doc == first.doc
    assert store.get("job:M:r1:s0:p0") == first.doc


def test_get_of_a_missing_document_is_none(store: Store) -> None:
    assert store.get("job:nothing:r1:s0:p0") is None
    store.create({"_id": "a", "x": 1})
    assert [d and d["x"] for d in store.get_many(["a", "b", "a"])] == [1, None, 1]


def test_update_is_compare_and_set(store: Store) -> None:
    created = store.create({"_id": "d", "n": 1}).doc
    updated = store.update({**created, "n": 2})
    assert updated["_rev"].startswith("2-")
    assert store.get("d") == updated
    with pytest.raises(Conflict, match=r"^d: document changed since it was read \(conflict\)$"):
        store.update({**created, "n": 3})
    assert store.get("d") == updated


def test_bulk_create_reports_each_document(store: Store) -> None:
    store.create({"_id": "b", "v": 0})
    results = store.bulk_create([{"_id": "a", "v": 1}, {"_id": "b", "v": 1}, {"_id": "c", "v": 1}])
    assert [(r.id, r.ok, r.error) for r in results] == [
        ("a", True, None),
        ("b", False, "conflict"),
        ("c", True, None),
    ]
    assert all(r.rev and r.rev.startswith("1-") for r in results if r.ok)
    assert store.get("b") is not None and store.get("b")["v"] == 0  # type: ignore[index]


def test_bulk_update_conflicts_per_document(store: Store) -> None:
    docs = [store.create({"_id": f"d{i}", "v": 0}).doc for i in range(3)]
    store.update({**docs[1], "v": 5})  # makes docs[1] stale
    results = store.bulk_update([{**d, "v": 1} for d in docs])
    assert [(r.id, r.ok, r.error) for r in results] == [
        ("d0", True, None),
        ("d1", False, "conflict"),
        ("d2", True, None),
    ]
    assert isinstance(results[0], WriteResult)
    assert [store.get(f"d{i}")["v"] for i in range(3)] == [1, 5, 1]  # type: ignore[index]


def test_changes_page_through_every_document_once(store: Store) -> None:
    store.bulk_create([{"_id": f"c{i:02d}", "n": i} for i in range(10)])
    seen: list[str] = []
    since = None
    pages = 0
    while True:
        page = store.changes(since=since, limit=3)
        if not page.results:
            break
        assert len(page.results) <= 3
        seen.extend(change.id for change in page.results)
        since = page.last_seq
        pages += 1
    # The design document is a document too, as in CouchDB.
    assert sorted(seen) == ["_design/mcprod", *(f"c{i:02d}" for i in range(10))]
    assert pages == 4
    # An update shows up after the last sequence seen, with the new document.
    doc = store.get("c04")
    assert doc is not None
    store.update({**doc, "n": 40})
    after = store.changes(since=since, include_docs=True)
    assert [(c.id, c.doc and c.doc["n"]) for c in after.results] == [("c04", 40)]
    assert store.changes(since=after.last_seq).results == ()


def test_documents_round_trip_unchanged(store: Store) -> None:
    doc = {
        "_id": "job:Ünïcode:r1:s0:p0",
        "type": "job",
        "nested": {"list": [1, 2.5, None, True, "ß"], "empty": {}},
    }
    created = store.create(doc).doc
    fetched = store.get(doc["_id"])
    assert fetched == created
    assert {k: v for k, v in created.items() if k != "_rev"} == doc


def test_views_follow_updates(store: Store) -> None:
    job = store.create({"_id": "j", "type": "job", "status": "waiting", "module": "M",
                        "campaign": "c", "priority": 1, "created_at": "t",
                        "labels": ["a", "b"]}).doc
    assert [r.key for r in store.view("mcprod/jobs_by_status_module", group_level=1)] == [
        ["waiting"]
    ]
    assert [r.id for r in store.view("mcprod/waiting_by_campaign")] == ["j"]
    store.update({**job, "status": "running", "labels": ["b"]})
    assert [(r.key, r.value) for r in store.view("mcprod/jobs_by_status_module",
                                                 group_level=1)] == [(["running"], 1)]
    assert store.view("mcprod/waiting_by_campaign") == []
    assert [r.key[0] for r in store.view("mcprod/exactly_by_label")] == ["b"]


def test_one_id_twice_in_a_batch_is_written_once(store: Store) -> None:
    results = store.bulk_create([{"_id": "twin", "n": 1}, {"_id": "twin", "n": 2}])
    assert sorted((r.ok, r.error) for r in results) == [(False, "conflict"), (True, None)]
    twin = store.get("twin")
    assert twin is not None and twin["_rev"].startswith("1-")
    assert [r.ok for r in results] == [True, False]
    assert twin["n"] == 1


def test_a_query_that_accepts_stale_rows_answers_like_any_other(store: Store) -> None:
    store.bulk_create([{"_id": f"job:M:r{n}:s0:p0", "type": "job", "status": "waiting",
                        "module": "M"} for n in range(3)])
    fresh = store.view("mcprod/jobs_by_status_module", group_level=1)
    # A first query built the index, so the stale answer is complete here too.
    assert store.view("mcprod/jobs_by_status_module", group_level=1, stale_ok=True) == fresh
    assert [(r.key, r.value) for r in fresh] == [(["waiting"], 3)]
