"""One site cycle: `mcprod reconcile --site S --once`, and each turn of the loop.

Order of the steps, and why:
  sync       pull the repository (a bad commit -> last good commit, monitor only)
  heartbeat  first, so other sites see we are alive even if a later step fails
  enqueue    campaigns -> job documents (the planner's step), not when monitor only
  recover    our own `reserved` jobs left by a crash: adopt or release, by name
  monitor    our submitted/running jobs -> running / completed (verified) / failed
  retry      our failed jobs -> waiting per campaign policy, with back-off
  stale      other sites' jobs whose heartbeat is stale -> released when safe
  submit     eligible waiting jobs in queue order, up to max_running
  status     campaign status documents, then the heartbeat with this cycle's summary

The store going away raises `StoreError` out of here (exit 1): every write is a
single compare-and-set, so nothing half-done is left, and the next cycle
converges from what the documents say.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.backends.base import (
    Backend,
    BackendContext,
    GatesSubmission,
    SubmitSpec,
)
from reconciler.backends.registry import create_backend
from reconciler.documents import Doc, iso
from reconciler.errors import BackendError, McprodError
from reconciler.job.untrusted import Rejected
from reconciler.model import DeclaredRepo, Site
from reconciler.site.campaign_refresh import refresh_campaign_statuses
from reconciler.site.cancel import stop_cancelled
from reconciler.site.decisions import (
    DEFAULT_BACKOFF_S,
    DEFAULT_STALE_AFTER_S,
    eligible_campaigns,
    recorded_work_dir,
    select_for_submission,
    skip_reason,
)
from reconciler.site.heartbeat import write_heartbeat
from reconciler.site.jobs import count_active, waiting_in_queue_order
from reconciler.site.lease import DEFAULT_LEASE_S, Holder
from reconciler.site.lease import take as take_lease
from reconciler.site.lock import submit_lock
from reconciler.site.monitor import (
    ExpectedOutputs,
    FetchReturned,
    LogTail,
    ReturnCardPath,
    VerifyFile,
    monitor_jobs,
)
from reconciler.site.proxy import DEFAULT_WARN_S, ProxyState, proxy_alert
from reconciler.site.recovery import recover_own_reservations, release_stale_sites
from reconciler.site.result import SiteCycleResult
from reconciler.site.retry import retry_failed
from reconciler.site.submit import submit_jobs
from reconciler.site.watch import BackendAt, watch
from reconciler.store.interface import Store
from reconciler.store.url import is_embedded, mask_url, resolve_db_url

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class CycleOptions:
    site: str
    repo_root: Path
    db_url: str | None = None
    dry_run: bool = False
    prune: bool = False
    sync: bool = True
    stale_after_s: float = DEFAULT_STALE_AFTER_S
    retry_backoff_s: float = DEFAULT_BACKOFF_S
    work_dir: Path | None = None
    rat_roots: Mapping[str, Path] = field(default_factory=dict)
    max_cancel: int = 1000
    proxy_warn_s: float = DEFAULT_WARN_S
    lease_s: float = DEFAULT_LEASE_S


@dataclass(frozen=True)
class Loaded:
    """The repository state a cycle works from."""

    repo: DeclaredRepo | None
    commit: str | None
    monitor_only: bool
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class SitePieces:
    """The parts of a cycle that talk to the world beyond the store, for one site."""

    backend: Backend
    prepare: Callable[[Doc], SubmitSpec]
    card_path: ReturnCardPath
    verify: VerifyFile
    expected: ExpectedOutputs
    backend_for: Callable[[str], Backend] = field(default=lambda _name: _cannot_ask(_name))
    log_tail: LogTail | None = None
    fetch: FetchReturned | None = None  # grid backends: bring the card and logs home
    proxy: Callable[[], ProxyState] | None = None  # None: this site needs no grid proxy
    # The backend of another work folder of this site (attempts submitted from there).
    backend_at: Callable[[Path], Backend] | None = None


def _cannot_ask(site: str) -> Backend:
    raise BackendError(f"site {site}: its backend cannot be asked from here")


def site_work_dir(site: Site, repo_root: Path, override: Path | None) -> Path:
    """Where job folders, scripts, logs and the local backend's state live."""
    if override is not None:
        return override
    configured = site.backend.options.get("work_dir")
    if isinstance(configured, str) and configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else repo_root / path  # relative to the clone
    return repo_root / ".mcprod" / "sites" / site.name


def embedded_store_refusal(site: Site, url: str) -> str | None:
    """A site whose jobs run beyond this machine keeps its state in the shared database;
    the embedded SQLite file there is almost always a forgotten MCPROD_DB."""
    if not is_embedded(url) or site.backend.type == "local" or site.store == "embedded":
        return None
    return (
        f"site {site.name} submits to {site.backend.type}: refusing the embedded store"
        f" {mask_url(url)}; set MCPROD_DB (or --db) to the production database, or write"
        f" `store: embedded` in {site.source.file} to keep this site's state in that file"
        " on purpose"
    )


def backend_for_site(site: Site, work_dir: Path) -> Backend:
    return create_backend(
        site.backend,
        BackendContext(site.name, work_dir, site.max_running, job_env=dict(site.env)),
    )


def run_site_cycle(
    options: CycleOptions,
    *,
    load: Callable[[CycleOptions], Loaded],
    open_store: Callable[[CycleOptions], Store],
    pieces_for: Callable[[Site, Path, DeclaredRepo, Store], SitePieces],
    enqueue: Callable[[Store, DeclaredRepo, SiteCycleResult], None] | None = None,
    clock: Clock = utc_now,
) -> SiteCycleResult:
    """One cycle for one site; errors the operator must see end up in `result.errors`."""
    loaded = load(options)
    result = SiteCycleResult(
        site=options.site,
        commit=loaded.commit,
        dry_run=options.dry_run,
        monitor_only=loaded.monitor_only,
        errors=list(loaded.errors),
    )
    repo = loaded.repo
    if repo is None:
        result.errors.append("no valid commit to work from: nothing done")
        return result
    site = repo.sites.get(options.site)
    if site is None:
        known = ", ".join(sorted(repo.sites)) or "none"
        raise McprodError(f"site '{options.site}' is not declared in sites/ (declared: {known})")
    refusal = embedded_store_refusal(site, resolve_db_url(options.db_url, options.repo_root))
    if refusal is not None:
        raise McprodError(refusal)
    work_dir = site_work_dir(site, options.repo_root, options.work_dir)
    store = open_store(options)
    try:
        if not options.dry_run:
            me = Holder(socket.gethostname(), str(work_dir), os.getpid())
            took_over = take_lease(store, site.name, me, clock(), options.lease_s)
            if took_over:
                result.notes.append(took_over)
        pieces = pieces_for(site, work_dir, repo, store)
        _cycle(options, repo, site, work_dir, pieces, store, loaded, enqueue, clock, result)
    finally:
        store.close()
    return result


def _cycle(
    options: CycleOptions,
    repo: DeclaredRepo,
    site: Site,
    work_dir: Path,
    pieces: SitePieces,
    store: Store,
    loaded: Loaded,
    enqueue: Callable[[Store, DeclaredRepo, SiteCycleResult], None] | None,
    clock: Clock,
    result: SiteCycleResult,
) -> None:
    dry = options.dry_run
    acting = not loaded.monitor_only
    if pieces.proxy is not None:
        proxy = pieces.proxy()
        if proxy.expires_at is not None:
            result.proxy_expires_at = iso(proxy.expires_at)
        alert = proxy_alert(proxy, clock(), options.proxy_warn_s)
        if alert is not None:
            result.alerts.append(alert)
    if not dry:
        write_heartbeat(store, site.name, clock(), commit=loaded.commit)
    if acting and enqueue is not None:
        enqueue(store, repo, result)  # on a dry run: only counts what it would create

    rejected = Rejected()
    backend_at = _router(pieces, work_dir)

    def backend_of(job: Doc) -> Backend:
        return backend_at(recorded_work_dir(job))

    with submit_lock(work_dir):
        recovered = recover_own_reservations(
            store, pieces.backend, site.name, clock(), dry_run=dry, rejected=rejected,
            backend_of=backend_of,
        )
    result.adopted, result.released = recovered.adopted, recovered.released
    result.errors.extend(recovered.errors)

    stopped = stop_cancelled(
        store, pieces.backend, site.name, clock(), dry_run=dry, rejected=rejected,
        backend_of=backend_of,
    )
    result.cancelled = stopped.stopped
    result.errors.extend(stopped.errors)

    watched = watch(store, site.name, backend_at, rejected)
    monitored = monitor_jobs(
        store, pieces.backend, watched.jobs, card_path=pieces.card_path, verify=pieces.verify,
        expected=pieces.expected, now=clock(), dry_run=dry, log_tail=pieces.log_tail,
        fetch=pieces.fetch, backend_of=backend_of, known=watched.states,
    )
    result.running, result.completed, result.failed = (
        monitored.running, monitored.completed, monitored.failed
    )
    result.notes.extend(monitored.failures)
    result.errors.extend(watched.errors)
    result.errors.extend(monitored.errors)
    if acting:
        _act(options, repo, site, work_dir, pieces, store, dry, clock, result, rejected)
    _report_rejected(rejected, result)
    if not dry:
        if acting:
            refresh_campaign_statuses(store, repo.campaigns.values(), clock(), site=site.name)
        # Monitor-only cycles too: the heartbeat carries this cycle's errors.
        write_heartbeat(
            store, site.name, clock(), commit=loaded.commit,
            extra={"last_cycle": result.summary_lines(), "last_errors": result.errors,
                   "last_alerts": result.alerts, "proxy_expires_at": result.proxy_expires_at,
                   "monitor_only": loaded.monitor_only,
                   "bad_documents": result.bad_documents},
        )


def _act(
    options: CycleOptions,
    repo: DeclaredRepo,
    site: Site,
    work_dir: Path,
    pieces: SitePieces,
    store: Store,
    dry: bool,
    clock: Clock,
    result: SiteCycleResult,
    rejected: Rejected,
) -> None:
    """The steps that change work: retry, release stale sites' jobs, submit."""
    retried = retry_failed(
        store, site.name, repo.campaigns, clock(), options.retry_backoff_s, dry_run=dry,
        rejected=rejected,
    )
    result.retried, result.not_retried = retried.retried, retried.gave_up
    result.alerts.extend(retried.given_up)

    others = sorted(name for name in repo.sites if name != site.name)
    stale = release_stale_sites(
        store, others, pieces.backend_for, clock(), options.stale_after_s, dry_run=dry,
        rejected=rejected,
    )
    result.stale_released = stale.stale_released
    result.notes.extend(stale.notes)

    _submit(store, site, pieces, repo, dry, work_dir, clock, result, rejected, options.lease_s)


def _router(pieces: SitePieces, work_dir: Path) -> BackendAt:
    """The backend holding an attempt submitted from a work folder: ours, or that of
    the folder recorded on the attempt (by the reconciler that held the lease before
    us); None is ours."""
    made: dict[str, Backend] = {str(work_dir): pieces.backend}

    def backend_at(recorded: str | None) -> Backend:
        folder = recorded or str(work_dir)
        if folder not in made:
            if pieces.backend_at is None or not is_work_folder(folder):
                return pieces.backend
            made[folder] = pieces.backend_at(Path(folder))
        return made[folder]

    return backend_at


def is_work_folder(folder: str) -> bool:
    """Whether a folder recorded on an attempt (read from the store: untrusted) is one a
    reconciler submitted from: an absolute path holding its submit lock. Any other is
    never used, so a planted path cannot make a backend create folders there; its
    jobs are asked of this cycle's backend."""
    path = Path(folder)
    return path.is_absolute() and (path / "submit.lock").is_file()


def _report_rejected(rejected: Rejected, result: SiteCycleResult) -> None:
    result.bad_documents = len(rejected)
    result.errors.extend(rejected.lines.values())


def _submit(
    store: Store,
    site: Site,
    pieces: SitePieces,
    repo: DeclaredRepo,
    dry: bool,
    work_dir: Path,
    clock: Clock,
    result: SiteCycleResult,
    rejected: Rejected,
    lease_s: float,
) -> None:
    if not site.enabled:
        result.notes.append(f"site {site.name} is disabled: monitoring only, nothing submitted")
        return
    if isinstance(pieces.backend, GatesSubmission):
        blocker = pieces.backend.submission_blocker()
        if blocker is not None:
            # Exit 1 (cron mails it); monitoring above already ran.
            result.submission_blocked = blocker
            result.errors.append(f"submission blocked: {blocker}")
            return
    with submit_lock(work_dir):
        active = count_active(store, site.name)
        if active >= site.max_running:
            return
        now = clock()
        eligible, skipped = _eligible(
            store, site, repo, site.max_running - active, now, rejected
        )
        selection = select_for_submission(eligible, site, repo.campaigns, active, now)
        result.waiting_skipped = skipped
        if dry:
            result.submitted = len(selection.chosen)
            return
        if not selection.chosen:
            return
        # Renewed right before submitting: a cycle that outlived its lease (taken over
        # by another reconciler meanwhile) must not submit next to the new holder.
        me = Holder(socket.gethostname(), str(work_dir), os.getpid())
        take_lease(store, site.name, me, clock(), lease_s)
        where = {"host": me.host, "work_dir": me.work_dir}
        submitted = submit_jobs(
            store, pieces.backend, selection.chosen, site=site.name, prepare=pieces.prepare,
            clock=clock, where=where,
        )
    result.submitted += submitted.submitted
    result.lost_races += submitted.lost_races
    result.released += submitted.released
    result.errors.extend(submitted.errors)


def _eligible(
    store: Store,
    site: Site,
    repo: DeclaredRepo,
    wanted: int,
    now: dt.datetime,
    rejected: Rejected,
) -> tuple[list[Doc], dict[str, int]]:
    """The first `wanted` waiting jobs (queue order) this site may take, and why the
    jobs passed over on the way were not taken."""
    eligible: list[Doc] = []
    skipped: dict[str, int] = {}
    # Only the queues of the campaigns this site may run are read: a paused campaign's
    # waiting jobs cost nothing here.
    campaigns = eligible_campaigns(site, repo.campaigns)
    for doc in waiting_in_queue_order(store, campaigns, first_page=wanted):
        if not rejected.admit(doc):
            continue
        reason = skip_reason(doc, site, repo.campaigns, now)
        if reason is None:
            eligible.append(doc)
            if len(eligible) >= wanted:
                break
        else:
            skipped[reason] = skipped.get(reason, 0) + 1
    return eligible, skipped
