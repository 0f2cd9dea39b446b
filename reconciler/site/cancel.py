"""Stop the batch jobs of jobs an operator cancelled (`mcprod cancel`).

The operator command can run anywhere, but only the site can reach its backend:
it marks the attempt `cancel_requested`, and the site's cycle calls the backend's
cancel and records that it did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from reconciler.backends.base import Backend, BackendOf
from reconciler.documents import Doc
from reconciler.errors import BackendError
from reconciler.job.untrusted import Rejected
from reconciler.site.decisions import cancel_done
from reconciler.site.jobs import site_tasks
from reconciler.store.cas import cas_apply, guarded
from reconciler.store.interface import Store


def requested_cancellations(jobs: Iterable[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """Cancelled jobs whose batch job the site still has to stop."""
    return [
        job
        for job in jobs
        if job.get("status") == "cancelled"
        and (job.get("attempts") or [{}])[-1].get("status") == "cancel_requested"
    ]


@dataclass
class CancelResult:
    stopped: int = 0
    errors: list[str] = field(default_factory=list)


def _still_requested(job: Doc) -> Any:
    def check(fresh: Doc) -> bool:
        return bool(requested_cancellations([fresh])) and fresh.get("attempt") == job.get(
            "attempt"
        )

    return check


def stop_cancelled(
    store: Store,
    backend: Backend,
    site: str,
    now: dt.datetime,
    *,
    dry_run: bool = False,
    rejected: Rejected | None = None,
    backend_of: BackendOf | None = None,
) -> CancelResult:
    result = CancelResult()
    for job in requested_cancellations(site_tasks(store, "cancels_to_stop", site, rejected)):
        doc = dict(job)
        backend_id = doc.get("backend_id")
        try:
            if backend_id and not dry_run:
                (backend_of(doc) if backend_of else backend).cancel(str(backend_id))
        except BackendError as exc:
            result.errors.append(f"{doc['_id']}: cancel in the batch system failed: {exc}")
            continue
        outcome = f"stopped {backend_id}" if backend_id else "was not submitted yet"
        if dry_run or cas_apply(
            store, doc, guarded(_still_requested(doc), partial(cancel_done, now=now,
                                                               outcome=outcome))
        ):
            result.stopped += 1
    return result
