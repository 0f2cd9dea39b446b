"""`mcprod jobs` and `mcprod jobs --reasons`: job lists and failures grouped by reason (pure).

Reasons are grouped the way an operator reads them: what differs from one job to
the next (URLs, paths, file and job names, hexadecimal ids, numbers) is folded,
so "exit code 3 ... /work/jobs/A/r1/a1/job.err" and "exit code 1 ... /work/jobs/B/r7/a2/job.err"
land in one group that says what went wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.documents import natural_key
from reconciler.overview.job_rows import FailedAttempt, JobLine

EXAMPLES = 3
_FOLDS = (
    (re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE), "<url>"),
    (re.compile(r"\bjob:\S+"), "<job>"),
    (re.compile(r"(?<![\w.~-])(?:~|\.{1,2})?/(?:[\w.+@~-]+/)*[\w.+@~-]*"), "<path>"),
    (re.compile(r"\b[\w.+-]+\.(?:root|mac|log|err|out|json|sh)\b"), "<file>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", re.IGNORECASE), "<hex>"),
    (re.compile(r"(?<![\w<])[-+]?\d+(?:\.\d+)?(?![\w>])"), "N"),
)


def normalise_reason(reason: str) -> str:
    """The reason with URLs, paths, file names, ids and numbers folded; spaces squeezed."""
    text = reason
    for pattern, replacement in _FOLDS:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


@dataclass(frozen=True)
class ReasonGroup:
    reason: str  # normalised
    attempts: int
    jobs: int
    still_failed: int  # jobs whose status is failed now (given up or awaiting a retry)
    examples: tuple[str, ...]  # job ids
    example_reason: str  # one reason as recorded
    sites: tuple[str, ...]
    last_at: str | None


def group_reasons(attempts: Sequence[FailedAttempt]) -> list[ReasonGroup]:
    """Failed attempts grouped by normalised reason, most attempts first."""
    groups: dict[str, list[FailedAttempt]] = {}
    for attempt in attempts:
        groups.setdefault(normalise_reason(attempt.reason), []).append(attempt)
    result = []
    for reason, members in groups.items():
        job_ids = sorted({m.job_id for m in members}, key=natural_key)
        failed_now = {m.job_id for m in members if m.job_status == "failed"}
        stamps = [m.finished_at for m in members if m.finished_at]
        result.append(ReasonGroup(
            reason=reason,
            attempts=len(members),
            jobs=len(job_ids),
            still_failed=len(failed_now),
            examples=tuple(job_ids[:EXAMPLES]),
            example_reason=members[0].reason,
            sites=tuple(sorted({m.site for m in members if m.site})),
            last_at=max(stamps) if stamps else None,
        ))
    return sorted(result, key=lambda g: (-g.attempts, g.reason))


def render_reasons_text(groups: Sequence[ReasonGroup]) -> str:
    if not groups:
        return "no failed attempts\n"
    lines = []
    total = sum(g.attempts for g in groups)
    lines.append(f"{total} failed attempts in {len(groups)} groups of reasons")
    for group in groups:
        lines.append("")
        lines.append(
            f"{group.attempts} attempts, {group.jobs} jobs ({group.still_failed} failed now)"
            f" at {', '.join(group.sites) or 'no site'}; last {group.last_at or 'unknown'}"
        )
        lines.append(f"  reason:  {group.reason}")
        lines.append(f"  e.g.:    {group.example_reason}")
        lines.append(f"  jobs:    {' '.join(group.examples)}"
                     + (" ..." if group.jobs > len(group.examples) else ""))
    return "\n".join(lines) + "\n"


def reasons_as_json(groups: Sequence[ReasonGroup]) -> list[dict[str, Any]]:
    return [
        {
            "reason": g.reason,
            "attempts": g.attempts,
            "jobs": g.jobs,
            "still_failed": g.still_failed,
            "examples": list(g.examples),
            "example_reason": g.example_reason,
            "sites": list(g.sites),
            "last_at": g.last_at,
        }
        for g in groups
    ]


def render_jobs_text(lines: Sequence[JobLine], shown: int | None) -> str:
    if not lines:
        return "no jobs match\n"
    rows = [["job", "status", "site", "attempt", "reason"]]
    visible = lines if shown is None else lines[:shown]
    for line in visible:
        reason = (line.reason or "").replace("\n", " ")
        rows.append([line.id, line.status, line.site or "-", str(line.attempt),
                     reason if len(reason) <= 100 else reason[:97] + "..."])
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    out = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True))
        + "  " + row[4]
        for row in rows
    ]
    out = [line.rstrip() for line in out]
    if shown is not None and len(lines) > shown:
        out.append(f"... and {len(lines) - shown} more (--limit 0 shows every job)")
    out.append(f"{len(lines)} jobs")
    return "\n".join(out) + "\n"


def jobs_as_json(lines: Sequence[JobLine]) -> list[dict[str, Any]]:
    return [
        {
            "id": line.id, "campaign": line.campaign, "module": line.module, "run": line.run,
            "status": line.status, "site": line.site, "attempt": line.attempt,
            "reason": line.reason, "updated_at": line.updated_at,
        }
        for line in lines
    ]


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2) + "\n"
