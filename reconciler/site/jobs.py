"""Finding the site's job documents: by the site views, then re-read from the documents.

Writes go through `reconciler.store.cas` (compare-and-set).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from reconciler.documents import ACTIVE_STATUSES, Doc
from reconciler.store.cas import PAGE, read_docs
from reconciler.store.interface import Store


def site_job_ids(store: Store, site: str, statuses: Sequence[str]) -> list[str]:
    """Ids of the jobs a view says `site` holds in these statuses (re-read before acting)."""
    rows = store.view(
        "mcprod/jobs_by_site_status", keys=[[site, status] for status in statuses]
    )
    return [row.id for row in rows if row.id is not None]


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
