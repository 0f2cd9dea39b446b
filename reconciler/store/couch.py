"""The CouchDB store (production), on the `couchdb` package's HTTP layer.

This is the only module that imports `couchdb`. It uses the package's `Session` and
`Resource` (connection pool, JSON bodies with the Content-Type pouchdb-server needs,
Basic auth, status-code exceptions) rather than its `Database` class, because
`Database` is weak exactly where the reconciler leans on it: `update()` hides which
document of a batch conflicted behind tuples, views cannot be queried with a
`keys` body plus reduce options, and deleting reads the revision from the ETag
(which pouchdb-server does not set to the revision). Revisions are always read
from response bodies.

Every request has a socket timeout; connection errors and 5xx answers are retried
with jittered exponential backoff; 4xx answers (409 above all) never are.
"""

from __future__ import annotations

import http.client
import random
import time
from collections.abc import Sequence
from typing import Any, NoReturn

import couchdb.http

from reconciler.documents import Doc
from reconciler.errors import Conflict, StoreError, StoreUnavailable
from reconciler.store.interface import Change, Changes, CreateResult, ViewRow, WriteResult
from reconciler.store.url import CouchTarget, couch_target
from reconciler.store.viewquery import ViewQuery
from reconciler.store.views import VIEWS_BY_NAME

TIMEOUT_S = 30.0
RETRIES = 3
BACKOFF_S = 0.2
BACKOFF_MAX_S = 5.0


class _NoCache:
    """Disables the package's ETag cache: ETags are not revisions on pouchdb-server."""

    def get(self, url: str) -> None:
        return None

    def put(self, url: str, response: Any) -> None:
        return None

    def remove(self, url: str) -> None:
        return None


class _TrackingPool(couchdb.http.ConnectionPool):  # type: ignore[misc]
    """The package's pool, remembering connections it handed out: a request that fails
    with a socket error never gives its connection back, so we close it ourselves."""

    def __init__(self, timeout: float) -> None:
        super().__init__(timeout)
        self.handed_out: set[Any] = set()

    def get(self, url: str) -> Any:
        conn = super().get(url)
        self.handed_out.add(conn)
        return conn

    def release(self, url: str, conn: Any) -> None:
        self.handed_out.discard(conn)
        super().release(url, conn)

    def close_handed_out(self) -> None:
        for conn in self.handed_out:
            conn.close()
        self.handed_out.clear()

    def close_all(self) -> None:
        self.close_handed_out()
        for conns in self.conns.values():
            for conn in conns:
                conn.close()
        self.conns.clear()


class _HttpFailure(Exception):
    """A non-retryable HTTP answer, with its status and CouchDB error body."""

    def __init__(self, status: int, error: str, reason: str) -> None:
        super().__init__(status, error, reason)
        self.status, self.error, self.reason = status, error, reason


def _doc_path(doc_id: str) -> list[str]:
    # `_design/x` must keep its slash; any other slash in an id is escaped by Resource.
    if doc_id.startswith("_design/"):
        return ["_design", doc_id[len("_design/") :]]
    return [doc_id]


def _error_parts(exc: couchdb.http.HTTPError) -> tuple[str, str]:
    detail = exc.args[0] if exc.args else ""
    if isinstance(detail, tuple) and len(detail) == 2 and isinstance(detail[0], int):
        detail = detail[1]  # ServerError carries (status, (error, reason))
    if isinstance(detail, tuple) and len(detail) == 2:
        return str(detail[0]), str(detail[1])
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    return "", str(detail).strip()[:200]


_STATUS = {
    couchdb.http.Unauthorized: 401,
    couchdb.http.Forbidden: 403,
    couchdb.http.ResourceNotFound: 404,
    couchdb.http.ResourceConflict: 409,
    couchdb.http.PreconditionFailed: 412,
}


class CouchStore:
    """A `Store` on one CouchDB database (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        create: bool = False,
        timeout: float = TIMEOUT_S,
        retries: int = RETRIES,
    ) -> None:
        self.target: CouchTarget = couch_target(url)
        self._retries = retries
        # retry_delays=[0]: the package retries once at once on a reset pooled connection;
        # everything else goes through our own backoff in `_call`.
        self._session = couchdb.http.Session(timeout=timeout, retry_delays=[0])
        self._session.cache = _NoCache()
        self._pool = _TrackingPool(timeout)
        self._session.connection_pool = self._pool
        self._server = couchdb.http.Resource(self.target.base_url, self._session)
        if self.target.user is not None:
            self._server.credentials = (self.target.user, self.target.password or "")
        self._db = self._server(self.target.db_name)
        self.created_database = False  # True when this open created the database (db init)
        try:
            self._check_server()
            self._check_database(create)
        except BaseException:
            self._pool.close_all()
            raise

    # ---- opening -----------------------------------------------------------------------

    def _check_server(self) -> None:
        try:
            welcome = self._call(self._server, "GET", [])
        except _HttpFailure as exc:
            if exc.status in (401, 403):
                self._fail(exc, "GET /")
            welcome = None
        if not isinstance(welcome, dict) or not (
            "couchdb" in welcome or "express-pouchdb" in welcome
        ):
            raise StoreError(
                f"{self.display_url}: the server is not CouchDB (GET / did not answer"
                " with CouchDB's welcome)"
            )

    def _check_database(self, create: bool) -> None:
        try:
            self._call(self._db, "GET", [])
            return
        except _HttpFailure as exc:
            if exc.status != 404:
                self._fail(exc, "GET database")
        if not create:
            raise StoreError(
                f"{self.display_url}: database {self.target.db_name!r} does not exist;"
                " run `mcprod db init` to create it"
            )
        try:
            self._call(self._db, "PUT", [])
            self.created_database = True
        except _HttpFailure as exc:
            if exc.status != 412:  # 412: created meanwhile by someone else
                self._fail(exc, "create database")

    # ---- HTTP with retries and error mapping -----------------------------------------

    def _call(
        self,
        resource: couchdb.http.Resource,
        method: str,
        path: list[str],
        body: Any = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        """One JSON request. Raises `_HttpFailure` for 4xx answers, `StoreUnavailable`
        once retries on connection errors and 5xx answers are used up."""
        attempt = 0
        while True:
            try:
                _status, _headers, data = resource._request_json(
                    method, path or None, body=body, **(params or {})
                )
                return data
            except couchdb.http.ServerError as exc:
                status, (error, reason) = exc.args[0][0], _error_parts(exc)
                if status < 500:
                    raise _HttpFailure(status, error, reason) from None
                problem = f"server error {status} ({error}: {reason})"
            except couchdb.http.HTTPError as exc:
                error, reason = _error_parts(exc)
                raise _HttpFailure(_STATUS.get(type(exc), 400), error, reason) from None
            except TypeError:
                # The package fails this way on an error answer without a Content-Type,
                # which CouchDB never sends: whatever answered is not CouchDB.
                self._pool.close_handed_out()
                raise _HttpFailure(0, "bad_answer", "error answer without a content type") from None
            except (OSError, http.client.HTTPException) as exc:
                self._pool.close_handed_out()
                problem = f"cannot reach the server ({str(exc) or type(exc).__name__})"
            if attempt >= self._retries:
                raise StoreUnavailable(
                    f"{self.display_url}: {problem}; gave up after {attempt + 1} attempts"
                )
            delay = min(BACKOFF_MAX_S, BACKOFF_S * 2**attempt)
            time.sleep(random.uniform(delay / 2, delay))  # jitter: racing clients spread out
            attempt += 1

    def _fail(self, exc: _HttpFailure, action: str) -> NoReturn:
        """Turn an unexpected HTTP answer into one clear line."""
        if exc.status == 401 and self.target.user is None:
            raise StoreError(
                f"{self.display_url}: the server requires a login (401 {exc.reason});"
                " set MCPROD_DB_USER/MCPROD_DB_PASSWORD or MCPROD_DB_CREDENTIALS"
            )
        if exc.status == 401:
            raise StoreError(
                f"{self.display_url}: authentication failed for user {self.target.user!r}"
                f" (401 {exc.reason});"
                " check MCPROD_DB_USER/MCPROD_DB_PASSWORD or MCPROD_DB_CREDENTIALS"
            )
        if exc.status == 403:
            raise StoreError(
                f"{self.display_url}: user {self.target.user!r} may not {action}"
                f" (403 {exc.reason})"
            )
        if exc.status == 404 and exc.reason in ("no_db_file", "Database does not exist."):
            raise StoreError(
                f"{self.display_url}: database {self.target.db_name!r} does not exist;"
                " run `mcprod db init` to create it"
            )
        raise StoreError(
            f"{self.display_url}: {action} failed ({exc.status} {exc.error}: {exc.reason})"
        )

    # ---- Store protocol ----------------------------------------------------------------

    @property
    def display_url(self) -> str:
        return self.target.display_url

    def close(self) -> None:
        self._pool.close_all()

    def get(self, doc_id: str) -> Doc | None:
        try:
            doc: Doc = self._call(self._db, "GET", _doc_path(doc_id))
        except _HttpFailure as exc:
            if exc.status == 404 and exc.reason not in ("no_db_file", "Database does not exist."):
                return None
            self._fail(exc, f"read {doc_id}")
        return doc

    def get_many(self, doc_ids: Sequence[str]) -> list[Doc | None]:
        if not doc_ids:
            return []
        try:
            answer = self._call(
                self._db, "POST", ["_all_docs"], {"keys": list(doc_ids)}, {"include_docs": "true"}
            )
        except _HttpFailure as exc:
            self._fail(exc, "read documents")
        return [row.get("doc") if "error" not in row else None for row in answer["rows"]]

    def create(self, doc: Doc) -> CreateResult:
        body = {k: v for k, v in doc.items() if k != "_rev"}
        doc_id = body["_id"]
        for _ in range(3):
            try:
                answer = self._call(self._db, "PUT", _doc_path(doc_id), body)
                return CreateResult(created=True, doc={**body, "_rev": answer["rev"]})
            except _HttpFailure as exc:
                if exc.status != 409:
                    self._fail(exc, f"create {doc_id}")
            existing = self.get(doc_id)
            if existing is not None:
                return CreateResult(created=False, doc=existing)
        raise StoreError(f"{self.display_url}: {doc_id} keeps appearing and vanishing")

    def update(self, doc: Doc) -> Doc:
        doc_id = doc["_id"]
        if not doc.get("_rev"):
            raise ValueError(f"update of {doc_id} needs its _rev")
        try:
            answer = self._call(self._db, "PUT", _doc_path(doc_id), doc)
        except _HttpFailure as exc:
            if exc.status == 409:
                raise Conflict(doc_id) from None
            self._fail(exc, f"update {doc_id}")
        return {**doc, "_rev": answer["rev"]}

    def bulk_create(self, docs: Sequence[Doc]) -> list[WriteResult]:
        return self._bulk([{k: v for k, v in d.items() if k != "_rev"} for d in docs])

    def bulk_update(self, docs: Sequence[Doc]) -> list[WriteResult]:
        return self._bulk(list(docs))

    def _bulk(self, docs: list[Doc]) -> list[WriteResult]:
        if not docs:
            return []
        try:
            answer = self._call(self._db, "POST", ["_bulk_docs"], {"docs": docs})
        except _HttpFailure as exc:
            self._fail(exc, "bulk write")
        return [
            WriteResult(item["id"], True, rev=item["rev"])
            if "error" not in item
            else WriteResult(item["id"], False, error=item["error"], reason=item.get("reason"))
            for item in answer
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
        design, _, view_name = name.partition("/")
        spec = VIEWS_BY_NAME.get(view_name)
        if design != "mcprod" or spec is None:
            raise StoreError(f"{self.display_url}: no view named {name}")
        query = ViewQuery.build(
            name, key=key, keys=keys, startkey=startkey, endkey=endkey, reduce=reduce,
            group_level=group_level, include_docs=include_docs, limit=limit, skip=skip,
            descending=descending, has_reduce=spec.reduce is not None,
        )
        path = ["_design", design, "_view", view_name]
        params = query.http_params()
        if stale_ok:  # answer now, index the latest writes after (CouchDB and pouchdb-server)
            params["stale"] = "update_after"
        try:
            if query.keys is not None:
                answer = self._call(
                    self._db, "POST", path, {"keys": list(query.keys)}, params
                )
            else:
                answer = self._call(self._db, "GET", path, None, params)
        except _HttpFailure as exc:
            if exc.status == 404 and exc.reason not in ("no_db_file", "Database does not exist."):
                raise StoreError(
                    f"{self.display_url}: view {name} is not installed; run `mcprod db init`"
                ) from None
            self._fail(exc, f"query {name}")
        return [
            ViewRow(row.get("id"), row.get("key"), row.get("value"), row.get("doc"))
            for row in answer["rows"]
        ]

    def changes(
        self, since: str | None = None, limit: int | None = None, include_docs: bool = False
    ) -> Changes:
        params = {"since": since or "0"}
        if limit is not None:
            params["limit"] = str(limit)
        if include_docs:
            params["include_docs"] = "true"
        try:
            answer = self._call(self._db, "GET", ["_changes"], None, params)
        except _HttpFailure as exc:
            self._fail(exc, "read changes")
        results = tuple(
            Change(
                id=row["id"],
                seq=str(row["seq"]),
                deleted=bool(row.get("deleted")),
                doc=row.get("doc") if include_docs else None,
            )
            for row in answer["results"]
        )
        return Changes(results=results, last_seq=str(answer["last_seq"]))
