"""Compare desired jobs with observed job documents and return actions as data (pure).

Rules (DESIGN.md invariants 2, 3, 5):
- a desired slot without a job gets a `CreateJob` (a cancelled job keeps its slot);
- a matched job whose priority differs gets an `UpdateJob`; so does a still-waiting
  job whose event count changed (the remainder job after an n_ev change);
- pausing or resuming a campaign writes nothing: its declared state is the only truth
  for paused (the site cycle reads it), so a job's own `paused` field is never compared;
- a job of a `state: cancelled` campaign is cancelled whenever it still can be;
- a job whose entry was removed or changed, or beyond its entry's new count, is an
  orphan; `prune=True` turns the cancellable ones into cancels;
- jobs of campaigns that are no longer declared are only ever reported;
- the prune guard withholds every prune cancel when there are more than `max_cancel`
  of them or when they would leave a campaign without a live job.
Only waiting jobs, and reserved jobs no backend has seen yet, can be cancelled.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.enqueue.expand import DesiredCampaign, DesiredJob

DEAD_STATUSES = frozenset({"cancelled", "deleted"})
DEFAULT_MAX_CANCEL = 1000


@dataclass(frozen=True, slots=True)
class ObservedJob:
    """A job document as the plan needs it. `events` is None when it was not read."""

    id: str
    campaign: str
    entry_key: str
    index: int
    module: str
    run: int
    pass_: int
    status: str
    priority: int
    events: int | None = None
    backend_id: str | None = None

    @property
    def slot(self) -> tuple[str, int, int]:
        return (self.entry_key, self.run, self.index)

    @property
    def live(self) -> bool:
        return self.status not in DEAD_STATUSES

    @property
    def cancellable(self) -> bool:
        return self.status == "waiting" or (self.status == "reserved" and not self.backend_id)


@dataclass(frozen=True, slots=True)
class CreateJob:
    job: DesiredJob

    @property
    def campaign(self) -> str:
        return self.job.campaign

    @property
    def module(self) -> str:
        return self.job.module


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: object
    new: object


@dataclass(frozen=True, slots=True)
class UpdateJob:
    job_id: str
    campaign: str
    module: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True, slots=True)
class CancelJob:
    job_id: str
    campaign: str
    module: str
    reason: str


@dataclass(frozen=True, slots=True)
class Orphan:
    job_id: str
    campaign: str
    module: str
    status: str
    reason: str


Action = CreateJob | UpdateJob | CancelJob


@dataclass(frozen=True)
class Plan:
    creates: tuple[CreateJob, ...] = ()
    updates: tuple[UpdateJob, ...] = ()
    cancels: tuple[CancelJob, ...] = ()
    orphans: tuple[Orphan, ...] = ()
    withheld: tuple[CancelJob, ...] = ()
    refusal: str | None = None
    campaigns: tuple[str, ...] = field(default=())

    @property
    def actions(self) -> tuple[Action, ...]:
        return (*self.creates, *self.updates, *self.cancels)

    @property
    def is_empty(self) -> bool:
        return not (self.creates or self.updates or self.cancels)


ORPHAN_UNDECLARED = "campaign no longer declared"
ORPHAN_ENTRY = "entry removed or changed"
ORPHAN_SURPLUS = "beyond the entry's declared count"
CANCEL_CAMPAIGN = "campaign state: cancelled"


def _changes(want: DesiredJob, have: ObservedJob) -> tuple[FieldChange, ...]:
    changes = []
    if have.priority != want.entry.priority:
        changes.append(FieldChange("priority", have.priority, want.entry.priority))
    if have.events is not None and have.events != want.events and have.status == "waiting":
        changes.append(FieldChange("events", have.events, want.events))
    return tuple(changes)


def _holders(jobs: Iterable[ObservedJob]) -> dict[tuple[str, int, int], ObservedJob]:
    """The job holding each slot: a live one if any, else a cancelled one; lowest pass first.

    A cancelled job keeps its slot, so what an operator or a prune cancelled is never
    re-created behind their back; `mcprod retry` puts it back to waiting."""
    holders: dict[tuple[str, int, int], ObservedJob] = {}
    for job in jobs:
        current = holders.get(job.slot)
        if current is None or (job.live, -job.pass_) > (current.live, -current.pass_):
            holders[job.slot] = job
    return holders


def _plan_campaign(
    desired: DesiredCampaign, observed: Sequence[ObservedJob]
) -> tuple[list[CreateJob], list[UpdateJob], list[CancelJob], list[CancelJob], list[Orphan]]:
    creates: list[CreateJob] = []
    updates: list[UpdateJob] = []
    cancels: list[CancelJob] = []
    prunable: list[CancelJob] = []
    orphans: list[Orphan] = []
    if desired.state == "cancelled":
        for job in sorted(observed, key=lambda j: j.id):
            if job.live and job.cancellable:
                cancels.append(CancelJob(job.id, job.campaign, job.module, CANCEL_CAMPAIGN))
        return creates, updates, cancels, prunable, orphans
    holders = _holders(observed)
    matched: set[tuple[str, int, int]] = set()
    for want in desired.jobs:
        have = holders.get(want.slot)
        if have is None:
            creates.append(CreateJob(want))
            continue
        matched.add(want.slot)
        if not have.live:
            continue
        changes = _changes(want, have)
        if changes:
            updates.append(UpdateJob(have.id, have.campaign, have.module, changes))
    declared_keys = {entry.entry_key for entry in desired.entries}
    # A slot can also have a second live holder (a duplicate left by an older bug or a
    # manual edit); it is surplus too, so the campaign converges to one job per slot.
    extra = [job for job in observed if job.live and holders.get(job.slot) is not job]
    leftovers = [job for slot, job in holders.items() if slot not in matched and job.live]
    for job in sorted([*leftovers, *extra], key=lambda j: j.id):
        reason = ORPHAN_SURPLUS if job.entry_key in declared_keys else ORPHAN_ENTRY
        if job.cancellable:
            prunable.append(CancelJob(job.id, job.campaign, job.module, reason))
        orphans.append(Orphan(job.id, job.campaign, job.module, job.status, reason))
    return creates, updates, cancels, prunable, orphans


def _guard(
    prunable: Sequence[CancelJob],
    live_after: Mapping[str, int],
    max_cancel: int,
) -> str | None:
    if len(prunable) > max_cancel:
        return (
            f"prune refused: it would cancel {len(prunable)} jobs, more than "
            f"--max-cancel {max_cancel}; raise --max-cancel or set the campaign's "
            "state: cancelled"
        )
    emptied = sorted(label for label, count in live_after.items() if count <= 0)
    if emptied:
        return (
            f"prune refused: it would cancel every job of campaign {', '.join(emptied)}; "
            "set the campaign's state: cancelled instead"
        )
    return None


def plan(
    desired: Sequence[DesiredCampaign],
    observed: Iterable[ObservedJob],
    *,
    prune: bool = False,
    max_cancel: int = DEFAULT_MAX_CANCEL,
    live_unread: Mapping[str, int] | None = None,
) -> Plan:
    """The actions that make the store match the declared campaigns.

    `live_unread`: per campaign, its live jobs that were not observed (entries already
    applied as declared, see reconciler.enqueue.observe); the prune guard counts them.
    The result does not depend on the order of `desired` campaigns or `observed` jobs.
    """
    unread = live_unread or {}
    by_campaign: dict[str, list[ObservedJob]] = defaultdict(list)
    for job in observed:
        by_campaign[job.campaign].append(job)
    creates: list[CreateJob] = []
    updates: list[UpdateJob] = []
    cancels: list[CancelJob] = []
    prunable: list[CancelJob] = []
    orphans: list[Orphan] = []
    live_after: dict[str, int] = {}
    declared = {campaign.label for campaign in desired}
    for campaign in sorted(desired, key=lambda c: c.label):
        jobs = by_campaign.get(campaign.label, [])
        c_creates, c_updates, c_cancels, c_prunable, c_orphans = _plan_campaign(campaign, jobs)
        creates += c_creates
        updates += c_updates
        cancels += c_cancels
        orphans += c_orphans
        if prune and c_prunable:
            prunable += c_prunable
            live = sum(1 for job in jobs if job.live) + unread.get(campaign.label, 0)
            live_after[campaign.label] = live - len(c_prunable) + len(c_creates)
    for label in sorted(set(by_campaign) - declared):
        for job in sorted(by_campaign[label], key=lambda j: j.id):
            if job.live:
                orphans.append(Orphan(job.id, label, job.module, job.status, ORPHAN_UNDECLARED))
    refusal = _guard(prunable, live_after, max_cancel) if prunable else None
    withheld: tuple[CancelJob, ...] = ()
    if refusal is None:
        pruned_ids = {cancel.job_id for cancel in prunable}
        cancels += prunable
        orphans = [orphan for orphan in orphans if orphan.job_id not in pruned_ids]
    else:
        withheld = tuple(prunable)
    return Plan(
        creates=tuple(creates),
        updates=tuple(updates),
        cancels=tuple(cancels),
        orphans=tuple(orphans),
        withheld=withheld,
        refusal=refusal,
        campaigns=tuple(sorted(declared)),
    )
