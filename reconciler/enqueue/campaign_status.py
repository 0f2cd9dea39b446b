"""The `campaign:<label>` status document written after each enqueue.

Fields written here (merged into the document, other writers' fields kept):
`type`, `label`, `state`, `counts` (per job status), `conditions` ({name: bool}, the
shape the site cycle writes too), `condition_reasons` ({name: text}),
`desired_jobs`, `declared_entries` ({entry key: {module, jobs}}: what `mcprod status`
tells orphans apart by), `last_applied_commit`, `applied_at`, `last_error` (None when the
last enqueue succeeded), `applied_fingerprint` (what was fully applied, see
reconciler.enqueue.step.fingerprints; None after a failed or refused apply),
`entry_fingerprints` ({entry key: fingerprint} of the entries fully applied, see
reconciler.enqueue.step.entry_fingerprints; None when `applied_fingerprint` is).

Conditions: Ready (every live job completed and nothing left to create), Progressing
(active campaign with waiting or active jobs, or jobs still to create), Stalled
(failed jobs, or the last enqueue failed or was refused), Suspended (paused).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.documents import ACTIVE_STATUSES, Doc, campaign_status_id, now_iso
from reconciler.errors import Conflict
from reconciler.store.interface import Store

COUNTS_VIEW = "mcprod/jobs_by_campaign_module_status"
CAS_ROUNDS = 5


def conditions(
    counts: Mapping[str, int], state: str, missing: int, error: str | None
) -> tuple[dict[str, bool], dict[str, str]]:
    """Pure: conditions and their reasons from counts, state, jobs still to create."""
    live = sum(n for status, n in counts.items() if status not in ("cancelled", "deleted"))
    completed = counts.get("completed", 0)
    pending = counts.get("waiting", 0) + sum(counts.get(s, 0) for s in ACTIVE_STATUSES)
    failed = counts.get("failed", 0)
    flags = {
        "Ready": live > 0 and completed == live and missing == 0 and error is None,
        "Progressing": state == "active" and (pending > 0 or missing > 0),
        "Stalled": failed > 0 or error is not None,
        "Suspended": state == "paused",
    }
    reasons = {
        "Ready": f"{completed} of {live} jobs completed"
        + (f", {missing} not created yet" if missing else ""),
        "Progressing": f"{pending} jobs waiting or active" if state == "active"
        else f"campaign state: {state}",
        "Stalled": error if error is not None else f"{failed} jobs failed",
        "Suspended": "campaign state: paused" if state == "paused" else "not paused",
    }
    return flags, reasons


def counts_by_campaign(store: Store) -> dict[str, dict[str, int]]:
    """Job counts per status of every campaign, from one grouped reduce query."""
    counts: dict[str, dict[str, int]] = {}
    for row in store.view(COUNTS_VIEW, reduce=True, group_level=3):
        label, _module, status = row.key
        per = counts.setdefault(str(label), {})
        per[str(status)] = per.get(str(status), 0) + int(row.value)
    return counts


def write_campaign_status(
    store: Store,
    label: str,
    *,
    state: str,
    counts: Mapping[str, int],
    desired_jobs: int,
    missing: int,
    commit: str | None,
    error: str | None,
    fingerprint: str | None = None,
    entry_fingerprints: Mapping[str, str] | None = None,
    entries: Mapping[str, Mapping[str, Any]] | None = None,
    labels: Sequence[str] | None = None,
) -> Doc:
    flags, reasons = conditions(counts, state, missing, error)
    fields: dict[str, Any] = {
        "type": "campaign",
        "label": label,
        "state": state,
        "counts": dict(sorted(counts.items())),
        "conditions": flags,
        "condition_reasons": reasons,
        "desired_jobs": desired_jobs,
        "applied_at": now_iso(),
        "last_error": error,
    }
    if error is None:
        fields["last_applied_commit"] = commit
        if labels is not None:
            fields["labels"] = list(labels)  # what enqueue.labels compares with next time
    if entries is not None:
        fields["declared_entries"] = {key: dict(value) for key, value in sorted(entries.items())}
    # Only a complete, error-free apply records what was applied (see enqueue).
    fields["applied_fingerprint"] = fingerprint
    fields["entry_fingerprints"] = (
        dict(sorted(entry_fingerprints.items()))
        if fingerprint is not None and entry_fingerprints is not None else None
    )
    doc_id = campaign_status_id(label)
    for _ in range(CAS_ROUNDS):
        existing = store.get(doc_id)
        if existing is None:
            created = store.create({"_id": doc_id, **fields})
            if created.created:
                return created.doc
            continue
        try:
            return store.update({**existing, **fields})
        except Conflict:
            continue
    raise Conflict(doc_id)


def restate_campaign(store: Store, label: str, state: str) -> Doc:
    """Record a declared state that changed nothing else (paused <-> active): no job
    changes, so only the status document's state and conditions are rewritten, from
    the counts it holds (a fully applied campaign has no jobs still to create)."""
    doc_id = campaign_status_id(label)
    for _ in range(CAS_ROUNDS):
        existing = store.get(doc_id)
        if existing is None:
            raise Conflict(doc_id)
        recorded = existing.get("counts")
        counts = {
            str(status): n for status, n in (recorded.items() if isinstance(recorded, dict)
                                              else ()) if isinstance(n, int)
        }
        error = existing.get("last_error")
        flags, reasons = conditions(counts, state, 0, error if isinstance(error, str) else None)
        try:
            return store.update({**existing, "state": state, "conditions": flags,
                                 "condition_reasons": reasons})
        except Conflict:
            continue
    raise Conflict(doc_id)
