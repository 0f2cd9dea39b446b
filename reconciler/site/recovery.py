"""Resolve reservations nobody is finishing.

- This site's own `reserved` jobs found at start-up: a previous cycle died between
  reserve and record. The backend is asked for the attempt's name: if it has it,
  the job is adopted (`submitted` with that id), else released to `waiting`.
- Jobs held by another site whose heartbeat is stale: released only when that
  site's backend cannot be asked from here or does not know the attempt's name;
  the job's `reason` says which it was.

Callers hold the site's submit lock (reconciler.site.lock) while resolving their
own reservations, so a reservation of a live reconciler on this machine is never
mistaken for a dead one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from reconciler.backends.base import Backend, BackendOf, by_backend
from reconciler.documents import ACTIVE_STATUSES, Doc
from reconciler.errors import BackendError
from reconciler.job.untrusted import Rejected
from reconciler.site.decisions import (
    heartbeat_is_stale,
    mark_submitted,
    recovery_action,
    release,
    stale_verdict,
)
from reconciler.site.heartbeat import read_heartbeat
from reconciler.site.jobs import site_jobs
from reconciler.store.cas import cas_apply, guarded
from reconciler.store.interface import Store

# site name -> its backend, or raises BackendError when it cannot be asked from here
BackendFor = Callable[[str], Backend]


@dataclass
class RecoveryResult:
    adopted: int = 0
    released: int = 0
    stale_released: int = 0
    stale_kept: int = 0
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _same_attempt(job: Doc, statuses: Sequence[str]) -> Callable[[Doc], bool]:
    def check(fresh: Doc) -> bool:
        return (
            fresh.get("site") == job.get("site")
            and fresh.get("backend_name") == job.get("backend_name")
            and fresh.get("status") in statuses
        )

    return check


def recover_own_reservations(
    store: Store,
    backend: Backend,
    site: str,
    now: dt.datetime,
    *,
    dry_run: bool = False,
    rejected: Rejected | None = None,
    backend_of: BackendOf | None = None,
) -> RecoveryResult:
    """`backend_of` names the backend holding each job (by its recorded work folder);
    each is asked by name about its own reservations only."""
    result = RecoveryResult()
    jobs = site_jobs(store, site, ["reserved"], rejected)
    for held_by, group in by_backend(jobs, backend_of or (lambda _job: backend)):
        _recover(store, held_by, site, now, group, dry_run, result)
    return result


def _recover(
    store: Store,
    backend: Backend,
    site: str,
    now: dt.datetime,
    jobs: Sequence[Doc],
    dry_run: bool,
    result: RecoveryResult,
) -> None:
    names = [str(job["backend_name"]) for job in jobs]
    try:
        found = backend.find_by_names(names)
    except BackendError as exc:
        result.errors.append(f"recovery: cannot ask the backend, reservations kept: {exc}")
        return
    for job in jobs:
        name = str(job["backend_name"])
        backend_id = found.get(name)
        ours = _same_attempt(job, ("reserved",))
        if recovery_action(job, backend_id) == "adopt":
            decide = guarded(ours, partial(mark_submitted, backend_id=str(backend_id), now=now))
            counter = "adopted"
        else:
            reason = f"reservation {name} of site {site} was never submitted (released at start-up)"
            decide = guarded(ours, partial(release, reason=reason, now=now))
            counter = "released"
        if dry_run or cas_apply(store, job, decide) is not None:
            setattr(result, counter, getattr(result, counter) + 1)


def release_stale_sites(
    store: Store,
    sites: Sequence[str],
    backend_for: BackendFor,
    now: dt.datetime,
    stale_after_s: float,
    *,
    dry_run: bool = False,
    rejected: Rejected | None = None,
) -> RecoveryResult:
    """Release jobs held by the given other sites whose heartbeat is stale."""
    result = RecoveryResult()
    for other in sites:
        heartbeat = read_heartbeat(store, other)
        if not heartbeat_is_stale(heartbeat, now, stale_after_s):
            continue
        held = site_jobs(store, other, ACTIVE_STATUSES, rejected)
        if not held:
            continue
        beat_at = str(heartbeat["heartbeat_at"]) if heartbeat and heartbeat.get(
            "heartbeat_at") else None
        found, error = _ask(backend_for, other, [str(job["backend_name"]) for job in held])
        for job in held:
            present = None if found is None else str(job["backend_name"]) in found
            verdict = stale_verdict(job, present, error, beat_at)
            if not verdict.release:
                result.stale_kept += 1
                continue
            decide = guarded(
                _same_attempt(job, ACTIVE_STATUSES),
                partial(release, reason=verdict.reason, now=now),
            )
            written = dry_run or cas_apply(store, job, decide) is not None
            if written:
                result.stale_released += 1
                result.notes.append(f"{job['_id']}: {verdict.reason}")
    return result


def _ask(
    backend_for: BackendFor, site: str, names: Sequence[str]
) -> tuple[Mapping[str, str] | None, str | None]:
    try:
        return backend_for(site).find_by_names(names), None
    except BackendError as exc:
        return None, str(exc)
