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
import heapq
import json
import os
import sqlite3
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import compress
from operator import ne
from pathlib import Path
from typing import Any

from reconciler.documents import Doc
from reconciler.errors import Conflict, StoreError
from reconciler.store.collate import MAX_TEXT, decode_text, sort_text
from reconciler.store.interface import Change, Changes, CreateResult, ViewRow, WriteResult
from reconciler.store.viewcols import (
    COLUMN_VIEWS,
    COLUMNS,
    FLAG_COLUMNS,
    ColumnView,
    columns_of,
    counted_keys,
)
from reconciler.store.viewquery import ViewQuery, reduce_count
from reconciler.store.viewrows import VIEW_NUMBER, ViewRowTuple, stored_value, view_rows_of
from reconciler.store.views import DESIGN_ID, VIEWS_BY_NAME, design_document

BUSY_TIMEOUT_S = 60.0
_CONFLICT = "Document update conflict."
_IDS_PER_QUERY = 500  # well under SQLite's limit on bound parameters
_REBUILD_CHUNK = 5000  # documents read at a time when the view rows are rebuilt
# How view rows are stored; bump it when `view_rows` changes shape.
_ROWS_FORMAT = "write-time-7"
# The `_count` views' rows per key, changed with each document write (viewcols.counted_keys).
_VIEW_COUNTS_SCHEMA = """CREATE TABLE view_counts (
    view INTEGER NOT NULL,
    key  TEXT NOT NULL,
    n    INTEGER NOT NULL,
    PRIMARY KEY (view, key)
) WITHOUT ROWID"""
# Changes whenever a view definition or the rows' format changes: the rows are rebuilt.
VIEWS_VERSION = hashlib.sha256(
    (json.dumps(design_document(), sort_keys=True) + _ROWS_FORMAT).encode("utf-8")
).hexdigest()

def _docs_schema(table: str) -> str:
    """The documents, with the element and flag columns of reconciler.store.viewcols."""
    columns = "".join(
        f",\n    {name} {'INTEGER' if name in FLAG_COLUMNS else 'TEXT'}" for name in COLUMNS
    )
    # `seq` is not the rowid: an update gives a document a new sequence number, and a
    # new rowid would move its entry in every view index; a row that keeps its rowid
    # has only the indexes of the columns that changed rewritten (see `_put`).
    return f"""CREATE TABLE IF NOT EXISTS {table} (
    seq  INTEGER NOT NULL,  -- the change sequence: the changes feed is `seq` order
    id   TEXT NOT NULL UNIQUE,
    rev  TEXT NOT NULL,
    body TEXT NOT NULL,
    rows_sig TEXT NOT NULL,  -- `_rows_signature` of its `view_rows`: '' when it has none{columns}
)"""


_META_SCHEMA = "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
# The multi-row views' rows (one per label, one per attempt...): the other views are
# indexes on the docs table (reconciler.store.viewcols). Dropped, recreated and refilled
# from `docs` when VIEWS_VERSION changes.
_VIEW_ROWS_SCHEMA = """CREATE TABLE view_rows (
    view  INTEGER NOT NULL,  -- position in reconciler.store.views.VIEWS
    key   TEXT NOT NULL,     -- collation string: the order, and the key itself
    id    TEXT NOT NULL,
    n     INTEGER NOT NULL,  -- the document's n-th row in this view
    value TEXT NOT NULL,     -- JSON, or '' for a view whose value is a constant
    PRIMARY KEY (view, key, id, n)
) WITHOUT ROWID"""


# One encoder for every write: json.dumps with non-default separators builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)
# For the rare document holding a lone surrogate (valid JSON, not valid UTF-8): escaped.
_ASCII_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)


_INSERT_ROWS = "INSERT INTO view_rows (view, key, id, n, value) VALUES (?, ?, ?, ?, ?)"
_INSERT_DOC = (
    f"INSERT INTO docs (id, rev, seq, body, rows_sig, {', '.join(COLUMNS)})"
    f" VALUES (?, ?, ?, ?, ?{', ?' * len(COLUMNS)})"
)
_POSITIONS = range(len(COLUMNS))  # column positions, to pick the changed ones
_SEQ_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS docs_seq ON docs (seq)"


def _update_sql(changed: tuple[int, ...]) -> str:
    """An update that sets only the view columns that changed: SQLite rewrites an
    index when a column it uses is set, even to the same value."""
    names = ("rev", "seq", "body", "rows_sig", *(COLUMNS[i] for i in changed))
    return f"UPDATE docs SET {', '.join(f'{name} = ?' for name in names)} WHERE rowid = ?"


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def _next_rev(old_rev: str | None, body_json: str) -> str:
    generation = int(old_rev.split("-", 1)[0]) + 1 if old_rev else 1
    digest = hashlib.md5(((old_rev or "") + body_json).encode("utf-8"), usedforsecurity=False)
    return f"{generation}-{digest.hexdigest()}"


def _rows_signature(rows: list[ViewRowTuple]) -> str:
    """What a document's `view_rows` are, in 32 characters: an update compares it with
    the stored one, and parses the old body for its old rows only when they differ
    (a status change mostly leaves them alone)."""
    if not rows:
        return ""
    text = "\x1e".join(f"{view}\x1f{key}\x1f{n}\x1f{value}" for view, key, _, n, value in rows)
    return hashlib.md5(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def _bounds(low: Any, high: Any) -> tuple[str, str]:
    """Collation strings of an inclusive key range; None means unbounded."""
    return (
        "" if low is None else sort_text(low),
        MAX_TEXT if high is None else sort_text(high),
    )


def _body_of(doc: Doc) -> Doc:
    """What is stored: the document without `_rev` (`_id` stays; reads put it first again).
    No copy when there is no `_rev`, as in bulk creates: copying costs more than encoding."""
    return doc if "_rev" not in doc else {k: v for k, v in doc.items() if k != "_rev"}


def _body_json(doc: Doc, encode: Callable[[Any], str]) -> str:
    """`encode(_body_of(doc))`. A document as read (and changed) has `_id` and `_rev` as
    its first members, so `_rev` is cut out of its JSON instead of the dict being copied
    (the copy cost as much as the encoding)."""
    if "_rev" in doc:
        names = iter(doc)
        if next(names) == "_id" and next(names) == "_rev":
            whole = encode(doc)
            head = '{"_id":' + encode(doc["_id"])
            with_rev = head + ',"_rev":' + encode(doc["_rev"])
            if whole.startswith(with_rev):
                return head + whole[len(with_rev) :]
    return encode(_body_of(doc))


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
                cur.execute(_META_SCHEMA)
                cur.execute(_docs_schema("docs"))
                self._refresh_views(cur)
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
        """Rebuild every view when the view definitions changed (a new release, or a file
        written by an older one): the documents are copied into a table with this
        release's view columns, the multi-row views' rows are recomputed and the view
        indexes created, in one pass under the write lock, so no query ever meets a
        half-built view."""
        row = cur.execute("SELECT value FROM meta WHERE name='views_version'").fetchone()
        if row and row[0] == VIEWS_VERSION:
            return  # another process refreshed them first
        cur.execute("DROP TABLE IF EXISTS docs_rebuilt")
        cur.execute(_docs_schema("docs_rebuilt"))
        cur.execute("DROP TABLE IF EXISTS view_rows")
        cur.execute(_VIEW_ROWS_SCHEMA)
        insert_doc = (
            f"INSERT INTO docs_rebuilt (seq, id, rev, body, rows_sig, {', '.join(COLUMNS)})"
            f" VALUES (?, ?, ?, ?, ?{', ?' * len(COLUMNS)})"
        )
        after = 0
        while True:
            chunk = cur.execute(
                "SELECT seq, id, rev, body FROM docs WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, _REBUILD_CHUNK),
            ).fetchall()
            if not chunk:
                break
            rows: list[ViewRowTuple] = []
            docs = []
            for seq, doc_id, rev, body in chunk:
                doc = {"_id": doc_id, **json.loads(body)}
                doc_rows = view_rows_of(doc)
                rows.extend(doc_rows)
                docs.append((seq, doc_id, rev, body, _rows_signature(doc_rows), *columns_of(doc)))
            cur.executemany(insert_doc, docs)
            cur.executemany(_INSERT_ROWS, rows)
            after = chunk[-1][0]
        cur.execute("DROP TABLE docs")
        cur.execute("ALTER TABLE docs_rebuilt RENAME TO docs")
        cur.execute(_SEQ_INDEX)
        cur.execute("DROP TABLE IF EXISTS view_counts")
        cur.execute(_VIEW_COUNTS_SCHEMA)
        for view in COLUMN_VIEWS.values():
            if view.indexed:
                cur.execute(view.index_sql())
            if view.counted:
                cur.execute(view.count_fill_sql())
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
        stored: dict[str, tuple[str, str]] = {}
        wanted = list(dict.fromkeys(doc_ids))
        with self._read() as cur:  # one snapshot, a few hundred ids per query
            for start in range(0, len(wanted), _IDS_PER_QUERY):
                chunk = wanted[start : start + _IDS_PER_QUERY]
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT id, rev, body FROM docs WHERE id IN ({marks})"
                for doc_id, rev, body in cur.execute(sql, chunk):
                    stored[doc_id] = (rev, body)
        return [
            {"_id": doc_id, "_rev": stored[doc_id][0], **json.loads(stored[doc_id][1])}
            if doc_id in stored else None
            for doc_id in doc_ids
        ]

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
            stored = self._replaced(cur, [doc["_id"] for doc in docs])
            current = {doc_id: row[0] for doc_id, row in stored.items()}
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
            revs = iter(self._put(cur, accepted, stored))
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
                    counts = self._counts(cur, view, low, high, query.descending)
                    grouped.extend(
                        reduce_count(counts, query.group_level, by_key=ranges is not None)
                    )
                return query.page(grouped)
            if ranges is None:  # one range: SQL does the paging
                rows = self._rows(
                    cur, view, query.low, query.high, query.descending,
                    limit=query.limit, offset=query.skip,
                )
            else:
                rows = []
                for low, high in ranges:
                    rows.extend(self._rows(cur, view, low, high, query.descending))
                rows = query.page(rows)
            if query.include_docs:
                rows = [
                    ViewRow(r.id, r.key, r.value, self._get(cur, r.id) if r.id else None)
                    for r in rows
                ]
            return rows

    def _rows(
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
        """Rows with low <= key <= high (None: unbounded), in view order (key, id, then
        the row's position among the document's rows)."""
        column_view = COLUMN_VIEWS.get(view)
        if column_view is None:
            rows = _table_rows(cur, view, low, high, descending, limit, offset)
        elif not column_view.first_label_only:
            rows = _column_rows(cur, column_view, low, high, descending, limit, offset)
        else:
            # A per-label view: first labels from the index, the others from view_rows.
            enough = None if limit is None else offset + limit
            first = _column_rows(cur, column_view, low, high, descending, enough, 0)
            others = _table_rows(cur, view, low, high, descending, enough, 0)
            rows = list(heapq.merge(first, others, key=_order, reverse=descending))
            rows = rows[offset:enough]
        return [row for _, row in rows]

    def _counts(
        self, cur: sqlite3.Cursor, view: int, low: Any, high: Any, descending: bool
    ) -> list[tuple[Any, int]]:
        """(key, number of rows) for each distinct key in the range, in view order: SQL
        counts, and Python decodes each distinct key once."""
        column_view = COLUMN_VIEWS.get(view)
        if column_view is None:
            counts = _table_counts(cur, view, low, high, descending)
        elif column_view.counted:
            counts = _kept_counts(cur, view, low, high, descending)
        elif not column_view.first_label_only:
            counts = _column_counts(cur, column_view, low, high, descending)
        else:
            merged: dict[str, int] = {}
            for key, n in heapq.merge(
                _column_counts(cur, column_view, low, high, descending),
                _table_counts(cur, view, low, high, descending),
                reverse=descending,
            ):
                merged[key] = merged.get(key, 0) + n
            counts = list(merged.items())
        return [(decode_text(key), n) for key, n in counts]

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

    def _replaced(self, cur: sqlite3.Cursor, doc_ids: list[str]) -> dict[str, tuple[Any, ...]]:
        """The revision, rowid, rows signature and view columns of these documents: which
        revision they are at, where they are, and the rows and counts their views hold."""
        stored: dict[str, tuple[Any, ...]] = {}
        for start in range(0, len(doc_ids), _IDS_PER_QUERY):
            chunk = doc_ids[start : start + _IDS_PER_QUERY]
            marks = ",".join("?" * len(chunk))
            sql = (f"SELECT id, rev, rowid, rows_sig, {', '.join(COLUMNS)} FROM docs"
                   f" WHERE id IN ({marks})")
            stored.update((row[0], row[1:]) for row in cur.execute(sql, chunk))
        return stored

    def _old_rows(
        self, cur: sqlite3.Cursor, rowids: dict[int, list[ViewRowTuple]]
    ) -> list[tuple[set[ViewRowTuple], list[ViewRowTuple]]]:
        """(the stored rows, the new rows) of documents whose rows changed, by rowid: the
        stored rows are computed again from the stored body."""
        pairs = []
        numbers = list(rowids)
        for start in range(0, len(numbers), _IDS_PER_QUERY):
            chunk = numbers[start : start + _IDS_PER_QUERY]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT rowid, id, body FROM docs WHERE rowid IN ({marks})"
            for rowid, doc_id, body in cur.execute(sql, chunk):
                old = set(view_rows_of({"_id": doc_id, **json.loads(body)}))
                pairs.append((old, rowids[rowid]))
        return pairs

    def _put(
        self, cur: sqlite3.Cursor, items: list[tuple[Doc, str | None]],
        stored: dict[str, tuple[Any, ...]] | None = None,
    ) -> list[str]:
        """Write documents whose revisions the caller has checked (against `stored`, the
        `_replaced` rows when it read them); returns their new revisions."""
        seq = cur.execute("SELECT coalesce(max(seq), 0) FROM docs").fetchone()[0]
        inserts = []
        updates: dict[tuple[int, ...], list[tuple[Any, ...]]] = {}
        revs: list[str] = []
        view_rows: list[ViewRowTuple] = []
        counts: Counter[tuple[int, str]] = Counter()
        replaced = stored if stored is not None else self._replaced(
            cur, [doc["_id"] for doc, old_rev in items if old_rev]
        )
        stale: list[tuple[int, str, str, int]] = []
        rows_changed: dict[int, list[ViewRowTuple]] = {}  # by rowid: their new rows
        for doc, old_rev in items:
            body_json = _body_json(doc, _ENCODER.encode)
            try:
                rev = _next_rev(old_rev, body_json)
            except UnicodeEncodeError:
                body_json = _body_json(doc, _ASCII_ENCODER.encode)
                rev = _next_rev(old_rev, body_json)
            seq += 1
            columns = columns_of(doc)
            revs.append(rev)
            new_rows = view_rows_of(doc)
            signature = _rows_signature(new_rows)
            old = replaced.pop(doc["_id"], None) if old_rev else None
            if old is None:
                if old_rev:  # checked in this transaction: cannot be gone
                    raise StoreError(f"{self._display}: {doc['_id']} vanished while written")
                inserts.append((doc["_id"], rev, seq, body_json, signature, *columns))
                counts.update(counted_keys(columns))
                view_rows.extend(new_rows)
                continue
            rowid, old_signature, old_columns = old[1], old[2], old[3:]
            changed = () if old_columns == columns else tuple(
                compress(_POSITIONS, map(ne, old_columns, columns))
            )
            updates.setdefault(changed, []).append(
                (rev, seq, body_json, signature, *(columns[i] for i in changed), rowid)
            )
            if changed:
                counts.subtract(counted_keys(old_columns, changed))
                counts.update(counted_keys(columns, changed))
            if signature != old_signature:
                rows_changed[rowid] = new_rows
        # Only the rows that changed are touched (read before the updates below).
        for old_rows, new_rows in self._old_rows(cur, rows_changed):
            stale.extend(row[:4] for row in old_rows.difference(new_rows))
            view_rows.extend(row for row in new_rows if row not in old_rows)
        if stale:  # the old revisions' rows go in the same transaction
            cur.executemany(
                "DELETE FROM view_rows WHERE view = ? AND key = ? AND id = ? AND n = ?", stale
            )
        cur.executemany(_INSERT_ROWS, view_rows)
        cur.executemany(_INSERT_DOC, inserts)
        for changed, values in updates.items():
            cur.executemany(_update_sql(changed), values)
        cur.executemany(
            "INSERT INTO view_counts (view, key, n) VALUES (?, ?, ?)"
            " ON CONFLICT (view, key) DO UPDATE SET n = n + excluded.n",
            [(view, key, n) for (view, key), n in counts.items() if n],
        )
        return revs

    @staticmethod
    def _stored(doc: Doc, rev: str) -> Doc:
        """The document as a later read returns it (a JSON round trip, `_id` and `_rev` first)."""
        return {"_id": doc["_id"], "_rev": rev, **json.loads(_dumps(_body_of(doc)))}


# A row in view order: (key, doc id, position among the document's rows), and the row.
_Ordered = tuple[tuple[str, str, int], ViewRow]


def _order(row: _Ordered) -> tuple[str, str, int]:
    return row[0]


def _table_rows(
    cur: sqlite3.Cursor, view: int, low: Any, high: Any, descending: bool,
    limit: int | None, offset: int,
) -> list[_Ordered]:
    """Rows of a view stored in `view_rows`."""
    order = "DESC" if descending else "ASC"
    sql = (
        "SELECT key, id, n, value FROM view_rows"
        " WHERE view = ? AND key >= ? AND key <= ?"
        f" ORDER BY key {order}, id {order}, n {order} LIMIT ? OFFSET ?"
    )
    params = (view, *_bounds(low, high), -1 if limit is None else limit, offset)
    return [
        ((key, doc_id, n), ViewRow(doc_id, decode_text(key), stored_value(view, value)))
        for key, doc_id, n, value in cur.execute(sql, params)
    ]


def _column_rows(
    cur: sqlite3.Cursor, view: ColumnView, low: Any, high: Any, descending: bool,
    limit: int | None, offset: int,
) -> list[_Ordered]:
    """Rows of a view that is an index on the document columns (one row per document)."""
    order = "DESC" if descending else "ASC"
    key = view.key_sql
    values = "".join(f", {name}" for name in view.value_columns)
    sql = (
        f"SELECT {key}, id{values} FROM docs"
        f" WHERE {view.flag} = 1 AND {key} >= ? AND {key} <= ?"
        f" ORDER BY {key} {order}, id {order} LIMIT ? OFFSET ?"
    )
    params = (*_bounds(low, high), -1 if limit is None else limit, offset)
    value_of = view.value_of
    return [
        ((row[0], row[1], 0), ViewRow(row[1], decode_text(row[0]), value_of(row[2:], row[1])))
        for row in cur.execute(sql, params)
    ]


def _table_counts(
    cur: sqlite3.Cursor, view: int, low: Any, high: Any, descending: bool
) -> list[tuple[str, int]]:
    order = "DESC" if descending else "ASC"
    sql = (
        "SELECT key, count(*) FROM view_rows WHERE view = ? AND key >= ? AND key <= ?"
        f" GROUP BY key ORDER BY key {order}"
    )
    return cur.execute(sql, (view, *_bounds(low, high))).fetchall()


def _column_counts(
    cur: sqlite3.Cursor, view: ColumnView, low: Any, high: Any, descending: bool
) -> list[tuple[str, int]]:
    order = "DESC" if descending else "ASC"
    key = view.key_sql
    sql = (
        f"SELECT {key}, count(*) FROM docs WHERE {view.flag} = 1 AND {key} >= ? AND {key} <= ?"
        f" GROUP BY {key} ORDER BY {key} {order}"
    )
    return cur.execute(sql, _bounds(low, high)).fetchall()


def _kept_counts(
    cur: sqlite3.Cursor, view: int, low: Any, high: Any, descending: bool
) -> list[tuple[str, int]]:
    """Counts per key of a `_count` view, as its triggers keep them."""
    order = "DESC" if descending else "ASC"
    sql = (
        "SELECT key, n FROM view_counts WHERE view = ? AND key >= ? AND key <= ? AND n > 0"
        f" ORDER BY key {order}"
    )
    return cur.execute(sql, (view, *_bounds(low, high))).fetchall()
