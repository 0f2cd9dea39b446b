"""Failed jobs of this site go back to waiting per their campaign's retry policy.

Each failed attempt is judged once: the decision is stamped on the job
(`retry_checked` = attempt number, `retry_decision` = why) so a job that was not
retried is not re-read and re-written every cycle. `mcprod retry` is the
operator's way to override a "no".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.documents import Doc
from reconciler.job.untrusted import Rejected
from reconciler.model import Campaign
from reconciler.site.decisions import RetryDecision, requeue, retry_decision
from reconciler.site.jobs import site_tasks
from reconciler.store.cas import cas_apply
from reconciler.store.interface import Store


@dataclass
class RetryResult:
    retried: int = 0
    gave_up: int = 0
    given_up: list[str] = field(default_factory=list)  # one line per job given up, for a person


def retry_failed(
    store: Store,
    site: str,
    campaigns: Mapping[str, Campaign],
    now: dt.datetime,
    base_backoff_s: float,
    *,
    dry_run: bool = False,
    rejected: Rejected | None = None,
) -> RetryResult:
    result = RetryResult()
    for job in site_tasks(store, "failed_to_judge", site, rejected):
        if job.get("status") != "failed" or job.get("retry_checked") == job.get("attempt"):
            continue
        decision = retry_decision(job, campaigns.get(str(job.get("campaign"))), now,
                                    base_backoff_s)
        attempt = job.get("attempt")

        def decide(fresh: Doc, decision: RetryDecision = decision,
                   attempt: Any = attempt) -> Doc | None:
            if fresh.get("status") != "failed" or fresh.get("attempt") != attempt:
                return None
            new = requeue(fresh, decision, now) if decision.retry else dict(fresh)
            new.update(retry_checked=attempt, retry_decision=decision.why)
            return new

        if not dry_run and cas_apply(store, job, decide) is None:
            continue
        if decision.retry:
            result.retried += 1
        else:
            result.gave_up += 1
            last = job.get("reason") or "no reason recorded"
            result.given_up.append(
                f"{job['_id']} not retried ({decision.why}); last reason: {last}"
            )
    return result
