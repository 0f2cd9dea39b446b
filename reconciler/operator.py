"""`mcprod retry` and `mcprod cancel`: explicit operator actions on selected jobs.

Selection is by campaign label, module glob, status, run range and sub-run range. The command
first computes the change as data (`OperatorPlan`), prints it, and applies it only
when it is small (<= CONFIRM_ABOVE jobs) or confirmed with --yes. Every applied
action is recorded in an `oplog:` document (who, when, filters, job ids), and in
each job's `attempts` history.

- retry: failed or cancelled jobs -> waiting, with a fresh attempt budget (the
  campaign's retry.max_attempts counts again from here).
- cancel: waiting, reserved, submitted, running or failed jobs -> cancelled. A job
  that was at a site keeps `cancel_requested` on its attempt, and that site's
  next cycle stops the batch job (only the site can reach its backend).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import getpass
import os
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.documents import Doc, copy_for_change, iso, natural_key
from reconciler.errors import McprodError
from reconciler.store.cas import PAGE, read_docs
from reconciler.store.interface import Store

Action = Literal["retry", "cancel"]
CONFIRM_ABOVE = 100
FROM_STATUSES: Mapping[Action, tuple[str, ...]] = {
    "retry": ("failed", "cancelled"),
    "cancel": ("waiting", "reserved", "submitted", "running", "failed"),
}
DEFAULT_STATUSES: Mapping[Action, tuple[str, ...]] = {
    "retry": ("failed",),
    "cancel": ("waiting", "reserved", "submitted", "running", "failed"),
}
AT_A_SITE = ("reserved", "submitted", "running")


@dataclass(frozen=True)
class Selector:
    label: str | None = None
    module: str | None = None  # glob
    statuses: tuple[str, ...] = ()
    runs: tuple[int, int] | None = None  # inclusive
    subruns: tuple[int, int] | None = None  # inclusive

    def describe(self) -> str:
        parts = []
        if self.label:
            parts.append(f"--label {self.label}")
        if self.module:
            parts.append(f"--module {self.module}")
        parts.extend(f"--status {s}" for s in self.statuses)
        if self.runs:
            parts.append(f"--runs {self.runs[0]}-{self.runs[1]}")
        if self.subruns:
            parts.append(f"--subruns {self.subruns[0]}-{self.subruns[1]}")
        return " ".join(parts)


def parse_runs(
    text: str, option: str = "--runs", example: str = "100151-100200"
) -> tuple[int, int]:
    """`A-B` (inclusive) or a single number `A`; `option` names the flag in errors."""
    # [0-9], not \d: int() would accept other scripts' digits, which no run number uses.
    match = re.fullmatch(r"\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?", text)
    if not match:
        what = "a run" if option == "--runs" else "a sub-run"
        raise McprodError(f"{option} {text!r}: expected {what} range A-B, e.g. {example}")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if last < first:
        raise McprodError(f"{option} {text!r}: the range ends before it starts")
    return first, last


def parse_subruns(text: str) -> tuple[int, int]:
    return parse_runs(text, "--subruns", "0-5")


def check_selector(action: Action, selector: Selector) -> Selector:
    """The selector with the action's default statuses; refuses statuses it cannot act on."""
    allowed = FROM_STATUSES[action]
    for status in selector.statuses:
        if status not in allowed:
            raise McprodError(
                f"--status {status}: {action} acts on {', '.join(allowed)} jobs only"
            )
    if not selector.label and not selector.statuses:
        raise McprodError(f"{action}: choose jobs with --label and/or --status")
    if selector.statuses:
        return selector
    return Selector(
        selector.label, selector.module, DEFAULT_STATUSES[action], selector.runs,
        selector.subruns,
    )


def matches(job: Mapping[str, Any], selector: Selector) -> bool:
    if job.get("type") != "job":
        return False
    if selector.label and job.get("campaign") != selector.label:
        return False
    if selector.module and not fnmatch.fnmatchcase(str(job.get("module")), selector.module):
        return False
    if selector.statuses and job.get("status") not in selector.statuses:
        return False
    if selector.runs:
        run = job.get("run")  # from the store: untrusted, maybe not a number at all
        if not isinstance(run, int) or not selector.runs[0] <= run <= selector.runs[1]:
            return False
    if selector.subruns:
        subrun = job.get("subrun")
        if not isinstance(subrun, int) or not selector.subruns[0] <= subrun <= selector.subruns[1]:
            return False
    return True


def _history(doc: Doc, action: str, at: str, who: str, before: str) -> None:
    doc.setdefault("operator_actions", []).append(
        {"action": action, "at": at, "by": who, "from_status": before}
    )


def retried(job: Mapping[str, Any], now: dt.datetime, who: str) -> Doc:
    doc = copy_for_change(job)
    at = iso(now)
    _history(doc, "retry", at, who, str(job.get("status")))
    doc.update(
        status="waiting",
        site=None,
        backend_id=None,
        not_before=None,
        reason=f"retried by operator {who}",
        attempts_counted_from=len(doc.get("attempts") or []),
        updated_at=at,
    )
    doc.pop("retry_checked", None)
    doc.pop("retry_decision", None)
    return doc


def cancelled(job: Mapping[str, Any], now: dt.datetime, who: str) -> Doc:
    doc = copy_for_change(job)
    before = str(job.get("status"))
    at = iso(now)
    _history(doc, "cancel", at, who, before)
    doc.update(status="cancelled", reason=f"cancelled by operator {who}", updated_at=at)
    if before in AT_A_SITE and doc.get("attempts"):
        doc["attempts"][-1]["status"] = "cancel_requested"
    return doc


TRANSFORMS = {"retry": retried, "cancel": cancelled}


# What a plan keeps of each selected job: enough to show it and to check, when it is
# written, that it is still as the plan showed it; not the whole document: a plan may
# hold 100,000.
_KEPT = ("_id", "status", "module", "run", "subrun")


@dataclass(frozen=True)
class OperatorPlan:
    action: Action
    selector: Selector
    jobs: tuple[Doc, ...]  # the selected jobs as the views or documents showed them: _KEPT

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for job in self.jobs:
            counts[str(job.get("status"))] = counts.get(str(job.get("status")), 0) + 1
        return dict(sorted(counts.items()))

    def lines(self, shown: int = 20) -> list[str]:
        target = "waiting" if self.action == "retry" else "cancelled"
        lines = [f"{self.action}: {len(self.jobs)} jobs match {self.selector.describe()}"]
        lines.extend(f"  {status} -> {target}: {n}" for status, n in self.counts().items())
        lines.extend(f"  {job['_id']} ({job.get('status')})" for job in self.jobs[:shown])
        if len(self.jobs) > shown:
            lines.append(f"  ... and {len(self.jobs) - shown} more")
        return lines


def label_has_jobs(store: Store, label: str) -> bool:
    rows = store.view("mcprod/jobs_by_campaign", startkey=[label], endkey=[label, {}], limit=1)
    return bool(rows)


def unknown_label_error(store: Store, label: str, declared: Sequence[str]) -> str | None:
    """Why `--label` names nothing: neither a declared campaign nor jobs in the store."""
    if label in declared or label_has_jobs(store, label):
        return None
    listed = ", ".join(sorted(declared)) or "none"
    return f"--label {label}: no campaign of that name and no jobs with it (declared: {listed})"


def _row_as_job(row_id: Any, campaign: Any, value: Any) -> dict[str, Any]:
    """What a `jobs_by_campaign` row says about its job: the _KEPT fields, and enough
    for `matches`. The row is as untrusted as the document it comes from; `matches`
    and the apply step check it as they check documents."""
    fields = value if isinstance(value, dict) else {}
    return {"_id": row_id, "type": "job", "campaign": campaign,
            **{name: fields.get(name) for name in _KEPT[1:]}}


def _selected_from_rows(store: Store, selector: Selector) -> list[Doc]:
    """The jobs of a label that match, from `jobs_by_campaign` alone: its rows carry
    status, module, run and sub-run, so no document is read to plan."""
    assert selector.label
    rows = store.view(
        "mcprod/jobs_by_campaign", startkey=[selector.label], endkey=[selector.label, {}]
    )
    chosen: list[Doc] = []
    for row in rows:
        job = _row_as_job(row.id, row.key[0], row.value)
        if isinstance(job["_id"], str) and matches(job, selector):
            del job["type"], job["campaign"]  # what is left is _KEPT
            chosen.append(job)
    return chosen


def _selected_from_documents(store: Store, selector: Selector) -> list[Doc]:
    """Jobs by status, across campaigns: `jobs_by_status_module` narrows them by
    status and module; the documents of those (only) are read for runs and sub-runs."""
    ids: set[str] = set()
    for status in selector.statuses:
        rows = store.view(
            "mcprod/jobs_by_status_module", startkey=[status], endkey=[status, {}],
            reduce=False,
        )
        ids.update(
            row.id for row in rows
            if row.id is not None
            and (not selector.module or fnmatch.fnmatchcase(str(row.key[1]), selector.module))
        )
    chosen: list[Doc] = []
    ordered = sorted(ids)
    for start in range(0, len(ordered), PAGE):  # a page at a time: memory stays flat
        for doc in read_docs(store, ordered[start : start + PAGE]):
            if matches(doc, selector):
                chosen.append({name: doc.get(name) for name in _KEPT})
    return chosen


def plan_action(store: Store, action: Action, selector: Selector) -> OperatorPlan:
    selector = check_selector(action, selector)
    if selector.label:
        chosen = _selected_from_rows(store, selector)
    else:
        chosen = _selected_from_documents(store, selector)
    chosen.sort(key=lambda d: natural_key(str(d["_id"])))
    return OperatorPlan(action, selector, tuple(chosen))


def operator_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


@dataclass(frozen=True)
class Applied:
    changed: tuple[str, ...]
    skipped: tuple[str, ...]  # changed by someone else meanwhile: not touched
    log_id: str


def apply_plan(
    store: Store,
    plan: OperatorPlan,
    now: dt.datetime,
    who: str,
    progress: Callable[[int, int], None] | None = None,
) -> Applied:
    """Write the change by compare-and-set, a page at a time (each page re-read: the plan
    keeps only what it shows). A job is changed only while it still matches the
    selection with the status the plan showed; one that moved on meanwhile (finished,
    retried, cancelled by someone else) is skipped, as is one changed between this
    read and the write."""
    transform = TRANSFORMS[plan.action]
    changed: list[str] = []
    lost: list[str] = []
    for start in range(0, len(plan.jobs), PAGE):
        page = plan.jobs[start : start + PAGE]
        planned = {str(job["_id"]): job.get("status") for job in page}
        fresh = read_docs(store, list(planned))
        current = [
            doc for doc in fresh
            if doc.get("status") == planned[str(doc["_id"])] and matches(doc, plan.selector)
        ]
        unchanged = {str(doc["_id"]) for doc in current}
        lost.extend(job_id for job_id in planned if job_id not in unchanged)
        updates = [transform(doc, now, who) for doc in current]
        for doc, result in zip(updates, store.bulk_update(updates), strict=True):
            (changed if result.ok else lost).append(str(doc["_id"]))
        if progress is not None:
            progress(start + len(page), len(plan.jobs))
    log_id = f"oplog:{iso(now)}:{uuid.uuid4().hex[:8]}"
    store.create(
        {
            "_id": log_id,
            "type": "operator_log",
            "action": plan.action,
            "selector": plan.selector.describe(),
            "by": who,
            "at": iso(now),
            "changed": list(changed),
            "skipped": list(lost),
        }
    )
    return Applied(tuple(changed), tuple(lost), log_id)
