"""Reading and writing job documents for the site cycle.

Ownership is always decided on the document itself, never on a view row: a view
only tells us which ids to read. Writes are compare-and-set; `cas_apply` re-reads
a document after a lost write and asks the same decision again, so two
reconcilers never both act on one job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from reconciler.documents import ACTIVE_STATUSES
from reconciler.errors import Conflict
from reconciler.store.base import Store

Doc = dict[str, Any]
PAGE = 500


def site_job_ids(store: Store, site: str, statuses: Sequence[str]) -> list[str]:
    """Ids of the jobs a view says `site` holds in these statuses (re-read before acting)."""
    rows = store.view(
        "mcprod/jobs_by_site_status", keys=[[site, status] for status in statuses]
    )
    return [row.id for row in rows if row.id is not None]


def read_docs(store: Store, ids: Sequence[str]) -> list[Doc]:
    """The documents for these ids, in batches, skipping any that vanished."""
    docs: list[Doc] = []
    for start in range(0, len(ids), PAGE):
        docs.extend(d for d in store.get_many(list(ids[start : start + PAGE])) if d is not None)
    return docs


def site_jobs(store: Store, site: str, statuses: Sequence[str]) -> list[Doc]:
    """Jobs that really are held by `site` in these statuses, read from the documents."""
    wanted = set(statuses)
    return [
        doc
        for doc in read_docs(store, site_job_ids(store, site, statuses))
        if doc.get("site") == site and doc.get("status") in wanted
    ]


def count_active(store: Store, site: str) -> int:
    return len(site_job_ids(store, site, ACTIVE_STATUSES))


def waiting_in_queue_order(store: Store) -> Iterator[Doc]:
    """Waiting, unpaused jobs in submission order (priority, age), page by page."""
    skip = 0
    while True:
        rows = store.view("mcprod/waiting_jobs", include_docs=True, limit=PAGE, skip=skip)
        for row in rows:
            if row.doc is not None:
                yield row.doc
        if len(rows) < PAGE:
            return
        skip += len(rows)


def cas_apply(
    store: Store, doc: Doc, decide: Callable[[Doc], Doc | None], attempts: int = 5
) -> Doc | None:
    """Write `decide(doc)` by compare-and-set. On a conflict, re-read and decide again
    on the fresh document; `decide` returning None means "leave it alone"."""
    current: Doc | None = doc
    for _ in range(attempts):
        if current is None:
            return None
        new = decide(current)
        if new is None:
            return None
        try:
            return store.update(new)
        except Conflict:
            current = store.get(str(doc["_id"]))
    return None


def bulk_cas(store: Store, docs: Sequence[Doc]) -> tuple[list[Doc], list[str]]:
    """Compare-and-set many documents at once: (written docs with new revs, lost ids)."""
    written: list[Doc] = []
    lost: list[str] = []
    for start in range(0, len(docs), PAGE):
        batch = list(docs[start : start + PAGE])
        for doc, result in zip(batch, store.bulk_update(batch), strict=True):
            if result.ok:
                written.append({**doc, "_rev": result.rev})
            else:
                lost.append(str(doc["_id"]))
    return written, lost


def guarded(
    still_ours: Callable[[Doc], bool], change: Callable[[Doc], Doc]
) -> Callable[[Doc], Doc | None]:
    """A `cas_apply` decision: apply `change` only while the fresh document passes the check."""

    def decide(fresh: Doc) -> Doc | None:
        return change(fresh) if still_ours(fresh) else None

    return decide
