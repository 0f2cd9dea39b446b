"""The enqueue step: make the store's job documents match the declared campaigns.

load -> catalogues -> expand -> observe -> plan -> apply -> campaign status. The CLI
commands `plan` and `reconcile` and the site reconciler call these two functions;
`compute_plan` does no writes except installing missing design documents.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.catalogue.generate import release_catalogues
from reconciler.config.load import git_state, require_valid, validate_repository
from reconciler.documents import Doc, campaign_status_id
from reconciler.enqueue.apply import ApplyResult, Progress, apply_plan
from reconciler.enqueue.campaign_status import (
    counts_by_campaign,
    restate_campaign,
    write_campaign_status,
)
from reconciler.enqueue.catalogues import ChosenCatalogue, choose_catalogues
from reconciler.enqueue.expand import DesiredCampaign, expand_all
from reconciler.enqueue.labels import relabel
from reconciler.enqueue.observe import observe
from reconciler.enqueue.plan import DEFAULT_MAX_CANCEL, Plan, plan
from reconciler.errors import (
    Diagnostic,
    InvalidRepository,
    McprodError,
    StoreError,
    StoreUnavailable,
)
from reconciler.model import DeclaredRepo
from reconciler.store.design import ensure_design
from reconciler.store.interface import Store
from reconciler.store.views import design_document

PLANNER_VERSION = "1"  # bump when expansion changes, so stored fingerprints go stale


@dataclass(frozen=True)
class PlanContext:
    """Everything a plan report needs: the model, where catalogues came from, the plan."""

    repo: DeclaredRepo
    catalogues: Mapping[str, ChosenCatalogue]
    desired: tuple[DesiredCampaign, ...]
    observed_jobs: int
    observed_ids: frozenset[str]
    plan: Plan
    observed_counts: Mapping[str, Mapping[str, int]]  # campaign -> status -> jobs
    cancel_from: Mapping[str, str]  # job id -> status when observed, for each cancel
    # campaign -> entry key -> fingerprint (see entry_fingerprints); empty for `plan`
    entry_fingerprints: Mapping[str, Mapping[str, str]] = dataclasses.field(
        default_factory=dict
    )


@dataclass(frozen=True)
class EnqueueResult:
    """What one enqueue did; counts are zero on a dry run."""

    commit: str | None
    campaigns: int
    desired_jobs: int
    observed_jobs: int
    to_create: int
    to_update: int
    to_cancel: int
    orphans: int
    withheld: int
    refusal: str | None
    dry_run: bool
    applied: ApplyResult
    plan: Plan
    up_to_date: bool = False  # every campaign already applied as declared: nothing read
    unchanged: int = 0  # campaigns already applied as declared: their jobs were not read


def stamp_commit(repo_root: Path, allow_dirty: bool) -> str | None:
    """The commit job documents will record: HEAD, refused when declared files have
    uncommitted changes (the stamp would not hold what the jobs were made from), or
    `<commit>+dirty` when the caller allows it."""
    commit, changed = git_state(repo_root)
    if commit is None or not changed:
        return commit
    if not allow_dirty:
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        shown = ", ".join(changed[:3]) + more
        raise McprodError(
            f"uncommitted changes in {shown}: jobs would be stamped with commit {commit[:12]},"
            " which does not hold them; commit first, or pass --allow-dirty to stamp"
            f" {commit[:12]}+dirty"
        )
    return f"{commit}+dirty"


def load_repo(
    repo_root: Path, rat_roots: Mapping[str, Path], *, allow_dirty: bool = False
) -> DeclaredRepo:
    """The valid declared model, or `InvalidRepository` (nothing is applied then)."""
    declared = require_valid(repo_root, catalogues=release_catalogues(rat_roots))
    return dataclasses.replace(declared, commit=stamp_commit(repo_root, allow_dirty))


def load_campaigns(
    repo_root: Path, rat_roots: Mapping[str, Path], labels: Sequence[str], *,
    allow_dirty: bool = False,
) -> tuple[DeclaredRepo, list[Diagnostic], list[str]]:
    """Only the campaigns `labels` names: the model of those that are sound, the
    diagnostics of those that are not, and the labels that could not be planned.
    Problems in other people's campaigns do not stop these."""
    commit = stamp_commit(repo_root, allow_dirty)
    result = validate_repository(repo_root, catalogues=release_catalogues(rat_roots))
    sound = result.sound
    if sound is None:
        raise InvalidRepository(result.diagnostics)
    chosen = {label: sound.campaigns[label] for label in labels if label in sound.campaigns}
    failed = [label for label in labels if label not in chosen]
    files = {f"campaigns/{label}.yaml" for label in failed} | {
        f"campaigns/{label}.yml" for label in failed
    }
    problems = [d for d in result.diagnostics if d.file in files and d.severity == "error"]
    for label in failed:
        if not any(d.file.startswith(f"campaigns/{label}.") for d in problems):
            declared = sound.campaigns.keys() | {
                Path(d.file).stem for d in result.diagnostics if d.file.startswith("campaigns/")
            }
            why = "it has errors in its RAT version file" if label in declared else (
                "no campaigns/" + label + ".yaml"
            )
            problems.append(Diagnostic(f"campaigns/{label}.yaml", 1, 1, f"not planned: {why}"))
    return dataclasses.replace(sound, campaigns=chosen, commit=commit), problems, failed


def compute_plan(
    store: Store,
    repo: DeclaredRepo,
    *,
    rat_roots: Mapping[str, Path] | None = None,
    prune: bool = False,
    max_cancel: int = DEFAULT_MAX_CANCEL,
    catalogues: Mapping[str, ChosenCatalogue] | None = None,
    read_only: bool = False,
    only_declared: bool = False,
    applied_entries: Mapping[str, Mapping[str, str]] | None = None,
) -> PlanContext:
    """`read_only` (mcprod plan): design documents are installed only when missing, so
    a plan against a production database with read-only credentials works.
    `only_declared`: read the jobs of `repo`'s campaigns only (no orphan campaigns).
    `applied_entries` (enqueue): per campaign, the entry fingerprints fully applied
    before; the entries whose fingerprint is unchanged are neither read nor planned
    (they need no action: nothing but a declaration change calls for one), and the
    context carries every entry's fingerprint to record. None plans everything."""
    if not (read_only and store.get(design_document()["_id"]) is not None):
        ensure_design(store)
    if catalogues is None:
        catalogues = choose_catalogues(repo, rat_roots or {}, store.get)
    desired = expand_all(
        repo.campaigns.values(),
        {version: chosen.catalogue for version, chosen in catalogues.items()},
        repo.commit,
    )
    prints: dict[str, dict[str, str]] = {}
    fresh: dict[str, frozenset[str]] = {}
    if applied_entries is not None:
        for campaign in desired:
            content_hash = catalogues[campaign.rat_version].catalogue.content_hash
            prints[campaign.label] = entry_fingerprints(campaign, content_hash, prune)
            before = applied_entries.get(campaign.label) or {}
            fresh[campaign.label] = frozenset(
                key for key, value in prints[campaign.label].items() if before.get(key) == value
            )
    observation = observe(store, desired, only_desired=only_declared, fresh=fresh)
    observed = observation.jobs
    to_plan = [_without_entries(campaign, fresh.get(campaign.label)) for campaign in desired]
    result = plan(to_plan, observed, prune=prune, max_cancel=max_cancel,
                  live_unread=observation.live_unread)
    counts: dict[str, dict[str, int]] = {
        label: dict(per) for label, per in observation.counts.items()
    }
    for job in observed:
        if job.campaign in observation.counts:
            continue  # counted over all its entries, read or not
        per = counts.setdefault(job.campaign, {})
        per[job.status] = per.get(job.status, 0) + 1
    cancelled = {cancel.job_id for cancel in result.cancels}
    return PlanContext(
        repo=repo,
        catalogues=catalogues,
        desired=tuple(desired),
        observed_jobs=sum(sum(per.values()) for per in counts.values()),
        observed_ids=frozenset(job.id for job in observed),
        plan=result,
        observed_counts=counts,
        cancel_from={job.id: job.status for job in observed if job.id in cancelled},
        entry_fingerprints=prints,
    )


def _without_entries(campaign: DesiredCampaign, keys: frozenset[str] | None) -> DesiredCampaign:
    """The campaign as the plan sees it when the entries `keys` are not re-planned."""
    if not keys:
        return campaign
    return dataclasses.replace(
        campaign,
        entries=tuple(entry for entry in campaign.entries if entry.entry_key not in keys),
        jobs=tuple(job for job in campaign.jobs if job.entry.entry_key not in keys),
    )


def counts_after(context: PlanContext, applied: ApplyResult) -> dict[str, dict[str, int]]:
    """Job counts per campaign after a complete apply, from what was observed and done,
    so that no view has to be read (and, on CouchDB, re-indexed) right after writing."""
    counts = {label: dict(per) for label, per in context.observed_counts.items()}

    def move(label: str, old: str | None, new: str) -> None:
        per = counts.setdefault(label, {})
        if old is not None:
            per[old] -= 1
            if per[old] == 0:
                del per[old]
        per[new] = per.get(new, 0) + 1

    for create in context.plan.creates:
        move(create.campaign, None, "waiting")
    campaign_of = {cancel.job_id: cancel.campaign for cancel in context.plan.cancels}
    for job_id in applied.cancelled_ids:
        move(campaign_of[job_id], context.cancel_from[job_id], "cancelled")
    return counts


def fingerprints(
    repo: DeclaredRepo, catalogues: Mapping[str, ChosenCatalogue], prune: bool
) -> dict[str, str]:
    """Per campaign, a hash of everything its desired jobs depend on: the declared
    record (entries with resolved run lists, priority, state), its catalogue, --prune.
    Paused hashes as active: pausing changes no job (the site cycle reads the declared
    state), so it re-plans nothing; `restate_campaign` records the new state."""
    result = {}
    for label, campaign in sorted(repo.campaigns.items()):
        chosen = catalogues[campaign.rat_version].catalogue
        planned = dataclasses.replace(campaign, state="active") if (
            campaign.state == "paused") else campaign
        text = repr((PLANNER_VERSION, planned, chosen.content_hash, prune))
        result[label] = hashlib.sha256(text.encode()).hexdigest()
    return result


# EntrySpec fields an entry's fingerprint leaves out: where it is declared (moving a
# line changes no job), the commit (stamped on new jobs only), the extra labels
# (reconciler.enqueue.labels brings them in line, from the campaign fingerprint).
_NOT_IN_ENTRY_FINGERPRINT = frozenset({"position", "source", "commit", "labels"})


def entry_fingerprints(
    campaign: DesiredCampaign, catalogue_hash: str, prune: bool
) -> dict[str, str]:
    """Per entry key, a hash of everything that decides the entry's jobs and their
    mutable fields: its expansion (every job's run, index and events), its spec
    (physics, priority, macro, outputs), whether the campaign is cancelled, the
    planner version, the catalogue and --prune. Pausing or resuming changes none."""
    shapes: dict[str, list[tuple[int, int, int | None]]] = {}
    for job in campaign.jobs:
        shapes.setdefault(job.entry.entry_key, []).append((job.run, job.index, job.events))
    result = {}
    for entry in campaign.entries:
        spec = [
            (name.name, getattr(entry, name.name))
            for name in dataclasses.fields(entry)
            if name.name not in _NOT_IN_ENTRY_FINGERPRINT
        ]
        text = repr((
            PLANNER_VERSION, catalogue_hash, prune, campaign.state == "cancelled", spec,
            shapes.get(entry.entry_key, []),
        ))
        result[entry.entry_key] = hashlib.sha256(text.encode()).hexdigest()
    return result


def _statuses(store: Store, labels: Sequence[str]) -> dict[str, Doc]:
    docs = store.get_many([campaign_status_id(label) for label in labels])
    return {label: doc for label, doc in zip(labels, docs, strict=True) if doc is not None}


def _fully_applied(statuses: Mapping[str, Doc], wanted: Mapping[str, str]) -> dict[str, Doc]:
    """The status documents of the campaigns fully applied with these fingerprints."""
    return {
        label: doc
        for label, doc in statuses.items()
        if doc.get("last_error") is None and doc.get("applied_fingerprint") == wanted.get(label)
    }


def _applied_entries(statuses: Mapping[str, Doc]) -> dict[str, dict[str, str]]:
    """Per campaign, the entry fingerprints its last complete apply recorded."""
    result: dict[str, dict[str, str]] = {}
    for label, doc in statuses.items():
        recorded = doc.get("entry_fingerprints")
        if doc.get("last_error") is None and isinstance(recorded, dict):
            result[label] = {
                str(key): value for key, value in recorded.items() if isinstance(value, str)
            }
    return result


def write_statuses(
    store: Store,
    context: PlanContext,
    error: str | None,
    *,
    applied: ApplyResult | None,
    fingerprint: Mapping[str, str],
) -> None:
    """`applied` is None when the apply failed part-way: counts are then read back."""
    counts = counts_by_campaign(store) if applied is None else counts_after(context, applied)
    missing: dict[str, int] = {}
    for create in context.plan.creates:
        missing[create.campaign] = missing.get(create.campaign, 0) + 1
    for campaign in context.desired:
        write_campaign_status(
            store,
            campaign.label,
            state=campaign.state,
            counts=counts.get(campaign.label, {}),
            desired_jobs=len(campaign.jobs),
            missing=0 if applied is not None else missing.get(campaign.label, 0),
            commit=context.repo.commit,
            error=error,
            fingerprint=(
                fingerprint.get(campaign.label)
                if applied is not None and error is None else None
            ),
            entry_fingerprints=context.entry_fingerprints.get(campaign.label),
            entries=declared_entries(campaign),
            labels=campaign.labels or (campaign.label,),
        )


def declared_entries(campaign: DesiredCampaign) -> dict[str, dict[str, object]]:
    """Entry key -> module and number of declared jobs: jobs of any other entry are orphans."""
    jobs = Counter(job.entry.entry_key for job in campaign.jobs)
    return {
        entry.entry_key: {"module": entry.module, "jobs": jobs[entry.entry_key]}
        for entry in campaign.entries
    }


def enqueue(
    store: Store,
    repo: DeclaredRepo,
    *,
    rat_roots: Mapping[str, Path] | None = None,
    prune: bool = False,
    max_cancel: int = DEFAULT_MAX_CANCEL,
    dry_run: bool = False,
    progress: Progress | None = None,
    force: bool = False,
) -> EnqueueResult:
    """One enqueue cycle. A store failure mid-apply raises `StoreUnavailable`/`StoreError`;
    what was written stays, and the next run finishes the job (creation is idempotent).

    When every campaign's status document says it was fully applied with the same
    fingerprint (same declaration, catalogue and --prune), nothing is read or written
    (`up_to_date`); when some do, only the others are planned and only their jobs are
    read (pausing one campaign does not read the other campaigns' jobs). Within a
    campaign that changed, only the entries whose fingerprint changed are read and
    planned (entry_fingerprints: pausing reads none of its jobs, changing one entry's
    priority reads that entry's), plus entries no longer declared that still have live
    jobs (orphans). `force=True` plans everything, orphan campaigns included. Job status
    changes made by sites or operators never call for an enqueue action, so the
    shortcut misses nothing."""
    catalogues = choose_catalogues(repo, rat_roots or {}, store.get)
    wanted = fingerprints(repo, catalogues, prune)
    applied_before: dict[str, Doc] = {}
    applied_entries: dict[str, dict[str, str]] = {}
    if not force and not dry_run and wanted:
        statuses = _statuses(store, sorted(wanted))
        applied_before = _fully_applied(statuses, wanted)
        applied_entries = _applied_entries(statuses)
        for label, doc in applied_before.items():
            if doc.get("state") != repo.campaigns[label].state:  # paused <-> active
                applied_before[label] = restate_campaign(store, label,
                                                         repo.campaigns[label].state)
        if len(applied_before) == len(wanted):
            done = list(applied_before.values())
            return EnqueueResult(
                commit=repo.commit,
                campaigns=len(done),
                desired_jobs=sum(int(doc.get("desired_jobs") or 0) for doc in done),
                observed_jobs=sum(sum((doc.get("counts") or {}).values()) for doc in done),
                to_create=0, to_update=0, to_cancel=0, orphans=0, withheld=0, refusal=None,
                dry_run=False, applied=ApplyResult(), plan=Plan(), up_to_date=True,
            )
    if applied_before:
        # Re-plan only the campaigns whose declaration, catalogue or --prune changed.
        changed = {label: c for label, c in repo.campaigns.items() if label not in applied_before}
        repo = dataclasses.replace(repo, campaigns=changed)
    context = compute_plan(store, repo, rat_roots=rat_roots, prune=prune, max_cancel=max_cancel,
                           catalogues=catalogues, read_only=dry_run,
                           only_declared=bool(applied_before),
                           applied_entries=applied_entries)
    the_plan = context.plan
    applied = ApplyResult()
    if not dry_run:
        try:
            applied = apply_plan(store, the_plan, context.observed_ids, progress)
            for campaign in context.desired:
                relabel(store, campaign.label, campaign.labels or (campaign.label,))
        except StoreUnavailable as exc:
            raise StoreUnavailable(
                f"{exc}; the apply stopped part-way: nothing is lost, the next "
                "`mcprod reconcile` finishes it"
            ) from None
        except StoreError as exc:
            with contextlib.suppress(StoreError):
                write_statuses(store, context, str(exc), applied=None, fingerprint=wanted)
            raise
        write_statuses(store, context, the_plan.refusal, applied=applied,
                       fingerprint=wanted)
    before = applied_before.values()
    return EnqueueResult(
        commit=repo.commit,
        campaigns=len(context.desired) + len(before),
        desired_jobs=sum(len(c.jobs) for c in context.desired)
        + sum(int(doc.get("desired_jobs") or 0) for doc in before),
        observed_jobs=context.observed_jobs
        + sum(sum((doc.get("counts") or {}).values()) for doc in before),
        to_create=len(the_plan.creates),
        to_update=len(the_plan.updates),
        to_cancel=len(the_plan.cancels),
        orphans=len(the_plan.orphans),
        withheld=len(the_plan.withheld),
        refusal=the_plan.refusal,
        dry_run=dry_run,
        applied=applied,
        plan=the_plan,
        unchanged=len(before),
    )
