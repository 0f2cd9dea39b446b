"""Read the observed job state the plan needs, with bulk view reads.

One `jobs_by_campaign` range read per campaign gives every job's slot, status and
priority. Two facts are not in that view and are read from the
documents themselves, only for the few jobs where they matter: the event count of a
waiting job that was the last one of its run when it was created (an `n_ev` change
moves the remainder), and the backend id of a reserved job (decides whether it can
still be cancelled).

A campaign re-planned because some of its entries changed (per-entry fingerprints,
reconciler.enqueue.step) has only those entries read, one `jobs_by_campaign` range
[campaign, entry key] each, plus the entries no longer declared that still have live
jobs (their orphans are reported as before); one grouped count over
`jobs_by_campaign_entry_status` says which entries the store holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.enqueue.expand import DesiredCampaign
from reconciler.enqueue.plan import DEAD_STATUSES, ObservedJob
from reconciler.model import EventMode
from reconciler.store.interface import Store, ViewRow

BY_CAMPAIGN = "mcprod/jobs_by_campaign"
COUNTS_BY_CAMPAIGN = "mcprod/jobs_by_campaign_module_status"
COUNTS_BY_ENTRY = "mcprod/jobs_by_campaign_entry_status"
READ_CHUNK = 1000


def labels_in_store(store: Store) -> list[str]:
    rows = store.view(COUNTS_BY_CAMPAIGN, reduce=True, group_level=1)
    return sorted(str(row.key[0]) for row in rows if row.key and isinstance(row.key[0], str))


def _job_from_row(row: ViewRow) -> ObservedJob | None:
    """The job a row describes; None for a row whose document does not have the shape
    the planner writes (documents in the store are untrusted: such a row is left alone,
    and the site cycle reports its document)."""
    try:
        return _convert(row)
    except (TypeError, ValueError):
        return None


def _convert(row: ViewRow) -> ObservedJob:
    campaign, entry_key, index = row.key
    value: dict[str, Any] = row.value or {}
    if isinstance(index, bool) or isinstance(value.get("priority"), bool):
        raise TypeError("a boolean where a number belongs")
    return ObservedJob(
        id=str(row.id),
        campaign=str(campaign),
        entry_key=str(entry_key),
        index=int(index),
        module=str(value.get("module")),
        run=int(value.get("run", 0)),
        pass_=int(value.get("pass", 0)),
        status=str(value.get("status")),
        priority=int(value.get("priority") or 0),
    )


def campaign_jobs(store: Store, label: str) -> list[ObservedJob]:
    rows = store.view(BY_CAMPAIGN, startkey=[label], endkey=[label, {}], reduce=False)
    return _rows_to_jobs(rows)


def _group(entry_key: str, run: int, mode: EventMode) -> tuple[str, int]:
    """Jobs sharing one remainder: the entry in number mode, each run in run_number mode."""
    return (entry_key, run if mode == "run_number" else 0)


def _desired_last(desired: Iterable[DesiredCampaign]) -> set[tuple[str, int, int]]:
    last: dict[tuple[str, int], tuple[str, int, int]] = {}
    for campaign in desired:
        for job in campaign.jobs:
            mode = job.entry.event_mode
            if job.entry.events_per_job is not None:
                last[_group(job.entry.entry_key, job.run, mode)] = job.slot
    return set(last.values())


def _needs_document(
    jobs: Sequence[ObservedJob],
    counted: Mapping[str, EventMode],
    desired_last: set[tuple[str, int, int]],
) -> set[str]:
    """Ids of the jobs whose document must be read (see the module docstring): the
    remainder job as created (last of its group) and the one that is to hold it now."""
    last: dict[tuple[str, int], ObservedJob] = {}
    needed: set[str] = set()
    for job in jobs:
        if job.status == "reserved":
            needed.add(job.id)
        mode = counted.get(job.entry_key)
        if mode is None:
            continue
        if job.status == "waiting" and job.slot in desired_last:
            needed.add(job.id)
        key = _group(job.entry_key, job.run, mode)
        if key not in last or job.index > last[key].index:
            last[key] = job
    needed.update(job.id for job in last.values() if job.status == "waiting")
    return needed


def _with_documents(store: Store, jobs: list[ObservedJob], ids: set[str]) -> list[ObservedJob]:
    if not ids:
        return jobs
    wanted = sorted(ids)
    docs: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), READ_CHUNK):
        for doc in store.get_many(wanted[start : start + READ_CHUNK]):
            if doc is not None:
                docs[doc["_id"]] = doc
    result = []
    for job in jobs:
        doc = docs.get(job.id)
        if doc is None:
            result.append(job)
            continue
        events = doc.get("events")
        result.append(
            ObservedJob(
                id=job.id, campaign=job.campaign, entry_key=job.entry_key, index=job.index,
                module=job.module, run=job.run, pass_=job.pass_, status=str(doc.get("status")),
                priority=job.priority,
                events=int(events) if isinstance(events, int) else None,
                backend_id=doc.get("backend_id") or None,
            )
        )
    return result


def _rows_to_jobs(rows: Iterable[ViewRow]) -> list[ObservedJob]:
    return [job for job in map(_job_from_row, rows) if job is not None]


def campaign_entry_counts(store: Store, label: str) -> list[tuple[Any, dict[str, int]]]:
    """(entry key, status -> jobs) of each entry of one campaign the store holds, from one
    grouped reduce query. Keys are as stored (a planted document's may be any JSON)."""
    counts: dict[str, tuple[Any, dict[str, int]]] = {}
    rows = store.view(COUNTS_BY_ENTRY, startkey=[label], endkey=[label, {}], reduce=True,
                      group_level=4)
    for row in rows:
        _campaign, entry_key, _module, status = row.key
        name = entry_key if isinstance(entry_key, str) else json.dumps(entry_key)
        per = counts.setdefault(name, (entry_key, {}))[1]
        per[str(status)] = per.get(str(status), 0) + int(row.value)
    return list(counts.values())


@dataclass(frozen=True)
class Observation:
    """The jobs read, and for each campaign of which only some entries were read, its
    job counts per status over all its entries and its live jobs that were not read."""

    jobs: list[ObservedJob]
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    live_unread: Mapping[str, int] = field(default_factory=dict)


def _live(per_status: Mapping[str, int]) -> int:
    return sum(n for status, n in per_status.items() if status not in DEAD_STATUSES)


def _entries_jobs(
    store: Store, desired: DesiredCampaign, fresh: frozenset[str]
) -> tuple[list[ObservedJob], dict[str, int], int]:
    """The jobs of the entries of `desired` that must be read: declared entries not in
    `fresh` (applied as declared) and entries no longer declared that still have live
    jobs (orphans, reported as in a whole-campaign read). Also the campaign's counts
    per status and its live jobs left unread."""
    label = desired.label
    entries = campaign_entry_counts(store, label)
    declared = {entry.entry_key for entry in desired.entries}
    totals: dict[str, int] = {}
    wanted: list[Any] = []
    unread = 0
    for key, per in entries:
        for status, n in per.items():
            totals[status] = totals.get(status, 0) + n
        ours = isinstance(key, str)  # any other key is a planted document's
        if not (ours and key in fresh) and ((ours and key in declared) or _live(per) > 0):
            wanted.append(key)
        else:
            unread += _live(per)
    if len(wanted) == len(entries):
        return campaign_jobs(store, label), totals, unread
    jobs: list[ObservedJob] = []
    for key in wanted:
        rows = store.view(BY_CAMPAIGN, startkey=[label, key], endkey=[label, key, {}],
                          reduce=False)
        jobs.extend(_rows_to_jobs(rows))
    return jobs, totals, unread


def observe(
    store: Store,
    desired: Iterable[DesiredCampaign],
    *,
    only_desired: bool = False,
    fresh: Mapping[str, frozenset[str]] | None = None,
) -> Observation:
    """Every job of every campaign in the store, declared or not; with `only_desired`,
    the jobs of the desired campaigns only (a re-plan of the campaigns that changed:
    the others' jobs are not read). `fresh` names, per campaign, the entries already
    applied as declared: their jobs are not read (see `_entries_jobs`)."""
    desired = list(desired)
    fresh = fresh or {}
    counted = {
        entry.entry_key: entry.event_mode
        for campaign in desired
        for entry in campaign.entries
        if entry.events_per_job is not None
    }
    desired_last = _desired_last(desired)
    if only_desired:
        labels = sorted({campaign.label for campaign in desired})
    else:
        labels = sorted(set(labels_in_store(store)))
    by_label = {campaign.label: campaign for campaign in desired}
    observed: list[ObservedJob] = []
    counts: dict[str, dict[str, int]] = {}
    live_unread: dict[str, int] = {}
    for label in labels:
        campaign = by_label.get(label)
        if campaign is not None and fresh.get(label):
            jobs, counts[label], live_unread[label] = _entries_jobs(
                store, campaign, fresh[label]
            )
        else:
            jobs = campaign_jobs(store, label)
        observed.extend(_with_documents(store, jobs, _needs_document(jobs, counted, desired_last)))
    return Observation(observed, counts, live_unread)
