"""What one site cycle did: a typed record the CLI prints and the loop logs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class SiteCycleResult:
    site: str
    commit: str | None = None
    dry_run: bool = False
    monitor_only: bool = False  # the pulled commit is unusable: last good commit, no new work
    enqueued: int = 0
    adopted: int = 0
    released: int = 0
    running: int = 0
    completed: int = 0
    failed: int = 0
    retried: int = 0
    not_retried: int = 0
    submitted: int = 0
    lost_races: int = 0
    stale_released: int = 0
    cancelled: int = 0  # batch jobs stopped after `mcprod cancel`
    bad_documents: int = 0  # job documents that failed the checks: skipped, on stderr
    waiting_skipped: dict[str, int] = field(default_factory=dict)  # why eligible jobs waited
    submission_blocked: str | None = None  # e.g. the grid proxy is about to expire
    notes: list[str] = field(default_factory=list)
    # Things a person must act on although the cycle itself worked: jobs given up,
    # a grid proxy that is missing, expired or about to expire. Like errors, they make
    # `reconcile --site --once` exit 1 and go to stderr, where cron mails them.
    alerts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    proxy_expires_at: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def needs_human(self) -> bool:
        return bool(self.errors or self.alerts)

    @property
    def idle(self) -> bool:
        """Nothing changed and nothing needs anyone: what `--quiet` does not print."""
        moved = (
            self.enqueued, self.adopted, self.released, self.running, self.completed,
            self.failed, self.retried, self.not_retried, self.submitted, self.lost_races,
            self.stale_released, self.cancelled,
        )
        return not any(moved) and not self.needs_human

    def summary_lines(self) -> list[str]:
        verb = "would " if self.dry_run else ""
        commit = (self.commit or "no commit")[:12]
        head = f"site {self.site} at {commit}" + (" (monitor only)" if self.monitor_only else "")
        lines = [
            head + ":",
            f"  enqueued {self.enqueued}, {verb}submit {self.submitted}"
            f" (lost to another reconciler: {self.lost_races})",
            f"  running {self.running}, completed {self.completed}, failed {self.failed}",
            f"  retried {self.retried}, not retried {self.not_retried}",
            f"  reservations: adopted {self.adopted}, released {self.released},"
            f" released from stale sites {self.stale_released}",
        ]
        if self.submission_blocked:
            lines.append(f"  submission blocked: {self.submission_blocked}")
        if self.cancelled:
            lines.append(f"  stopped after mcprod cancel: {self.cancelled}")
        if self.bad_documents:
            lines.append(f"  job documents skipped, failing the checks: {self.bad_documents}")
        for reason, count in sorted(self.waiting_skipped.items()):
            lines.append(f"  waiting, not submitted here: {count} ({reason})")
        lines.extend(f"  note: {note}" for note in self.notes)
        if self.alerts:
            lines.append(f"  needs a person: {len(self.alerts)} (on stderr)")
        if self.errors:
            lines.append(f"  errors: {len(self.errors)} (on stderr)")
        return lines

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "needs_human": self.needs_human}
