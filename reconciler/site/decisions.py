"""The site cycle's decisions, as pure functions over job documents.

Nothing here does I/O: the cycle reads documents, asks these functions what to
do, and writes the documents they return. Every transition returns a new
document (the input is never mutated) so that a lost compare-and-set can simply
be re-read and decided again.

Attempt bookkeeping: `attempt` only ever grows, so a backend name
`<job id>.a<n>` is never used twice. An attempt that was reserved but released
before it ran (crash recovery, stale site) is kept in `attempts` with status
`released` and does not count against the campaign's `retry.max_attempts`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.documents import Doc, backend_name, copy_for_change, iso, parse_iso
from reconciler.model import Campaign, Site

DEFAULT_BACKOFF_S = 300.0
MAX_BACKOFF_S = 6 * 3600.0
DEFAULT_STALE_AFTER_S = 2 * 3600.0


# ---------------------------------------------------------------- eligibility


def skip_reason(
    job: Mapping[str, Any], site: Site, campaigns: Mapping[str, Campaign], now: dt.datetime
) -> str | None:
    """Why this site must not submit this job now, or None when it may. A `paused`
    field on the job (written by earlier releases) is ignored: the campaign's declared
    state decides, so resuming the campaign frees its jobs."""
    if job.get("status") != "waiting":
        return f"status is {job.get('status')}"
    reason = campaign_skip_reason(str(job.get("campaign")), site, campaigns)
    if reason is not None:
        return reason
    if str(job.get("rat_version")) not in site.rat_locations:
        return f"RAT {job.get('rat_version')} is not in rat_locations of site {site.name}"
    not_before = job.get("not_before")
    if not_before and parse_iso(str(not_before)) > now:
        return "retry back-off"
    return None


def campaign_skip_reason(
    label: str, site: Site, campaigns: Mapping[str, Campaign]
) -> str | None:
    """Why this site must not submit any job of campaign `label`, or None when it may."""
    campaign = campaigns.get(label)
    if campaign is None:
        return f"campaign {label} is not declared at this commit"
    if campaign.state != "active":
        return f"campaign {campaign.state}"
    if not site.enabled:
        return f"site {site.name} is disabled (draining)"
    if campaign.sites is not None and site.name not in campaign.sites:
        return f"campaign does not allow site {site.name}"
    if not site.accepts_campaign(label):
        return f"site {site.name} does not accept campaign {label}"
    return None


def eligible_campaigns(site: Site, campaigns: Mapping[str, Campaign]) -> list[str]:
    """The campaigns whose waiting jobs this site may take: only their queues are read."""
    return sorted(label for label in campaigns if campaign_skip_reason(label, site, campaigns)
                  is None)


def queue_key(job: Mapping[str, Any]) -> tuple[int, str, str]:
    """Priority (larger first), then age (older first), then id: the order of each
    campaign's queue in the waiting_by_campaign view, and of their merge."""
    return (-int(job.get("priority") or 0), str(job.get("created_at") or ""), str(job["_id"]))


@dataclass(frozen=True)
class Selection:
    chosen: tuple[Doc, ...]
    skipped: Mapping[str, int] = field(default_factory=dict)  # reason -> number of jobs
    free_slots: int = 0


def select_for_submission(
    candidates: Iterable[Doc],
    site: Site,
    campaigns: Mapping[str, Campaign],
    active_at_site: int,
    now: dt.datetime,
) -> Selection:
    """The jobs to submit this cycle, in queue order, filling the site up to `max_running`."""
    free = max(0, site.max_running - active_at_site)
    chosen: list[Doc] = []
    skipped: Counter[str] = Counter()
    for job in sorted(candidates, key=queue_key):
        reason = skip_reason(job, site, campaigns, now)
        if reason is not None:
            skipped[reason] += 1
        elif len(chosen) < free:
            chosen.append(job)
    return Selection(tuple(chosen), dict(skipped), free)


# ---------------------------------------------------------------- transitions


def _current_attempt(doc: Doc) -> dict[str, Any]:
    attempts = doc.get("attempts") or []
    if not attempts:
        attempts.append({"n": int(doc.get("attempt") or 0)})
        doc["attempts"] = attempts
    last: dict[str, Any] = attempts[-1]
    return last


def reserve(
    job: Mapping[str, Any],
    site: str,
    now: dt.datetime,
    where: Mapping[str, str] | None = None,
) -> Doc:
    """Waiting -> reserved by `site` for attempt n+1 (written by compare-and-set).
    `where` ({"host", "work_dir"}) is recorded on the attempt: its script, logs and
    return card live there, whichever reconciler of the site looks at it later."""
    doc = copy_for_change(job)
    n = int(doc.get("attempt") or 0) + 1
    name = backend_name(str(doc["_id"]), n)
    stamp = iso(now)
    doc.update(
        status="reserved",
        site=site,
        attempt=n,
        backend_name=name,
        backend_id=None,
        not_before=None,
        updated_at=stamp,
    )
    doc.setdefault("attempts", [])
    doc["attempts"].append(
        {
            "n": n,
            "site": site,
            "backend_name": name,
            "backend_id": None,
            "reserved_at": stamp,
            "submitted_at": None,
            "finished_at": None,
            "status": "reserved",
            "exit_code": None,
            "reason": None,
            **(where or {}),
        }
    )
    return doc


def recorded_work_dir(job: Mapping[str, Any]) -> str | None:
    """The work folder the current attempt was submitted from, if it was recorded."""
    attempts = job.get("attempts")
    if not isinstance(attempts, list) or not attempts or not isinstance(attempts[-1], dict):
        return None
    last = attempts[-1]
    folder = last.get("work_dir")
    if last.get("n") != job.get("attempt") or not isinstance(folder, str) or not folder:
        return None
    return folder


def mark_submitted(job: Mapping[str, Any], backend_id: str, now: dt.datetime) -> Doc:
    doc = copy_for_change(job)
    stamp = iso(now)
    doc.update(status="submitted", backend_id=backend_id, updated_at=stamp)
    attempt = _current_attempt(doc)
    attempt.update(backend_id=backend_id, submitted_at=attempt.get("submitted_at") or stamp)
    attempt["status"] = "submitted"
    return doc


def mark_running(job: Mapping[str, Any], now: dt.datetime) -> Doc:
    doc = copy_for_change(job)
    doc.update(status="running", updated_at=iso(now))
    _current_attempt(doc)["status"] = "running"
    return doc


def release(job: Mapping[str, Any], reason: str, now: dt.datetime) -> Doc:
    """Back to waiting without having run: the attempt is kept as `released`."""
    doc = copy_for_change(job)
    stamp = iso(now)
    doc.update(
        status="waiting", site=None, backend_id=None, reason=reason, updated_at=stamp
    )
    attempt = _current_attempt(doc)
    attempt.update(status="released", reason=reason, finished_at=stamp)
    return doc


def mark_failed(
    job: Mapping[str, Any],
    reason: str,
    now: dt.datetime,
    *,
    exit_code: int | None = None,
    produced_output: bool = True,
) -> Doc:
    doc = copy_for_change(job)
    stamp = iso(now)
    doc.update(status="failed", reason=reason, updated_at=stamp)
    _current_attempt(doc).update(
        status="failed",
        reason=reason,
        exit_code=exit_code,
        finished_at=stamp,
        produced_output=produced_output,
    )
    return doc


def mark_completed(
    job: Mapping[str, Any], now: dt.datetime, *, exit_code: int | None = 0
) -> Doc:
    doc = copy_for_change(job)
    stamp = iso(now)
    doc.update(status="completed", reason=None, updated_at=stamp)
    _current_attempt(doc).update(
        status="completed", exit_code=exit_code, finished_at=stamp, produced_output=True
    )
    return doc


# ---------------------------------------------------------------- retry


def attempts_run(job: Mapping[str, Any]) -> int:
    """Attempts that reached the batch system (released reservations do not count),
    since the last operator retry (`attempts_counted_from`) gave a fresh budget."""
    counted = (job.get("attempts") or [])[int(job.get("attempts_counted_from") or 0) :]
    return sum(1 for a in counted if a.get("status") != "released")


def backoff_seconds(attempts_done: int, base_s: float = DEFAULT_BACKOFF_S) -> float:
    """Exponential back-off: base, 2 base, 4 base, ... capped at MAX_BACKOFF_S."""
    if base_s <= 0:
        return 0.0
    return float(min(MAX_BACKOFF_S, base_s * 2 ** max(0, attempts_done - 1)))


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    why: str
    not_before: str | None = None


def retry_decision(
    job: Mapping[str, Any],
    campaign: Campaign | None,
    now: dt.datetime,
    base_backoff_s: float = DEFAULT_BACKOFF_S,
) -> RetryDecision:
    """Whether a failed job goes back to waiting, per its campaign's retry policy."""
    if campaign is None:
        return RetryDecision(False, "campaign not declared at this commit")
    if campaign.state != "active":
        return RetryDecision(False, f"campaign {campaign.state}")
    done = attempts_run(job)
    limit = campaign.retry.max_attempts
    if done >= limit:
        return RetryDecision(False, f"gave up after {done} of {limit} attempts")
    reason = str(job.get("reason") or "")
    last = (job.get("attempts") or [{}])[-1]
    matched = next((s for s in campaign.retry.on if s in reason), None)
    if matched is not None:
        why = f"reason matches retry.on {matched!r}"
    elif last.get("produced_output") is False:
        why = "the attempt produced no output"
    else:
        return RetryDecision(False, "reason not listed in retry.on")
    wait = backoff_seconds(done, base_backoff_s)
    return RetryDecision(True, why, iso(now + dt.timedelta(seconds=wait)))


def requeue(job: Mapping[str, Any], decision: RetryDecision, now: dt.datetime) -> Doc:
    """Failed -> waiting for another attempt after the back-off."""
    doc = copy_for_change(job)
    doc.update(
        status="waiting",
        site=None,
        backend_id=None,
        not_before=decision.not_before,
        updated_at=iso(now),
    )
    return doc


def cancel_done(job: Mapping[str, Any], now: dt.datetime, outcome: str) -> Doc:
    """An operator's cancel reached the batch system (or there was nothing to stop)."""
    doc = copy_for_change(job)
    _current_attempt(doc).update(status="cancelled", finished_at=iso(now), reason=outcome)
    doc["updated_at"] = iso(now)
    return doc


# ---------------------------------------------------------------- stale sites


def heartbeat_is_stale(
    heartbeat: Mapping[str, Any] | None, now: dt.datetime, stale_after_s: float
) -> bool:
    """No heartbeat at all, or one older than the limit."""
    if heartbeat is None or not heartbeat.get("heartbeat_at"):
        return True
    age = (now - parse_iso(str(heartbeat["heartbeat_at"]))).total_seconds()
    return age > stale_after_s


@dataclass(frozen=True)
class StaleVerdict:
    release: bool
    reason: str


def stale_verdict(
    job: Mapping[str, Any], found: bool | None, error: str | None, heartbeat_at: str | None
) -> StaleVerdict:
    """A job held by a site whose heartbeat is stale: `found` is whether that site's
    backend knows the job's name (None when the backend could not be asked)."""
    site = job.get("site")
    seen = f"last heartbeat {heartbeat_at}" if heartbeat_at else "no heartbeat"
    if found is None:
        return StaleVerdict(
            True, f"released from stale site {site} ({seen}): its backend cannot be asked: {error}"
        )
    if not found:
        return StaleVerdict(
            True,
            f"released from stale site {site} ({seen}): "
            f"{job.get('backend_name')} is not in its backend",
        )
    return StaleVerdict(False, f"site {site} is stale ({seen}) but its backend still has the job")


# ---------------------------------------------------------------- recovery


def recovery_action(job: Mapping[str, Any], found_backend_id: str | None) -> str:
    """A `reserved` job of this site found at start-up: adopt when the backend has
    its name (the crash came after submit), else release (it never reached it)."""
    return "adopt" if found_backend_id is not None else "release"
