"""What keeping views at write time costs SQLite itself, apart from any Python (issue 13).

The bulk-write target compares the embedded store with a raw `executemany` of the same
JSON rows into a table with only an id key. This script writes the same job documents
into several schemas, side by side, batch by batch (taking turns, as bench/store.py),
with every view value computed beforehand and outside the timer, so the figures are
SQLite's own costs: encoding the body (as the raw baseline does) and inserting.

  raw                      (id, body): the baseline
  store table              the store's `docs` table with its view columns, no index
  + seq                    and the change sequence's index
  + view_N                 and one view's index (each alone)
  store schema             every index of the store (no view rows, no counts)
  json_extract x K         the raw table with K expression indexes on json_extract of
                           the fields the job views read (the other way the issue
                           names; it does not give CouchDB collation of mixed types)

Each ratio is raw time / that time: 1.0 is as fast as the baseline.

Run: .venv/bin/python bench/write_floor.py [--docs N] [--batch N]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.store import ENCODE, job_doc, wal_connection
from reconciler.store.sqlite import (
    _INSERT_DOC,
    _SEQ_INDEX,
    _docs_schema,
    _rows_signature,
)
from reconciler.store.viewcols import COLUMN_VIEWS, columns_of
from reconciler.store.viewrows import view_rows_of

_RAW_INSERT = "INSERT INTO docs (id, body) VALUES (?, ?)"
# The fields the job views' keys read, as json_extract expression indexes.
_JSON_INDEXES = (
    ("status", "module"),
    ("campaign", "entry_key", "index"),
    ("module", "run"),
    ("campaign", "priority"),
    ("site", "status"),
)

Setup = Callable[[sqlite3.Connection], None]


def _connect(folder: str, name: str, setup: Setup) -> sqlite3.Connection:
    conn = wal_connection(Path(folder) / f"{name}.db")
    conn.execute("PRAGMA cache_size=-65536")
    setup(conn)
    return conn


def _raw(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE docs (id TEXT PRIMARY KEY, body TEXT NOT NULL)")


def _store_table(indexes: tuple[int, ...] | None, seq: bool) -> Setup:
    """The store's docs table; with the seq index, and the given view indexes (None: all)."""

    def setup(conn: sqlite3.Connection) -> None:
        conn.execute(_docs_schema("docs"))
        if seq:
            conn.execute(_SEQ_INDEX)
        for number, view in COLUMN_VIEWS.items():
            if view.indexed and (indexes is None or number in indexes):
                conn.execute(view.index_sql())

    return setup


def _json_indexes(count: int) -> Setup:
    def setup(conn: sqlite3.Connection) -> None:
        _raw(conn)
        for number, fields in enumerate(_JSON_INDEXES[:count]):
            parts = ", ".join(f"json_extract(body, '$.{name}')" for name in fields)
            conn.execute(f"CREATE INDEX json_{number} ON docs ({parts})")

    return setup


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    docs = [job_doc(i) for i in range(args.docs)]
    encode = ENCODE
    prepared: dict[str, tuple[Any, ...]] = {}
    for seq, doc in enumerate(docs, start=1):
        prepared[doc["_id"]] = (doc["_id"], f"1-{uuid.uuid4().hex}", seq,
                                _rows_signature(view_rows_of(doc)), *columns_of(doc))

    def raw_row(doc: dict[str, Any]) -> tuple[Any, ...]:
        return doc["_id"], encode(doc)

    def store_row(doc: dict[str, Any]) -> tuple[Any, ...]:
        fields = prepared[doc["_id"]]
        return (*fields[:3], encode(doc), *fields[3:])

    variants: dict[str, tuple[Setup, str, Callable[[dict[str, Any]], tuple[Any, ...]]]] = {
        "raw": (_raw, _RAW_INSERT, raw_row),
        "store table": (_store_table((), seq=False), _INSERT_DOC, store_row),
        "+ seq": (_store_table((), seq=True), _INSERT_DOC, store_row),
    }
    for number, view in COLUMN_VIEWS.items():
        if view.indexed:
            variants[f"+ seq + view_{number}"] = (
                _store_table((number,), seq=True), _INSERT_DOC, store_row)
    variants["store schema"] = (_store_table(None, seq=True), _INSERT_DOC, store_row)
    for count in (1, 3, 5):
        variants[f"json_extract x {count}"] = (_json_indexes(count), _RAW_INSERT, raw_row)

    spent = dict.fromkeys(variants, 0.0)
    names = list(variants)
    with tempfile.TemporaryDirectory() as folder:
        conns = {name: _connect(folder, f"v{i}", setup)
                 for i, (name, (setup, _, _)) in enumerate(variants.items())}
        for number, start in enumerate(range(0, len(docs), args.batch)):
            batch = docs[start : start + args.batch]
            turn = number % len(names)
            for name in names[turn:] + names[:turn]:
                _, sql, row = variants[name]
                conn = conns[name]
                began = time.perf_counter()
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(sql, [row(doc) for doc in batch])
                conn.execute("COMMIT")
                spent[name] += time.perf_counter() - began
        for conn in conns.values():
            conn.close()
    print(f"{args.docs} job documents, batches of {args.batch}, view values precomputed")
    for name in names:
        print(f"{name:>22}: {args.docs / spent[name]:8.0f} docs/s,"
              f" ratio {spent['raw'] / spent[name]:.2f}")
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
