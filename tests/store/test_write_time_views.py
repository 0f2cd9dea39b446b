"""The SQLite store's views are written with the documents: a query right after a write
sees it, from any connection, and no row of an older revision survives."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from reconciler.store.design import ensure_design
from reconciler.store.sqlite import SqliteStore
from reconciler.store.viewrows import generic_rows_of, view_rows_of
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
    site_rows = reader.view("mcprod/jobs_by_site_status", key=["pine", "running"])
    assert [r.id for r in site_rows] == ["job:M:r3:s0:p0"]

    writer.bulk_update([{**d, "status": "completed"} for d in writer.get_many(
        [f"job:M:r{n}:s0:p0" for n in range(5)]) if d])
    assert [(r.key, r.value) for r in reader.view(COUNTS, group_level=1)] == [(["completed"], 5)]
    assert reader.view("mcprod/jobs_by_site_status", key=["pine", "running"]) == []
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


def test_the_compiled_rows_are_the_view_definitions_rows() -> None:
    """The write path's fast encoders against the plain definitions, on every corpus
    document and on documents with odd field types (untrusted input)."""
    odd = [
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
    ]
    for doc in job_docs() + data_docs() + odd:
        assert view_rows_of(doc) == generic_rows_of(doc), doc["_id"]
