"""Bulk-create throughput of the stores (issue 3, performance).

Creates 50,000 job-sized documents
  1. through the CouchDB store (`CouchStore.bulk_create`), batches of BATCH;
  2. through raw `_bulk_docs` HTTP requests (one keep-alive connection), same batches;
  3. through the SQLite store, same batches, alternating batch by batch with
  4. a raw SQLite `executemany` of the same documents as JSON rows (id, body) into one
     table of another file, in the same transaction size (the baseline), and with
  5. the same rows into a file with the SQLite store's schema, every view column, row
     and count computed beforehand (the floor: what SQLite itself spends keeping the
     views at write time, whatever the Python around it does);
and prints documents/second for each, the CouchDB store / raw ratio (target >= 0.8),
the SqliteStore / raw SQLite ratio (target >= 0.7) and the first view query after
all the writes (target < 0.5 s: the SQLite store's views are written with the
documents, so no query pays for indexing). Starts its own pouchdb-server
(in memory) unless MCPROD_TEST_COUCH names a server to use.

Run: .venv/bin/python bench/store.py [--docs N] [--batch N] [--only couch|sqlite]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sqlite3
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reconciler.documents import job_id
from reconciler.store.couch import CouchStore
from reconciler.store.design import ensure_design
from reconciler.store.sqlite import _INSERT_DOC, _INSERT_ROWS, SqliteStore, _rows_signature
from reconciler.store.viewcols import columns_of, counted_keys
from reconciler.store.viewrows import view_rows_of
from tests.services.couchserver import http_json, start_pouchdb_server

MODULES = ("WaterBi214Run", "ScintTl208Run", "AvPo210", "ExternalWaterK40")


def job_doc(i: int) -> dict[str, Any]:
    """A job document with every field the reconciler writes (about 1 KB as JSON)."""
    module = MODULES[i % len(MODULES)]
    run, pass_ = 300000 + i // 4, 0
    return {
        "_id": job_id(module, run, 0, pass_),
        "type": "job",
        "module": module,
        "run": run,
        "subrun": 0,
        "pass": pass_,
        "campaign": "bench-campaign",
        "entry_key": f"{i // 1000:064x}",  # entries of 1,000 jobs, created together
        "index": i,
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "labels": ["bench-campaign"],
        "rat_version": "7.0.8",
        "ratdb_tag": "v7.0.8-default",
        "event_mode": "number",
        "events": 10000,
        "duration_s": None,
        "macro_path": f"mac/production/{module}.mac",
        "outputs": ["ratds", "ntuple"],
        "template": {"RUNNUMBER": run, "EVENTS": 10000, "SEED": i * 7919 % 1000003},
        "priority": (i // 1000) % 5,  # one priority per entry
        "paused": False,
        "status": "waiting",
        "created_at": "2026-01-01T00:00:00.000000Z",
        "updated_at": "2026-01-01T00:00:00.000000Z",
        "site": None,
        "attempt": 0,
        "backend_name": None,
        "backend_id": None,
        "not_before": None,
        "reason": None,
        "attempts": [],
    }


def batches(docs: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [docs[i : i + size] for i in range(0, len(docs), size)]


def alternate(
    store: Any, raw_create: Callable[[list[dict[str, Any]]], None],
    batches_: list[list[dict[str, Any]]],
    others: dict[str, Callable[[list[dict[str, Any]]], None]] | None = None,
) -> dict[str, float]:
    """Seconds spent bulk-creating each batch through the store and through the raw
    baseline (and any `others`). They take turns batch by batch, and which goes first
    rotates too, so that warm-up, garbage collection and other load fall on all alike."""

    def store_batch(batch: list[dict[str, Any]]) -> None:
        assert all(r.ok for r in store.bulk_create(batch))

    runners = {"store": store_batch, "raw": raw_create, **(others or {})}
    spent = dict.fromkeys(runners, 0.0)
    names = list(runners)
    for number, batch in enumerate(batches_):
        turn = number % len(names)
        for name in names[turn:] + names[:turn]:
            start = time.perf_counter()
            runners[name](batch)
            spent[name] += time.perf_counter() - start
    return spent


class RawBulkDocs:
    """`_bulk_docs` over one keep-alive http.client connection: the baseline."""

    def __init__(self, db_url: str) -> None:
        parts = urllib.parse.urlsplit(db_url)
        self.path = parts.path + "/_bulk_docs"
        self.conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)

    def bulk_create(self, batch: list[dict[str, Any]]) -> None:
        body = json.dumps({"docs": batch}).encode("utf-8")
        self.conn.request("POST", self.path, body=body,
                          headers={"Content-Type": "application/json"})
        response = self.conn.getresponse()
        answer = json.loads(response.read())
        assert response.status == 201 and all("error" not in r for r in answer)


def bench_couch(base: str, docs: list[dict[str, Any]], size: int) -> tuple[float, float]:
    """Seconds spent by the CouchDB store and by raw requests, each into a fresh database.

    The two alternate batch by batch (and which goes first alternates too), so that
    the server's warm-up, garbage collection and other load on the machine fall on
    both alike rather than on whichever runs second.
    """
    store_db = f"{base}/bench_store_{uuid.uuid4().hex}"
    raw_db = f"{base}/bench_raw_{uuid.uuid4().hex}"
    http_json("PUT", store_db)
    http_json("PUT", raw_db)
    try:
        store = CouchStore(store_db)
        raw = RawBulkDocs(raw_db)

        spent = alternate(store, raw.bulk_create, batches(docs, size))
        raw.conn.close()
        return spent["store"], spent["raw"]
    finally:
        http_json("DELETE", store_db)
        http_json("DELETE", raw_db)


def warm_up(base: str) -> None:
    """A few batches into a scratch database, so the server's JIT is warm for both."""
    scratch = f"{base}/bench_warmup_{uuid.uuid4().hex}"
    http_json("PUT", scratch)
    raw = RawBulkDocs(scratch)
    for batch in batches([job_doc(i) for i in range(3000)], 500):
        raw.bulk_create(batch)
    raw.conn.close()
    http_json("DELETE", scratch)


def wal_connection(path: Path) -> sqlite3.Connection:
    """A connection as the SQLite store sets its own: autocommit, WAL, NORMAL sync."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


# The store's JSON encoder settings: every baseline encodes as the store does.
ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode


class RawSqlite:
    """The baseline: the same documents as JSON rows into one SQLite table, encoded with
    the same encoder and written in the same transactions, in WAL mode like the store."""

    def __init__(self, path: Path) -> None:
        self.conn = wal_connection(path)
        self.conn.execute("CREATE TABLE docs (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
        self.encode = ENCODE

    def bulk_create(self, batch: list[dict[str, Any]]) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(
            "INSERT INTO docs (id, body) VALUES (?, ?)",
            [(doc["_id"], self.encode(doc)) for doc in batch],
        )
        self.conn.execute("COMMIT")


class IndexedSqlite:
    """The floor under any store that keeps these views at write time in SQLite: the same
    JSON rows into a file with the store's own schema (view columns, view indexes,
    view rows, kept counts), with every view column, row, count and revision computed
    beforehand, outside the timer. What is timed is what RawSqlite times (encoding and
    executemany in one transaction) plus SQLite's own upkeep of the views' indexes."""

    def __init__(self, path: Path, docs: list[dict[str, Any]]) -> None:
        SqliteStore(path, create=True).close()
        self.conn = wal_connection(path)
        self.conn.execute("PRAGMA cache_size=-65536")
        self.encode = ENCODE
        self.prepared: dict[str, tuple[Any, ...]] = {}
        for seq, doc in enumerate(docs, start=1):
            rows = view_rows_of(doc)
            columns = columns_of(doc)
            rev = f"1-{uuid.uuid4().hex}"
            self.prepared[doc["_id"]] = (
                (doc["_id"], rev, seq, _rows_signature(rows), *columns), rows,
                counted_keys(columns),
            )

    def bulk_create(self, batch: list[dict[str, Any]]) -> None:
        docs, rows, counts = [], [], Counter[tuple[int, str]]()
        for doc in batch:
            fields, doc_rows, doc_counts = self.prepared[doc["_id"]]
            docs.append((*fields[:3], self.encode(doc), *fields[3:]))
            rows.extend(doc_rows)
            counts.update(doc_counts)
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(_INSERT_DOC, docs)
        self.conn.executemany(_INSERT_ROWS, rows)
        self.conn.executemany(
            "INSERT INTO view_counts (view, key, n) VALUES (?, ?, ?)"
            " ON CONFLICT (view, key) DO UPDATE SET n = n + excluded.n",
            [(view, key, n) for (view, key), n in counts.items()],
        )
        self.conn.execute("COMMIT")


def bench_sqlite(
    docs: list[dict[str, Any]], size: int
) -> tuple[float, float, float, float, float]:
    """Seconds spent bulk-creating `docs` into a new SQLite store, into a raw table and
    into the store's schema with everything precomputed (the floor), taking turns batch
    by batch (as bench_couch); then the seconds of the first view query after the
    writes and of a second one."""
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(Path(folder) / "state.db", create=True)
        ensure_design(store)
        raw = RawSqlite(Path(folder) / "raw.db")
        floor = IndexedSqlite(Path(folder) / "floor.db", docs)

        spent = alternate(store, raw.bulk_create, batches(docs, size),
                          {"floor": floor.bulk_create})
        raw.conn.close()
        floor.conn.close()
        queries = []
        for _ in range(2):
            start = time.perf_counter()
            rows = store.view("mcprod/jobs_by_status_module", group_level=2)
            queries.append(time.perf_counter() - start)
            assert sum(row.value for row in rows) == len(docs)
        store.close()
    return spent["store"], spent["raw"], spent["floor"], queries[0], queries[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--only", choices=("couch", "sqlite"), help="measure one store only")
    args = parser.parse_args()
    docs = [job_doc(i) for i in range(args.docs)]
    size = len(json.dumps(docs[0]))
    print(f"{args.docs} job documents of ~{size} bytes, batches of {args.batch}")
    if args.only != "sqlite":
        bench_couch_figures(docs, args.batch)
    if args.only != "couch":
        bench_sqlite_figures(docs, args.batch)
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


def bench_couch_figures(docs: list[dict[str, Any]], size: int) -> None:
    external = os.environ.get("MCPROD_TEST_COUCH")
    server = None if external else start_pouchdb_server()
    base = external.rstrip("/") if external else server.url  # type: ignore[union-attr]
    try:
        warm_up(base)
        store_s, raw_s = bench_couch(base, docs, size)
    finally:
        if server is not None:
            server.stop()
    store_rate, raw_rate = len(docs) / store_s, len(docs) / raw_s
    ratio = store_rate / raw_rate
    print(f"{'raw _bulk_docs':>16}: {raw_rate:9.0f} docs/s")
    print(f"{'CouchStore':>16}: {store_rate:9.0f} docs/s")
    print(f"{'ratio':>16}: {ratio:9.2f}  (target >= 0.8: {'met' if ratio >= 0.8 else 'MISSED'})")


def bench_sqlite_figures(docs: list[dict[str, Any]], size: int) -> None:
    store_s, raw_s, floor_s, first_query, second_query = bench_sqlite(docs, size)
    store_rate, raw_rate = len(docs) / store_s, len(docs) / raw_s
    ratio = store_rate / raw_rate
    print(f"{'raw SQLite':>16}: {raw_rate:9.0f} docs/s (executemany of the JSON rows)")
    print(f"{'floor':>16}: {len(docs) / floor_s:9.0f} docs/s, ratio {raw_s / floor_s:.2f}"
          " (the same rows into the store's schema, views precomputed: SQLite's share)")
    print(f"{'SqliteStore':>16}: {store_rate:9.0f} docs/s (views written with the documents)")
    print(f"{'ratio':>16}: {ratio:9.2f}  (target >= 0.7: {'met' if ratio >= 0.7 else 'MISSED'})")
    verdict = "met" if first_query < 0.5 else "MISSED"
    print(
        f"{'SQLite views':>16}: first query after the writes {first_query * 1000:.0f} ms"
        f" (target < 500 ms: {verdict}), next {second_query * 1000:.0f} ms"
        " (jobs_by_status_module, group_level 2)"
    )


if __name__ == "__main__":
    sys.exit(main())
