"""The Store contract: what the reconciler needs from a document database.

Documents are JSON objects with `_id` and `_rev` (CouchDB revision form `N-hash`).
Every implementation passes the same contract tests (tests/integration/test_store_contract.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from reconciler.documents import Doc


@dataclass(frozen=True)
class CreateResult:
    """`created` is False when a document with that id already existed; `doc` is then
    the existing document (as stored), else the new one with its `_rev`."""

    created: bool
    doc: Doc


@dataclass(frozen=True)
class WriteResult:
    """Per-document outcome of a bulk write. `error` is "conflict" for a lost CAS."""

    id: str
    ok: bool
    rev: str | None = None
    error: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ViewRow:
    id: str | None
    key: Any
    value: Any
    doc: Doc | None = None


@dataclass(frozen=True)
class Change:
    id: str
    seq: str
    deleted: bool = False
    doc: Doc | None = None


@dataclass(frozen=True)
class Changes:
    results: tuple[Change, ...]
    last_seq: str


class Store(Protocol):
    """A document store with compare-and-set semantics and CouchDB-style views.

    View names are `"<design>/<view>"` as defined in `reconciler.store.views`.
    """

    @property
    def display_url(self) -> str:
        """The store's URL with any password masked, safe to print and log."""
        ...

    def get(self, doc_id: str) -> Doc | None: ...

    def get_many(self, doc_ids: Sequence[str]) -> list[Doc | None]: ...

    def create(self, doc: Doc) -> CreateResult:
        """Create if absent; never overwrites."""
        ...

    def update(self, doc: Doc) -> Doc:
        """Compare-and-set on `doc["_rev"]`; returns the doc with its new `_rev`.
        Raises `reconciler.errors.Conflict` when the revision is stale."""
        ...

    def bulk_create(self, docs: Sequence[Doc]) -> list[WriteResult]: ...

    def bulk_update(self, docs: Sequence[Doc]) -> list[WriteResult]: ...

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
        """Query a named view. `None` for key/startkey/endkey means "not given"
        (a JSON null key cannot be queried, and the views never emit one).

        `stale_ok`: the answer may predate the latest writes (CouchDB answers from
        its index as it is and updates it afterwards): only for counts a person reads,
        never for reservation or planning. The SQLite store is never stale."""
        ...

    def changes(self, since: str | None = None, limit: int | None = None,
                include_docs: bool = False) -> Changes: ...

    def close(self) -> None: ...
