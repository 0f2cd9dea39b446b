"""Reserve, then submit, then record (DESIGN.md invariant 4).

1. Reserve: compare-and-set each chosen waiting job to `reserved` by this site
   for attempt n+1, in bulk. A lost write means another reconciler took the job:
   it is simply not ours this cycle.
2. Submit the reserved jobs with the attempt's name `<job id>.a<n>`.
3. Record the backend id (`submitted`). If the document changed meanwhile (an
   operator cancelled it, a stale-site release), it is re-read; when it is no
   longer this attempt's, the backend job is cancelled so that an attempt never
   runs twice.

A crash between 1 and 2 or 2 and 3 leaves `reserved` documents, which the next
cycle resolves by name (reconciler.site.recovery).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from reconciler.backends.base import Backend, SubmitSpec
from reconciler.documents import Doc
from reconciler.errors import BackendError, McprodError
from reconciler.faults import crash_point
from reconciler.site.decisions import mark_submitted, release, reserve
from reconciler.store.cas import bulk_cas, cas_apply, guarded
from reconciler.store.interface import Store

PrepareSpec = Callable[[Doc], SubmitSpec]
BATCH = 500


@dataclass
class SubmitCounts:
    reserved: int = 0
    lost_races: int = 0
    submitted: int = 0
    released: int = 0
    cancelled_after_losing: int = 0
    errors: list[str] = field(default_factory=list)


def _is_our_reservation(reserved: Doc) -> Callable[[Doc], bool]:
    def check(fresh: Doc) -> bool:
        return (
            fresh.get("status") == "reserved"
            and fresh.get("site") == reserved.get("site")
            and fresh.get("backend_name") == reserved.get("backend_name")
        )

    return check


def submit_jobs(
    store: Store,
    backend: Backend,
    chosen: Sequence[Doc],
    *,
    site: str,
    prepare: PrepareSpec,
    clock: Callable[[], dt.datetime],
    where: Mapping[str, str] | None = None,
) -> SubmitCounts:
    """`where` ({"host", "work_dir"}) is recorded on each attempt (see `reserve`)."""
    result = SubmitCounts()
    for start in range(0, len(chosen), BATCH):
        _submit_batch(
            store, backend, chosen[start : start + BATCH], site, prepare, clock, result, where
        )
    return result


def _submit_batch(
    store: Store,
    backend: Backend,
    batch: Sequence[Doc],
    site: str,
    prepare: PrepareSpec,
    clock: Callable[[], dt.datetime],
    result: SubmitCounts,
    where: Mapping[str, str] | None,
) -> None:
    now = clock()
    reserved, lost = bulk_cas(store, [reserve(job, site, now, where) for job in batch])
    result.reserved += len(reserved)
    result.lost_races += len(lost)
    crash_point("after-reserve")

    specs: list[SubmitSpec] = []
    ready: list[Doc] = []
    for job in reserved:
        try:
            specs.append(prepare(job))
            ready.append(job)
        except (McprodError, OSError) as exc:
            reason = f"cannot prepare the job script: {exc}"
            _release(store, job, reason, clock(), result)
            result.errors.append(f"{job['_id']}: {reason}")
    try:
        outcomes = backend.submit_many(specs) if specs else []
    except BackendError as exc:
        # Some may have reached the batch system: never guess. The reservations stay,
        # and the next cycle's recovery looks each name up (adopt or release).
        result.errors.append(
            f"submission stopped: {exc}; {len(specs)} reservations left for recovery by name"
        )
        return
    crash_point("after-submit")

    now = clock()
    records: list[Doc] = []
    for job, outcome in zip(ready, outcomes, strict=True):
        if outcome.backend_id is None:
            reason = f"submission failed: {outcome.error}"
            _release(store, job, reason, now, result)
            result.errors.append(f"{job['_id']}: {reason}")
        else:
            records.append(mark_submitted(job, outcome.backend_id, now))
    written, lost_records = bulk_cas(store, records)
    result.submitted += len(written)
    by_id = {str(doc["_id"]): doc for doc in records}
    for job_id in lost_records:
        _record_after_conflict(store, backend, by_id[job_id], now, result)


def _record_after_conflict(
    store: Store, backend: Backend, record: Doc, now: dt.datetime, result: SubmitCounts
) -> None:
    """The reserved document changed between reserve and record: re-read it."""
    ours = _is_our_reservation(record)
    backend_id = str(record["backend_id"])
    fresh = store.get(str(record["_id"]))
    decide = guarded(ours, partial(mark_submitted, backend_id=backend_id, now=now))
    written = cas_apply(store, fresh, decide) if fresh is not None else None
    if written is not None:
        result.submitted += 1
        return
    # Not ours any more: this attempt must not run.
    try:
        backend.cancel(backend_id)
        result.cancelled_after_losing += 1
    except BackendError as exc:
        result.errors.append(f"{record['_id']}: lost its reservation, cancel failed: {exc}")


def _release(store: Store, job: Doc, reason: str, now: dt.datetime, result: SubmitCounts) -> None:
    decide = guarded(_is_our_reservation(job), partial(release, reason=reason, now=now))
    if cas_apply(store, job, decide):
        result.released += 1
