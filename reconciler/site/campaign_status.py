"""The `campaign:<label>` status document: counts per status and conditions.

The conditions follow the Kubernetes habit operators know: Ready (every job
completed), Progressing (jobs waiting or active), Stalled (failed jobs that will
not be retried automatically), Suspended (campaign paused).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from reconciler.documents import ACTIVE_STATUSES, campaign_status_id
from reconciler.errors import Conflict
from reconciler.model import Campaign
from reconciler.site.decisions import iso
from reconciler.store.base import Store

Doc = dict[str, Any]


def conditions(counts: Mapping[str, int], state: str) -> dict[str, bool]:
    """Pure: the campaign's conditions from its job counts and declared state."""
    live = {k: v for k, v in counts.items() if k not in ("canceled", "deleted")}
    total = sum(live.values())
    active = sum(counts.get(s, 0) for s in ACTIVE_STATUSES)
    return {
        "Ready": total > 0 and counts.get("completed", 0) == total,
        "Progressing": state == "active" and (counts.get("waiting", 0) + active) > 0,
        "Stalled": counts.get("failed", 0) > 0,
        "Suspended": state == "paused",
    }


def campaign_counts(store: Store, label: str) -> dict[str, int]:
    rows = store.view(
        "mcprod/jobs_by_campaign_module_status",
        startkey=[label],
        endkey=[label, {}],
        reduce=True,
        group_level=3,
    )
    counts: dict[str, int] = {}
    for row in rows:
        status = str(row.key[2])
        counts[status] = counts.get(status, 0) + int(row.value)
    return counts


def update_campaign_status(
    store: Store, campaign: Campaign, now: dt.datetime, *, commit: str | None, site: str
) -> Doc:
    """Merge counts and conditions into `campaign:<label>`, keeping other writers' fields."""
    counts = campaign_counts(store, campaign.label)
    fields: Doc = {
        "type": "campaign",
        "label": campaign.label,
        "counts": counts,
        "conditions": conditions(counts, campaign.state),
        "status_updated_at": iso(now),
        "status_updated_by": site,
        "status_commit": commit,
    }
    doc_id = campaign_status_id(campaign.label)
    for _ in range(5):
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
