"""The SQLite store's views are written with the documents: a query right after a write
sees it, from any connection, and no row of an older revision survives."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from reconciler.store.collate import sort_text
from reconciler.store.design import ensure_design
from reconciler.store.sqlite import SqliteStore
from reconciler.store.viewcols import columns_of, counted_keys, plain_columns_of
from reconciler.store.viewrows import generic_rows_of, view_rows_of
from reconciler.store.views import VIEWS, python_map
from tests.store.corpus import data_docs, job_docs

COUNTS = "mcprod/jobs_by_status_module"


def _job(number: int, status: str) -> dict[str, object]:
    return {"_id": f"job:M:r{number}:s0:p0", "type": "job", "module": "M", "status": status,
            "site": "pine", "run": number, "pass": 0}


def test_a_view_query_after_a_write_sees_the_write(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    writer = SqliteStore(path, create=True)
    reader = SqliteStore(path)  # another connection, as another process would have
    ensure_design(writer)
    assert all(r.ok for r in writer.bulk_create([_job(n, "waiting") for n in range(5)]))
    assert [(r.key, r.value) for r in reader.view(COUNTS, group_level=1)] == [(["waiting"], 5)]

    moved = writer.get("job:M:r3:s0:p0")
    assert moved is not None
    writer.update({**moved, "status": "running"})
    assert [(r.key, r.value) for r in reader.view(COUNTS, group_level=2)] == [
        (["running", "M"], 1), (["waiting", "M"], 4),
    ]
    site_rows = reader.view("mcprod/jobs_by_site_status", key=["pine", "running"], reduce=False)
    assert [r.id for r in site_rows] == ["job:M:r3:s0:p0"]

    writer.bulk_update([{**d, "status": "completed"} for d in writer.get_many(
        [f"job:M:r{n}:s0:p0" for n in range(5)]) if d])
    assert [(r.key, r.value) for r in reader.view(COUNTS, group_level=1)] == [(["completed"], 5)]
    assert reader.view("mcprod/jobs_by_site_status", key=["pine", "running"], reduce=False) == []
    writer.close()
    reader.close()


def test_rows_of_a_file_from_an_older_release_are_rebuilt_on_open(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SqliteStore(path, create=True)
    ensure_design(store)
    store.bulk_create([_job(n, "failed") for n in range(3)])
    store.close()
    with sqlite3.connect(path) as conn:  # as an older release leaves it: other rows, other mark
        conn.execute("DELETE FROM view_rows")
        conn.execute("UPDATE meta SET value = 'older' WHERE name = 'views_version'")
    reopened = SqliteStore(path)
    assert [(r.key, r.value) for r in reopened.view(COUNTS, group_level=1)] == [(["failed"], 3)]
    reopened.close()


ODD_DOCS = [
        {"_id": "job:odd1", "type": "job", "status": "waiting", "priority": "high",
         "module": None, "run": 1.5, "labels": ["a", "a\x00b", 3], "site": ["x"]},
        {"_id": "job:odd2", "type": "job", "status": "waiting", "paused": 0, "run": 2**60,
         "campaign": {"nested": [1, True]}, "labels": "not-a-list", "site": ""},
        {"_id": "_design/x", "type": "job"},
        {"_id": "data:odd", "type": "data", "labels": [None], "module": "M\x00"},
        {"_id": "x", "type": ["job"]},
        {"_id": "job:att", "type": "job", "status": "cancelled", "site": "oak", "campaign": "c",
         "attempts": [{"status": "failed", "reason": "exit 3", "finished_at": "t1", "n": 1},
                      None, {"status": "cancel_requested", "site": "oak"}]},
    {"_id": "job:labels", "type": "job", "status": "failed", "site": "oak", "module": "M",
     "labels": ["b", "a", "b"], "run": -3, "pass": 0.5, "priority": True, "attempt": 2,
     "retry_checked": 1, "campaign": "c", "entry_key": "e", "index": 0},
    {"_id": "job:uni", "type": "job", "status": "waiting", "module": "Mé\u20ac",
     "labels": ["\U0001f600", "é"], "run": 1e300, "priority": -2.5, "site": "oak",
     "campaign": "\ud800", "created_at": None},
]


def test_the_compiled_rows_are_the_view_definitions_rows() -> None:
    """The write path's fast encoders against the plain definitions, on every corpus
    document and on documents with odd field types (untrusted input)."""
    for doc in job_docs() + data_docs() + ODD_DOCS + _odd_values():
        assert view_rows_of(doc) == generic_rows_of(doc), doc["_id"]


def _assert_views_are_the_definitions_rows(store: SqliteStore, docs: list[dict[str, Any]]) -> None:
    for spec in VIEWS:
        expected = sorted(
            ((sort_text(key), doc["_id"], n), key, value)
            for doc in docs
            if not doc["_id"].startswith("_design/")  # views never read design documents
            for n, (key, value) in enumerate(python_map(spec)(doc))
        )
        rows = store.view(f"mcprod/{spec.name}", reduce=False) if spec.reduce else (
            store.view(f"mcprod/{spec.name}"))
        assert [(r.id, r.key, r.value) for r in rows] == [
            (order[1], key, value) for order, key, value in expected
        ], spec.name
        if spec.reduce:
            counts = store.view(f"mcprod/{spec.name}", group_level=9)
            assert sum(r.value for r in counts) == len(expected)


def test_every_view_answers_its_definition_rows_in_collation_order(tmp_path: Path) -> None:
    """The views kept as indexes on the document columns, those kept as rows, and the
    per-label ones (first label indexed, the others as rows) all return exactly the rows
    the definitions emit, in CouchDB order: corpus and odd documents, written, then
    rewritten so the update path is checked too: once with the same rows, once with
    each document given another's body (rows added, removed and changed)."""
    docs = job_docs() + data_docs() + ODD_DOCS
    store = SqliteStore(tmp_path / "state.db", create=True)
    ensure_design(store)
    assert all(r.ok for r in store.bulk_create([{**d, "version": 0} for d in docs]))
    current = [d for d in store.get_many([d["_id"] for d in docs]) if d]
    assert all(r.ok for r in store.bulk_update([{**d, "version": 1} for d in current]))
    _assert_views_are_the_definitions_rows(store, docs)

    bodies = [{k: v for k, v in d.items() if k != "_id"} for d in docs]
    rotated = [{**bodies[(i + 7) % len(docs)], "_id": d["_id"]} for i, d in enumerate(docs)]
    revs = {d["_id"]: d["_rev"] for d in store.get_many([d["_id"] for d in docs]) if d}
    assert all(r.ok for r in store.bulk_update([{**d, "_rev": revs[d["_id"]]} for d in rotated]))
    _assert_views_are_the_definitions_rows(store, rotated)
    store.close()


def _odd_values() -> list[dict[str, Any]]:
    """Job documents whose view fields hold every JSON type (untrusted input)."""
    base = job_docs()[0]
    odd: list[Any] = [None, True, False, 0, -0.0, 1.5, -3, 2**60, "", "é", "a\x00b", "\ud800",
                      [], [1, "x"], {}, {"n": 1}]
    docs = []
    for n, value in enumerate(odd):
        docs.append({**base, "_id": f"job:odd:{n}", "priority": value, "status": value,
                     "site": value, "attempts": [{"n": value, "work_dir": value}],
                     "labels": [value], "run": value})
        docs.append({**base, "_id": f"job:odd:last:{n}", "attempts": value})
    return docs


def test_the_compiled_columns_are_the_view_definitions_columns() -> None:
    for doc in job_docs() + data_docs() + ODD_DOCS + _odd_values():
        assert columns_of(doc) == plain_columns_of(doc), doc["_id"]


def test_the_counts_an_update_changes_are_those_of_its_changed_columns() -> None:
    """An update moves only the counted rows of views reading a changed column: the same
    change to `view_counts` as removing every old row and adding every new one."""
    docs = job_docs() + _odd_values()
    for old, new in zip(docs, docs[1:] + docs[:1], strict=True):
        before, after = columns_of(old), columns_of(new)
        changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
        whole = Counter(counted_keys(after))
        whole.subtract(counted_keys(before))
        part = Counter(counted_keys(after, changed))
        part.subtract(counted_keys(before, changed))
        assert +whole == +part and -whole == -part, (old["_id"], new["_id"])
