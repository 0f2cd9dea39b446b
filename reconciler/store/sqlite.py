"""The embedded store: CouchDB semantics in one SQLite file.

Documents live in `docs` (body as JSON, revision `N-<md5>`, a change sequence).
Views are maintained at write time, unlike CouchDB's lazy indexes: every write runs the
views' Python map functions (reconciler.store.views, via reconciler.store.viewrows) and
replaces the document's rows in `view_rows` in the same transaction, so a query never
pays for indexing and never sees a stale row. Rows are keyed by the collation bytes of
reconciler.store.collate, so key ranges and ordering are plain SQL on the primary key,
and a `_count` reduce is a SQL `GROUP BY key` (Python then merges groups to the asked
`group_level`, over distinct keys only). Writes take `BEGIN IMMEDIATE` (one writer at
a time across processes; others wait up to the busy timeout), which makes
compare-and-set exact with several processes on one file. WAL mode lets readers run
while a writer works.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.documents import Doc
from reconciler.errors import Conflict, StoreError
from reconciler.store.collate import MAX_KEY, decode_key, sort_key
from reconciler.store.interface import Change, Changes, CreateResult, ViewRow, WriteResult
from reconciler.store.viewquery import ViewQuery, reduce_count
from reconciler.store.viewrows import VIEW_NUMBER, ViewRowTuple, stored_value, view_rows_of
from reconciler.store.views import DESIGN_ID, VIEWS_BY_NAME, design_document

BUSY_TIMEOUT_S = 60.0
_CONFLICT = "Document update conflict."
_IDS_PER_QUERY = 500  # well under SQLite's limit on bound parameters
_REBUILD_CHUNK = 5000  # documents read at a time when the view rows are rebuilt
# How view rows are stored; bump it when `view_rows` changes shape.
_ROWS_FORMAT = "write-time-3"
# Changes whenever a view definition or the rows' format changes: the rows are rebuilt.
VIEWS_VERSION = hashlib.sha256(
    (json.dumps(design_document(), sort_keys=True) + _ROWS_FORMAT).encode("utf-8")
).hexdigest()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    seq  INTEGER PRIMARY KEY,  -- the rowid: the changes feed is the table in order
    id   TEXT NOT NULL UNIQUE,
    rev  TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Dropped and recreated (then refilled from `docs`) when VIEWS_VERSION changes.
_VIEW_ROWS_SCHEMA = """
CREATE TABLE view_rows (
    view  INTEGER NOT NULL,  -- position in reconciler.store.views.VIEWS
    key   BLOB NOT NULL,     -- collation bytes: the order, and the key itself
    id    TEXT NOT NULL,
    n     INTEGER NOT NULL,  -- the document's n-th row in this view
    value TEXT,              -- JSON, or NULL for a view whose value is a constant
    PRIMARY KEY (view, key, id, n)
) WITHOUT ROWID;
"""


# One encoder for every write: json.dumps with non-default separators builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)


_INSERT_ROWS = "INSERT INTO view_rows (view, key, id, n, value) VALUES (?, ?, ?, ?, ?)"


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def _next_rev(old_rev: str | None, body_json: str) -> str:
    generation = int(old_rev.split("-", 1)[0]) + 1 if old_rev else 1
    digest = hashlib.md5(((old_rev or "") + body_json).encode("utf-8"), usedforsecurity=False)
    return f"{generation}-{digest.hexdigest()}"


def _bounds(low: Any, high: Any) -> tuple[bytes, bytes]:
    """Collation bytes of an inclusive key range; None means unbounded."""
    return (
        b"" if low is None else sort_key(low),
        MAX_KEY if high is None else sort_key(high),
    )


def _body_of(doc: Doc) -> Doc:
    """What is stored: the document without `_rev` (`_id` stays; reads put it first again).
    No copy when there is no `_rev`, as in bulk creates: copying costs more than encoding."""
    return doc if "_rev" not in doc else {k: v for k, v in doc.items() if k != "_rev"}


class SqliteStore:
    """A `Store` on one SQLite file (see the module docstring)."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        self._display = f"sqlite://{path}"  # path is absolute: sqlite:///abs/path
        self.created_database = False  # True when this open created the schema (db init)
        self._check_file(create)
        self._conn = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            self._open_retrying(create)
        except BaseException:
            self._conn.close()
            raise

    def _open_retrying(self, create: bool) -> None:
        """Opening a brand-new file from several processes at once: switching to WAL
        and creating the schema can fail with "locked" at once, without SQLite's busy
        handler ever waiting (it gives up to avoid a deadlock), so wait here instead."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self._open(create)
                return
            except StoreError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _open(self, create: bool) -> None:
        try:
            # Read before anything writes: a file that is not ours must stay untouched.
            has_docs = self._conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='docs'"
            ).fetchone()
            if not has_docs and not create:
                raise StoreError(
                    f"{self._display}: the state database is not initialised;"
                    " run `mcprod db init` first"
                )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA cache_size=-65536")
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None
        if not has_docs:
            with self._write() as cur:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        cur.execute(statement)
            self.created_database = True
        with self._read() as cur:
            row = cur.execute("SELECT value FROM meta WHERE name='views_version'").fetchone()
        if not row or row[0] != VIEWS_VERSION:
            with self._write() as cur:
                self._refresh_views(cur)

    # ---- opening and errors ------------------------------------------------------------

    def _check_file(self, create: bool) -> None:
        if self.path.is_dir():
            raise StoreError(
                f"{self._display}: is a folder, not a state database; point --db or MCPROD_DB"
                " at the database file"
            )
        if not self.path.exists():
            if not create:
                raise StoreError(
                    f"{self._display}: no state database here; run `mcprod db init` to create it"
                )
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"{self._display}: cannot create its folder: {exc.strerror}"
                ) from None
            return
        mode = self.path.stat().st_mode
        # Checked on the mode bits too: root may write anything, but a file someone made
        # read-only is a decision to respect, not to override.
        writable_bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
        if not os.access(self.path, os.W_OK) or not mode & writable_bits:
            raise StoreError(
                f"{self._display}: the state database is read-only (mode {stat.S_IMODE(mode):04o});"
                " make it writable"
            )

    def _error(self, exc: sqlite3.DatabaseError) -> StoreError:
        text = str(exc)
        if "not a database" in text or "malformed" in text:
            return StoreError(f"{self._display}: not a SQLite database ({text})")
        if "readonly" in text or "read-only" in text:
            return StoreError(f"{self._display}: the state database is read-only ({text})")
        if "locked" in text or "busy" in text:
            return StoreError(
                f"{self._display}: database stayed locked for {BUSY_TIMEOUT_S:.0f} s ({text})"
            )
        return StoreError(f"{self._display}: {text}")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Cursor]:
        """A write transaction: IMMEDIATE takes the file's write lock at once, so a
        compare-and-set reads and writes with no other writer in between."""
        with self._transaction("BEGIN IMMEDIATE") as cur:
            yield cur

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Cursor]:
        """A read transaction, so that multi-statement reads see one snapshot."""
        with self._transaction("BEGIN") as cur:
            yield cur

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Cursor]:
        """Commit on success; roll back on any exception (a store error raised inside
        must not leave the connection inside a transaction); SQLite errors become
        one-line `StoreError`s."""
        cur = self._conn.cursor()
        try:
            cur.execute(begin)
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if self._conn.in_transaction:
                cur.execute("ROLLBACK")
            raise self._error(exc) from None

    def _refresh_views(self, cur: sqlite3.Cursor) -> None:
        """Rebuild every view row when the view definitions changed (a new release, or a
        file written by an older one): one pass over the documents under the write lock,
        so no query ever meets a half-built view."""
        row = cur.execute("SELECT value FROM meta WHERE name='views_version'").fetchone()
        if row and row[0] == VIEWS_VERSION:
            return  # another process refreshed them first
        cur.execute("DROP TABLE IF EXISTS view_rows")
        for statement in _VIEW_ROWS_SCHEMA.split(";"):
            if statement.strip():
                cur.execute(statement)
        after = 0
        while True:
            chunk = cur.execute(
                "SELECT seq, id, body FROM docs WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, _REBUILD_CHUNK),
            ).fetchall()
            if not chunk:
                break
            rows: list[ViewRowTuple] = []
            for _seq, doc_id, body in chunk:
                rows.extend(view_rows_of({"_id": doc_id, **json.loads(body)}))
            cur.executemany(_INSERT_ROWS, rows)
            after = chunk[-1][0]
        cur.execute("DELETE FROM meta WHERE name = 'indexed_seq'")  # the lazy index's mark
        cur.execute(
            "INSERT OR REPLACE INTO meta (name, value) VALUES ('views_version', ?)",
            (VIEWS_VERSION,),
        )

    # ---- Store protocol ----------------------------------------------------------------

    @property
    def display_url(self) -> str:
        return self._display

    def close(self) -> None:
        self._conn.close()

    def get(self, doc_id: str) -> Doc | None:
        with self._read() as cur:
            return self._get(cur, doc_id)

    def get_many(self, doc_ids: Sequence[str]) -> list[Doc | None]:
        with self._read() as cur:
            return [self._get(cur, doc_id) for doc_id in doc_ids]

    def create(self, doc: Doc) -> CreateResult:
        with self._write() as cur:
            existing = self._get(cur, doc["_id"])
            if existing is not None:
                return CreateResult(created=False, doc=existing)
            rev = self._put(cur, [(doc, None)])[0]
            return CreateResult(created=True, doc=self._stored(doc, rev))

    def update(self, doc: Doc) -> Doc:
        with self._write() as cur:
            current = self._current_rev(cur, doc["_id"])
            if current != doc.get("_rev"):
                raise Conflict(doc["_id"])
            return self._stored(doc, self._put(cur, [(doc, current)])[0])

    def bulk_create(self, docs: Sequence[Doc]) -> list[WriteResult]:
        return self._bulk(docs, compare_rev=False)

    def bulk_update(self, docs: Sequence[Doc]) -> list[WriteResult]:
        return self._bulk(docs, compare_rev=True)

    def _bulk(self, docs: Sequence[Doc], *, compare_rev: bool) -> list[WriteResult]:
        """As CouchDB's `_bulk_docs`: each document succeeds or conflicts on its own.
        Creating an existing id conflicts; updating needs the current `_rev`."""
        conflicts: dict[int, WriteResult] = {}
        with self._write() as cur:
            current = self._current_revs(cur, [doc["_id"] for doc in docs])
            accepted: list[tuple[Doc, str | None]] = []
            for position, doc in enumerate(docs):
                doc_id = doc["_id"]
                wanted = doc.get("_rev") if compare_rev else None
                if current.get(doc_id) != wanted:
                    conflicts[position] = WriteResult(
                        doc_id, False, error="conflict", reason=_CONFLICT
                    )
                    continue
                accepted.append((doc, current.get(doc_id)))
                # A second copy of the id later in the same batch must hold this new revision.
                current[doc_id] = "(written in this batch)"
            revs = iter(self._put(cur, accepted))
        return [
            conflicts[i] if i in conflicts else WriteResult(doc["_id"], True, rev=next(revs))
            for i, doc in enumerate(docs)
        ]

    def view(
        self,
        name: str,
        *,
        key: Any = None,
        keys: Sequence[Any] | None = None,
        startkey: Any = None,
        endkey: Any = None,
        reduce: bool | None = None,
        group_level: int | None = None,
        include_docs: bool = False,
        limit: int | None = None,
        skip: int = 0,
        descending: bool = False,
        stale_ok: bool = False,
    ) -> list[ViewRow]:
        query = ViewQuery.build(
            name, key=key, keys=keys, startkey=startkey, endkey=endkey, reduce=reduce,
            group_level=group_level, include_docs=include_docs, limit=limit, skip=skip,
            descending=descending, has_reduce=self._has_reduce(name),
        )
        view = VIEW_NUMBER[name.split("/", 1)[1]]
        ranges = [(one, one) for one in query.keys] if query.keys is not None else None
        with self._read() as cur:
            self._check_installed(cur, name)
            if query.reduce:
                # With `keys`, each key is reduced on its own (a repeated key repeats its row).
                grouped: list[ViewRow] = []
                for low, high in ranges or [(query.low, query.high)]:
                    counts = self._count_keys(cur, view, low, high, query.descending)
                    grouped.extend(
                        reduce_count(counts, query.group_level, by_key=ranges is not None)
                    )
                return query.page(grouped)
            if ranges is None:  # one range: SQL does the paging
                rows = self._select(
                    cur, view, query.low, query.high, query.descending,
                    limit=query.limit, offset=query.skip,
                )
            else:
                rows = []
                for low, high in ranges:
                    rows.extend(self._select(cur, view, low, high, query.descending))
                rows = query.page(rows)
            if query.include_docs:
                rows = [
                    ViewRow(r.id, r.key, r.value, self._get(cur, r.id) if r.id else None)
                    for r in rows
                ]
            return rows

    def _has_reduce(self, name: str) -> bool:
        design, _, view_name = name.partition("/")
        spec = VIEWS_BY_NAME.get(view_name)
        if design != "mcprod" or spec is None:
            raise StoreError(f"{self._display}: no view named {name}")
        return spec.reduce is not None

    def _check_installed(self, cur: sqlite3.Cursor, name: str) -> None:
        design = self._get(cur, DESIGN_ID)
        view_name = name.split("/", 1)[1]
        if design is None or view_name not in (design.get("views") or {}):
            raise StoreError(
                f"{self._display}: view {name} is not installed; run `mcprod db init`"
            )

    def _select(
        self,
        cur: sqlite3.Cursor,
        view: int,
        low: Any,
        high: Any,
        descending: bool,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ViewRow]:
        """Rows with low <= key <= high (None: unbounded), in view order."""
        order = "DESC" if descending else "ASC"
        sql = (
            "SELECT id, key, value FROM view_rows"
            " WHERE view = ? AND key >= ? AND key <= ?"
            f" ORDER BY key {order}, id {order}, n {order} LIMIT ? OFFSET ?"
        )
        params = (view, *_bounds(low, high), -1 if limit is None else limit, offset)
        return [
            ViewRow(doc_id, decode_key(k), stored_value(view, v))
            for doc_id, k, v in cur.execute(sql, params)
        ]

    def _count_keys(
        self, cur: sqlite3.Cursor, view: int, low: Any, high: Any, descending: bool
    ) -> list[tuple[Any, int]]:
        """(key, number of rows) for each distinct key in the range, in view order: SQL
        counts, and Python decodes each distinct key once."""
        order = "DESC" if descending else "ASC"
        sql = (
            "SELECT key, count(*) FROM view_rows WHERE view = ? AND key >= ? AND key <= ?"
            f" GROUP BY key ORDER BY key {order}"
        )
        return [(decode_key(key), n) for key, n in cur.execute(sql, (view, *_bounds(low, high)))]

    def changes(
        self, since: str | None = None, limit: int | None = None, include_docs: bool = False
    ) -> Changes:
        try:
            after = int(since) if since else 0
        except ValueError:
            raise StoreError(
                f"{self._display}: not a change sequence of this store: {since!r}"
            ) from None
        sql = "SELECT id, rev, seq, body FROM docs WHERE seq > ? ORDER BY seq"
        params: tuple[int, ...] = (after,)
        if limit is not None:
            sql += " LIMIT ?"
            params = (after, limit)
        with self._read() as cur:
            rows = cur.execute(sql, params).fetchall()
        results = tuple(
            Change(
                id=doc_id,
                seq=str(seq),
                doc={"_id": doc_id, "_rev": rev, **json.loads(body)} if include_docs else None,
            )
            for doc_id, rev, seq, body in rows
        )
        last = results[-1].seq if results else str(after)
        return Changes(results=results, last_seq=last)

    # ---- internals ---------------------------------------------------------------------

    def _get(self, cur: sqlite3.Cursor, doc_id: str) -> Doc | None:
        row = cur.execute("SELECT rev, body FROM docs WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return None
        return {"_id": doc_id, "_rev": row[0], **json.loads(row[1])}

    def _current_rev(self, cur: sqlite3.Cursor, doc_id: str) -> str | None:
        row = cur.execute("SELECT rev FROM docs WHERE id = ?", (doc_id,)).fetchone()
        return None if row is None else str(row[0])

    def _bodies(self, cur: sqlite3.Cursor, doc_ids: list[str]) -> dict[str, str]:
        """The stored JSON bodies of these documents, for the rows their views hold now."""
        bodies: dict[str, str] = {}
        for start in range(0, len(doc_ids), _IDS_PER_QUERY):
            chunk = doc_ids[start : start + _IDS_PER_QUERY]
            marks = ",".join("?" * len(chunk))
            bodies.update(cur.execute(f"SELECT id, body FROM docs WHERE id IN ({marks})", chunk))
        return bodies

    def _current_revs(self, cur: sqlite3.Cursor, doc_ids: list[str]) -> dict[str, str]:
        revs: dict[str, str] = {}
        for start in range(0, len(doc_ids), _IDS_PER_QUERY):
            chunk = doc_ids[start : start + _IDS_PER_QUERY]
            marks = ",".join("?" * len(chunk))
            revs.update(cur.execute(f"SELECT id, rev FROM docs WHERE id IN ({marks})", chunk))
        return revs

    def _put(self, cur: sqlite3.Cursor, items: list[tuple[Doc, str | None]]) -> list[str]:
        """Write documents whose revisions the caller has checked; returns their new revisions."""
        seq = cur.execute("SELECT coalesce(max(seq), 0) FROM docs").fetchone()[0]
        rows = []
        revs: list[str] = []
        view_rows: list[ViewRowTuple] = []
        replaced = self._bodies(cur, [doc["_id"] for doc, old_rev in items if old_rev])
        stale: list[tuple[int, bytes, str, int]] = []
        for doc, old_rev in items:
            body_json = _dumps(_body_of(doc))
            rev = _next_rev(old_rev, body_json)
            seq += 1
            rows.append((doc["_id"], rev, seq, body_json))
            revs.append(rev)
            new_rows = view_rows_of(doc)
            old_body = replaced.pop(doc["_id"], None) if old_rev else None
            if old_body is None:
                view_rows.extend(new_rows)
                continue
            # Only the rows that changed are touched: a status change leaves most alone.
            old_rows = set(view_rows_of({"_id": doc["_id"], **json.loads(old_body)}))
            stale.extend(row[:4] for row in old_rows.difference(new_rows))
            view_rows.extend(row for row in new_rows if row not in old_rows)
        if stale:  # the old revisions' rows go in the same transaction
            cur.executemany(
                "DELETE FROM view_rows WHERE view = ? AND key = ? AND id = ? AND n = ?", stale
            )
        cur.executemany(_INSERT_ROWS, view_rows)
        cur.executemany(
            "INSERT INTO docs (id, rev, seq, body) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET rev = excluded.rev, seq = excluded.seq,"
            " body = excluded.body",
            rows,
        )
        return revs

    @staticmethod
    def _stored(doc: Doc, rev: str) -> Doc:
        """The document as a later read returns it (a JSON round trip, `_id` and `_rev` first)."""
        return {"_id": doc["_id"], "_rev": rev, **json.loads(_dumps(_body_of(doc)))}
