"""Finding the site's job documents: by the site views, then re-read from the documents.

Writes go through `reconciler.store.cas` (compare-and-set).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from reconciler.documents import ACTIVE_STATUSES, Doc
from reconciler.job.untrusted import Rejected
from reconciler.store.cas import PAGE, read_docs
from reconciler.store.interface import Store


def site_job_ids(store: Store, site: str, statuses: Sequence[str]) -> list[str]:
    """Ids of the jobs a view says `site` holds in these statuses (re-read before acting)."""
    rows = store.view(
        "mcprod/jobs_by_site_status", keys=[[site, status] for status in statuses]
    )
    return [row.id for row in rows if row.id is not None]


def site_jobs(
    store: Store, site: str, statuses: Sequence[str], rejected: Rejected | None = None
) -> list[Doc]:
    """Jobs that really are held by `site` in these statuses, read from the documents;
    a document that fails the checks of reconciler.job.untrusted is left out (and
    noted in `rejected`): nothing acts on it."""
    wanted = set(statuses)
    seen = rejected if rejected is not None else Rejected()
    return [
        doc
        for doc in read_docs(store, site_job_ids(store, site, statuses))
        if doc.get("site") == site and doc.get("status") in wanted and seen.admit(doc)
    ]


def site_tasks(
    store: Store, view: str, site: str, rejected: Rejected | None = None
) -> list[Doc]:
    """Jobs that a task view (`failed_to_judge`, `cancels_to_stop`) lists for `site`,
    read from the documents: only the jobs with something to do, never all of the
    site's failed or cancelled jobs ever. Callers re-check each document; one that
    fails the checks of reconciler.job.untrusted is left out (noted in `rejected`)."""
    rows = store.view(f"mcprod/{view}", key=[site])
    ids = [row.id for row in rows if row.id is not None]
    seen = rejected if rejected is not None else Rejected()
    return [doc for doc in read_docs(store, ids) if doc.get("site") == site and seen.admit(doc)]


def count_active(store: Store, site: str) -> int:
    return len(site_job_ids(store, site, ACTIVE_STATUSES))


def waiting_in_queue_order(store: Store) -> Iterator[Doc]:
    """Waiting, unpaused jobs in submission order (priority, age), page by page.

    Each page starts at the last key seen (keys end with the doc id, so they are
    unique): a page costs the same at the end of a long queue as at its head, where
    `skip` would make the store walk past every row before it."""
    after: Any = None
    while True:
        rows = store.view("mcprod/waiting_jobs", include_docs=True, limit=PAGE + 1,
                          startkey=after)
        if after is not None and rows and rows[0].key == after:
            rows = rows[1:]  # the last row of the previous page
        page = rows[:PAGE]
        if not page:
            return
        for row in page:
            if row.doc is not None:
                yield row.doc
        after = page[-1].key
