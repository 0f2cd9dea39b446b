"""Finding the site's job documents: by the site views, then re-read from the documents.

Writes go through `reconciler.store.cas` (compare-and-set).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from reconciler.documents import ACTIVE_STATUSES, Doc
from reconciler.job.untrusted import Rejected
from reconciler.store.cas import PAGE, read_docs
from reconciler.store.collate import sort_key
from reconciler.store.interface import Store, ViewRow

WAITING_BY_CAMPAIGN = "mcprod/waiting_by_campaign"


def site_job_ids(store: Store, site: str, statuses: Sequence[str]) -> list[str]:
    """Ids of the jobs a view says `site` holds in these statuses (re-read before acting)."""
    rows = store.view(
        "mcprod/jobs_by_site_status", keys=[[site, status] for status in statuses], reduce=False
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
    """Jobs holding one of the site's slots, counted by the view (no row is read)."""
    rows = store.view(
        "mcprod/jobs_by_site_status", keys=[[site, status] for status in ACTIVE_STATUSES],
        reduce=True,
    )
    return sum(int(row.value) for row in rows)


def _campaign_queue(store: Store, label: str, first_page: int) -> Iterator[ViewRow]:
    """One campaign's queue as view rows (no documents), page by page.

    Each page starts at the last key seen (keys end with the doc id, so they are
    unique): a page costs the same at the end of a long queue as at its head, where
    `skip` would make the store walk past every row before it. Pages start small (a
    site usually wants the head of each queue only) and double up to `PAGE`."""
    after: Any = [label]
    end = [label, {}]
    size = first_page
    while True:
        rows = store.view(WAITING_BY_CAMPAIGN, limit=size + 1, startkey=after, endkey=end)
        if rows and rows[0].key == after:
            rows = rows[1:]  # the last row of the previous page
        page = rows[:size]
        if not page:
            return
        yield from page
        after = page[-1].key
        size = min(PAGE, size * 2)


def _queue_order(row: ViewRow) -> bytes:
    """(-priority, created_at, id) in the view's own collation: the order of one queue."""
    return sort_key(row.key[1:])


def waiting_in_queue_order(
    store: Store, campaigns: Iterable[str], first_page: int = PAGE
) -> Iterator[Doc]:
    """Waiting jobs of `campaigns` in submission order (priority, age, id), read in
    batches that start at `first_page` and double up to `PAGE`.

    Only these campaigns' queues are read (the site passes the campaigns it may run,
    reconciler.site.decisions.eligible_campaigns), and merged on the order each is
    sorted in, so the result is the one global queue order (decisions.queue_key for
    well-formed documents) without reading any other campaign's jobs. The merge runs
    over view rows; documents are read only for the rows the caller gets to."""
    size = max(1, min(first_page, PAGE))
    queues = [_campaign_queue(store, label, size) for label in sorted(set(campaigns))]
    merged = heapq.merge(*queues, key=_queue_order)
    while True:
        ids = [row.id for row in itertools.islice(merged, size) if row.id is not None]
        if not ids:
            return
        yield from (doc for doc in store.get_many(ids) if doc is not None)
        size = min(PAGE, size * 2)
