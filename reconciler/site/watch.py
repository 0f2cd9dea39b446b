"""Which of a site's submitted and running jobs need their documents read this cycle.

A site with 10,000 jobs queued or running in its batch system sees almost all of them
unchanged from one cycle to the next. The site view's rows carry what the backend is
asked with (the batch-system id and the work folder the current attempt was submitted
from), so the backend is asked from the rows alone, and only the documents of jobs
whose state changed (finished, started, forgotten by the backend) are read, checked
as untrusted input and judged by reconciler.site.monitor.

A row that does not look like one of ours (an id or batch-system id of the wrong
shape) is never passed to a backend: its document is read and checked like the
changed ones, so that it is reported with the field at fault.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.backends.base import Backend, BackendState, by_backend
from reconciler.documents import BACKEND_ID_PATTERN, JOB_ID_PATTERN, Doc
from reconciler.errors import BackendError
from reconciler.job.untrusted import Rejected
from reconciler.store.cas import read_docs
from reconciler.store.interface import Store, ViewRow

SITE_VIEW = "mcprod/jobs_by_site_status"
WATCHED = ("submitted", "running")
# The backend for the work folder an attempt was submitted from (None: this cycle's).
BackendAt = Callable[[str | None], Backend]


@dataclass(frozen=True)
class Held:
    """One job the site view says this site holds, as its row tells it."""

    job_id: str
    status: str
    backend_id: str | None
    work_dir: str | None  # the current attempt's work folder, when recorded


@dataclass
class Watched:
    """The jobs to judge (documents read and admitted) and what their backends said."""

    jobs: list[Doc] = field(default_factory=list)
    states: dict[str, BackendState] = field(default_factory=dict)
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def held_from_row(row: ViewRow) -> Held | None:
    """The row as a `Held`, or None when it does not look like one of ours."""
    key, value = row.key, row.value
    if not isinstance(row.id, str) or JOB_ID_PATTERN.fullmatch(row.id) is None:
        return None
    if not isinstance(key, list) or len(key) != 2 or key[1] not in WATCHED:
        return None
    if not isinstance(value, list) or len(value) != 4:
        return None
    backend_id, attempt, last_n, folder = value
    if backend_id is not None and (
        not isinstance(backend_id, str) or BACKEND_ID_PATTERN.fullmatch(backend_id) is None
    ):
        return None
    # As reconciler.site.decisions.recorded_work_dir: only the current attempt's folder.
    recorded = _same_number(attempt, last_n) and isinstance(folder, str) and folder != ""
    return Held(row.id, str(key[1]), backend_id, folder if recorded else None)


def _same_number(a: Any, b: Any) -> bool:
    return a == b and type(a) is not bool and type(b) is not bool and a is not None


def needs_judging(status: str, state: BackendState) -> bool:
    """Whether the backend's answer may change the document: anything but a job still
    pending or running that the document already says is where it is."""
    if state.state == "pending":
        return False
    return not (state.state == "running" and status == "running")


def watch(
    store: Store, site: str, backend_at: BackendAt, rejected: Rejected
) -> Watched:
    """Ask the backends about the site's submitted and running jobs from the view rows;
    read, check and return the documents of the jobs whose state changed."""
    watched = Watched()
    rows = store.view(SITE_VIEW, keys=[[site, status] for status in WATCHED], reduce=False)
    held: list[Held] = []
    suspect: list[str] = []
    for row in rows:
        one = held_from_row(row)
        if one is None:
            if isinstance(row.id, str):
                suspect.append(row.id)
        elif one.backend_id is not None:
            held.append(one)
    by_row = {one.job_id: one for one in held}
    for backend, group in by_backend(held, lambda one: backend_at(one.work_dir)):
        try:
            answer = backend.states([str(one.backend_id) for one in group])
        except BackendError as exc:
            watched.errors.append(f"monitor: cannot ask the backend, jobs left alone: {exc}")
            continue
        for one in group:
            watched.states[one.job_id] = answer.get(str(one.backend_id), BackendState("unknown"))
    changed = [
        one.job_id for one in held
        if one.job_id in watched.states and needs_judging(one.status, watched.states[one.job_id])
    ]
    watched.unchanged = len(watched.states) - len(changed)
    for doc in read_docs(store, [*changed, *suspect]):
        if doc.get("site") != site or doc.get("status") not in WATCHED:
            continue  # moved on since the view was read
        if not rejected.admit(doc):
            continue
        seen = by_row.get(str(doc["_id"]))
        if seen is None or doc.get("backend_id") != seen.backend_id:
            continue  # resubmitted meanwhile, or a row that did not look like ours
        watched.jobs.append(doc)
    return watched

