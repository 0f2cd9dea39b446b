"""Execute a plan against a store: create, update and cancel job documents.

Creating follows DESIGN.md invariant 1. A *group* is the jobs of one run in one
campaign entry: its sub-runs, which share one pass. Fast path: one
`jobs_by_module_run` range read per module gives the passes already taken and the
pass a group already holds. A new group claims the first free pass of its
(module, run) with its lowest sub-run (one bulk write of every group's claim), then
its other sub-runs are created at that pass in bulk. A claim that conflicts is read:
if the document there holds the same slot of the same campaign (another reconciler
created it) the group holds that pass; otherwise the next pass is tried, one
compare-and-set at a time. Only the claim moves between passes, so a group never
ends up split over two passes. Jobs of our campaign that the module read shows but
the plan's observation missed (created in between by a concurrent reconciler) are
read first, so they are never created again.

Updates and cancels re-read each document and compare-and-set it, so a job that a
site reserved meanwhile is left alone. Nothing is ever deleted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.documents import Doc, job_id, now_iso
from reconciler.enqueue.expand import DesiredJob
from reconciler.enqueue.plan import CancelJob, CreateJob, Plan, UpdateJob
from reconciler.faults import crash_point
from reconciler.store.interface import Store

BY_MODULE_RUN = "mcprod/jobs_by_module_run"
BATCH = 500
MAX_CAS_ROUNDS = 5

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ApplyResult:
    created: int = 0
    already_present: int = 0
    updated: int = 0
    cancelled: int = 0
    skipped: int = 0  # changed by someone else meanwhile so that the action no longer applies
    cancelled_ids: tuple[str, ...] = ()


def job_document(job: DesiredJob, pass_: int, now: str) -> Doc:
    entry = job.entry
    return {
        "_id": job_id(entry.module, job.run, job.subrun, pass_),
        "type": "job",
        "module": entry.module,
        "run": job.run,
        "subrun": job.subrun,
        "pass": pass_,
        "campaign": entry.campaign,
        "entry_key": entry.entry_key,
        "index": job.index,
        "commit": entry.commit,
        "labels": list(entry.labels or (entry.campaign,)),
        "rat_version": entry.rat_version,
        "ratdb_tag": entry.ratdb_tag,
        "event_mode": entry.event_mode,
        "events": job.events,
        "duration_s": entry.duration_s,
        "macro_path": entry.macro_path,
        "outputs": list(entry.outputs),
        "other_suffix": entry.other_suffix,
        "template": dict(entry.template),
        "priority": entry.priority,
        "status": "waiting",
        "created_at": now,
        "updated_at": now,
        "site": None,
        "attempt": 0,
        "backend_name": None,
        "backend_id": None,
        "not_before": None,
        "reason": None,
        "attempts": [],
    }


def _same_slot(doc: Doc, job: DesiredJob) -> bool:
    return (
        doc.get("campaign") == job.campaign
        and doc.get("entry_key") == job.entry.entry_key
        and doc.get("run") == job.run
        and doc.get("index") == job.index
    )


def _group_of(job: DesiredJob) -> tuple[str, str, int]:
    """The jobs sharing one pass: one run of one campaign entry."""
    return (job.campaign, job.entry.entry_key, job.run)


class _Taken:
    """Per run of one module: the passes taken, and the pass each group holds."""

    def __init__(self) -> None:
        self.passes: dict[int, set[int]] = defaultdict(set)
        self.holders: dict[tuple[int, tuple[str, str]], int] = {}

    def add(self, run: int, pass_: int, owner: tuple[str, str]) -> None:
        self.passes[run].add(pass_)
        current = self.holders.get((run, owner))
        if current is None or pass_ < current:
            self.holders[(run, owner)] = pass_

    def held_by(self, run: int, owner: tuple[str, str]) -> int | None:
        return self.holders.get((run, owner))

    def claim_first_free(self, run: int, owner: tuple[str, str]) -> int:
        taken = self.passes[run]
        pass_ = 1
        while pass_ in taken:
            pass_ += 1
        self.add(run, pass_, owner)
        return pass_


def _slot_of(doc: Doc) -> tuple[Any, ...]:
    return (doc.get("campaign"), doc.get("entry_key"), doc.get("run"), doc.get("index"))


def _chunks(items: Sequence[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Applier:
    def __init__(self, store: Store, known_ids: set[str], progress: Progress | None) -> None:
        self.store = store
        self.known_ids = known_ids
        self.progress = progress
        self.done = 0
        self.total = 0
        self.counts: dict[str, int] = defaultdict(int)
        self.written: dict[str, list[str]] = defaultdict(list)

    def _tick(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total)

    def _get_many(self, ids: Sequence[str]) -> list[Doc]:
        docs: list[Doc] = []
        for chunk in _chunks(list(ids)):
            docs.extend(doc for doc in self.store.get_many(chunk) if doc is not None)
        return docs

    # -- create ---------------------------------------------------------------------

    def read_taken(
        self, module: str, creating: set[tuple[str, str]]
    ) -> tuple[_Taken, list[str]]:
        """Passes taken per run of a module (and which group holds each), and ids of
        the jobs of the entries being created that the plan missed (only those can
        hold a slot we are about to create; the plan may not have read other entries)."""
        rows = self.store.view(BY_MODULE_RUN, startkey=[module], endkey=[module, {}],
                               reduce=False)
        taken = _Taken()
        unseen: list[str] = []
        for row in rows:
            run, pass_ = int(row.key[1]), int(row.key[2])
            owner = row.value if isinstance(row.value, list) else [row.value, None]
            taken.add(run, pass_, (str(owner[0]), str(owner[1])))
            if (str(owner[0]), str(owner[1])) in creating and row.id not in self.known_ids:
                unseen.append(str(row.id))
        return taken, unseen

    def create_module(self, jobs: list[DesiredJob], taken: _Taken, unseen: list[str]) -> None:
        if unseen:
            present = {_slot_of(doc) for doc in self._get_many(unseen)}
            before = len(jobs)
            jobs = [j for j in jobs if (j.campaign, j.entry.entry_key, j.run, j.index)
                    not in present]
            self.counts["already_present"] += before - len(jobs)
            self._tick(before - len(jobs))
        groups: dict[tuple[str, str, int], list[DesiredJob]] = defaultdict(list)
        for job in jobs:
            groups[_group_of(job)].append(job)
        passes: dict[tuple[str, str, int], int] = {}
        claims: list[DesiredJob] = []
        for key, members in groups.items():
            members.sort(key=lambda j: j.subrun)
            held = taken.held_by(key[2], (key[0], key[1]))
            if held is not None:
                passes[key] = held
            else:
                passes[key] = taken.claim_first_free(key[2], (key[0], key[1]))
                claims.append(members[0])
        # The claims first: a group's pass is settled before any other sub-run is written.
        self._create_bulk(claims, passes, claim=True)
        claimed = {id(job) for job in claims}
        rest = [job for members in groups.values() for job in members if id(job) not in claimed]
        self._create_bulk(rest, passes, claim=False)

    def _create_bulk(
        self, jobs: list[DesiredJob], passes: dict[tuple[str, str, int], int], *, claim: bool
    ) -> None:
        now = now_iso()
        docs: list[Doc] = []
        by_id: dict[str, DesiredJob] = {}
        for job in jobs:
            doc = job_document(job, passes[_group_of(job)], now)
            docs.append(doc)
            by_id[doc["_id"]] = job
        for chunk in _chunks(docs):
            results = self.store.bulk_create(chunk)
            lost = [r.id for r in results if not r.ok]
            self.counts["created"] += len(chunk) - len(lost)
            if lost:
                self._resolve_conflicts([by_id[i] for i in lost], lost, passes, claim)
            self._tick(len(chunk))
            crash_point("mid-apply")

    def _resolve_conflicts(
        self,
        jobs: list[DesiredJob],
        ids: list[str],
        passes: dict[tuple[str, str, int], int],
        claim: bool,
    ) -> None:
        existing = {doc["_id"]: doc for doc in self._get_many(ids)}
        for job, doc_id in zip(jobs, ids, strict=True):
            holder = existing.get(doc_id)
            if holder is not None and _same_slot(holder, job):
                self.counts["already_present"] += 1
                continue
            pass_ = passes[_group_of(job)]
            if not claim and holder is not None:
                # The group's pass is ours (its claim is there), yet this sub-run's id
                # holds another job: written by something that skipped the claim.
                self.counts["skipped"] += 1
                continue
            # A claim taken by another group: try the next pass. Absent: the write
            # failed for another reason, so the same pass is tried again.
            passes[_group_of(job)] = self._create_one(
                job, pass_ + 1 if holder is not None else pass_
            )

    def _create_one(self, job: DesiredJob, pass_: int) -> int:
        """Compare-and-set up the passes until the job is created or found; its pass."""
        while True:
            result = self.store.create(job_document(job, pass_, now_iso()))
            if result.created:
                self.counts["created"] += 1
                return pass_
            if _same_slot(result.doc, job):
                self.counts["already_present"] += 1
                return pass_
            pass_ += 1

    # -- update and cancel ----------------------------------------------------------

    def modify(
        self,
        ids: list[str],
        change: Callable[[Doc], Doc | None],
        counter: str,
    ) -> None:
        pending = ids
        for _ in range(MAX_CAS_ROUNDS):
            if not pending:
                return
            retry: list[str] = []
            for chunk in _chunks(pending):
                docs = []
                for doc in self._get_many(chunk):
                    new = change(doc)
                    if new is None:
                        self.counts["skipped"] += 1
                    else:
                        docs.append(new)
                results = self.store.bulk_update(docs) if docs else []
                for result in results:
                    if result.ok:
                        self.counts[counter] += 1
                        self.written[counter].append(result.id)
                    else:
                        retry.append(result.id)
                self._tick(len(chunk) - sum(1 for r in results if not r.ok))
            pending = retry
        self.counts["skipped"] += len(pending)
        self._tick(len(pending))


def _updater(updates: dict[str, UpdateJob]) -> Callable[[Doc], Doc | None]:
    def change(doc: Doc) -> Doc | None:
        update = updates[doc["_id"]]
        new = dict(doc)
        for field_change in update.changes:
            # The plan saw the old value; a job that moved on keeps what it has.
            if field_change.field == "events" and doc.get("status") != "waiting":
                continue
            new[field_change.field] = field_change.new
        if new == doc:
            return None
        new["updated_at"] = now_iso()
        return new

    return change


def _canceller(cancels: dict[str, CancelJob]) -> Callable[[Doc], Doc | None]:
    def change(doc: Doc) -> Doc | None:
        status = doc.get("status")
        if not (status == "waiting" or (status == "reserved" and not doc.get("backend_id"))):
            return None  # picked up by a site meanwhile: never cancel running work
        now = now_iso()
        return {
            **doc,
            "status": "cancelled",
            "reason": cancels[doc["_id"]].reason,
            "site": None if status == "reserved" else doc.get("site"),
            "updated_at": now,
            "cancelled_at": now,
        }

    return change


def apply_plan(
    store: Store,
    plan: Plan,
    known_ids: Iterable[str],
    progress: Progress | None = None,
) -> ApplyResult:
    """Apply creates, updates and cancels; `known_ids` are the observed job ids."""
    applier = _Applier(store, set(known_ids), progress)
    applier.total = len(plan.creates) + len(plan.updates) + len(plan.cancels)
    by_module: dict[str, list[DesiredJob]] = defaultdict(list)
    for create in plan.creates:
        by_module[create.module].append(create.job)
    # Every module's passes are read before the first write: on CouchDB a view read
    # after a write re-indexes what was just written, so interleaving costs a lot.
    reads = {
        module: applier.read_taken(module, {(job.campaign, job.entry.entry_key) for job in jobs})
        for module, jobs in sorted(by_module.items())
    }
    for module in sorted(by_module):
        applier.create_module(by_module[module], *reads[module])
    updates = {u.job_id: u for u in plan.updates}
    applier.modify(sorted(updates), _updater(updates), "updated")
    cancels = {c.job_id: c for c in plan.cancels}
    applier.modify(sorted(cancels), _canceller(cancels), "cancelled")
    counts = applier.counts
    return ApplyResult(
        created=counts["created"],
        already_present=counts["already_present"],
        updated=counts["updated"],
        cancelled=counts["cancelled"],
        skipped=counts["skipped"],
        cancelled_ids=tuple(applier.written["cancelled"]),
    )


__all__ = ["ApplyResult", "CreateJob", "apply_plan", "job_document"]
