"""Jobs for triage: a filtered list with each job's last reason, and every failed attempt.

The list starts from the narrowest view the filter allows (campaign, status, site)
and reads only those documents. Failed attempts come from the `failed_attempts`
view (one row per failed attempt, kept after a retry succeeded), so grouping
failures never reads a job document.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.documents import Doc, natural_key
from reconciler.store.cas import read_docs
from reconciler.store.interface import Store, ViewRow


@dataclass(frozen=True)
class JobFilter:
    label: str | None = None
    module: str | None = None  # glob
    statuses: tuple[str, ...] = ()
    site: str | None = None
    runs: tuple[int, int] | None = None  # inclusive

    def module_matches(self, module: Any) -> bool:
        return self.module is None or fnmatch.fnmatchcase(str(module), self.module)

    def run_matches(self, run: Any) -> bool:
        if self.runs is None:
            return True
        return isinstance(run, int) and self.runs[0] <= run <= self.runs[1]

    def matches(self, job: Mapping[str, Any]) -> bool:
        return (
            job.get("type") == "job"
            and (self.label is None or job.get("campaign") == self.label)
            and self.module_matches(job.get("module"))
            and (not self.statuses or job.get("status") in self.statuses)
            and (self.site is None or job.get("site") == self.site)
            and self.run_matches(job.get("run"))
        )


@dataclass(frozen=True)
class JobLine:
    id: str
    campaign: str
    module: str
    run: int | None
    status: str
    site: str | None
    attempt: int
    reason: str | None
    updated_at: str | None


def _candidate_rows(store: Store, wanted: JobFilter) -> list[ViewRow]:
    if wanted.label:
        return store.view("mcprod/jobs_by_campaign", startkey=[wanted.label],
                          endkey=[wanted.label, {}])
    if wanted.site:
        return store.view("mcprod/jobs_by_site_status", reduce=False, startkey=[wanted.site],
                          endkey=[wanted.site, {}])
    if wanted.statuses:
        return [
            row
            for status in wanted.statuses
            for row in store.view("mcprod/jobs_by_status_module", startkey=[status],
                                  endkey=[status, {}], reduce=False)
        ]
    return store.view("mcprod/jobs_by_status_module", reduce=False)


def _line(doc: Doc) -> JobLine:
    run = doc.get("run")
    attempt = doc.get("attempt")
    reason = doc.get("reason")
    return JobLine(
        id=str(doc["_id"]),
        campaign=str(doc.get("campaign")),
        module=str(doc.get("module")),
        run=run if isinstance(run, int) else None,
        status=str(doc.get("status")),
        site=doc.get("site") if isinstance(doc.get("site"), str) else None,
        attempt=attempt if isinstance(attempt, int) else 0,
        reason=reason if isinstance(reason, str) else None,
        updated_at=doc.get("updated_at") if isinstance(doc.get("updated_at"), str) else None,
    )


def list_jobs(store: Store, wanted: JobFilter) -> list[JobLine]:
    """The jobs the filter selects, read from their documents, in natural id order
    (run 1000 before run 10000)."""
    ids = sorted({row.id for row in _candidate_rows(store, wanted) if row.id is not None})
    return sorted((_line(doc) for doc in read_docs(store, ids) if wanted.matches(doc)),
                  key=lambda line: natural_key(line.id))


@dataclass(frozen=True)
class FailedAttempt:
    job_id: str
    campaign: str
    module: str
    reason: str
    site: str | None
    run: int | None
    attempt: int | None
    finished_at: str | None
    job_status: str | None  # the job's status now (failed: not retried yet or given up)


def _attempt(row: ViewRow) -> FailedAttempt | None:
    key, value = row.key, row.value
    if row.id is None or not isinstance(key, list) or len(key) != 3:
        return None
    site, run, number, finished, status = (
        (value + [None] * 5)[:5] if isinstance(value, list) else [None] * 5
    )
    return FailedAttempt(
        job_id=row.id,
        campaign=str(key[0]),
        module=str(key[1]),
        reason=key[2] if isinstance(key[2], str) and key[2] else "(no reason recorded)",
        site=site if isinstance(site, str) else None,
        run=run if isinstance(run, int) else None,
        attempt=number if isinstance(number, int) else None,
        finished_at=finished if isinstance(finished, str) else None,
        job_status=status if isinstance(status, str) else None,
    )


def failed_attempts(store: Store, wanted: JobFilter) -> list[FailedAttempt]:
    """Every failed attempt of the selected jobs (a job retried to success still counts)."""
    if wanted.label:
        rows = store.view("mcprod/failed_attempts", startkey=[wanted.label],
                          endkey=[wanted.label, {}])
    else:
        rows = store.view("mcprod/failed_attempts")
    found = []
    for row in rows:
        attempt = _attempt(row)
        if attempt is None or not wanted.module_matches(attempt.module):
            continue
        if wanted.site is not None and attempt.site != wanted.site:
            continue
        if not wanted.run_matches(attempt.run):
            continue
        if wanted.statuses and attempt.job_status not in wanted.statuses:
            continue
        found.append(attempt)
    return found


def read_job(store: Store, job_id: str) -> tuple[Doc | None, list[Doc]]:
    """A job document and the data documents its completed attempt wrote."""
    job = store.get(job_id)
    if job is None:
        return None, []
    data = [
        row.doc
        for row in store.view("mcprod/data_by_label", include_docs=True,
                              startkey=[job.get("campaign"), job.get("module"), job.get("run")],
                              endkey=[job.get("campaign"), job.get("module"), job.get("run"), {}])
        if row.doc is not None and row.doc.get("job_id") == job_id
    ] if isinstance(job.get("campaign"), str) else []
    unique = {str(doc["_id"]): doc for doc in data}
    return job, [unique[key] for key in sorted(unique)]
