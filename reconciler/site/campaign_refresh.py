"""Refresh the counts and conditions of `campaign:<label>` after a site cycle.

The document's shape and its conditions belong to the enqueue step
(reconciler.enqueue.campaign_status); a site cycle changes job statuses afterwards, so it
re-counts and re-derives the conditions with the same function, keeping the
enqueue's `last_error` and everything else it wrote.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from reconciler.documents import Doc, campaign_status_id, iso
from reconciler.enqueue.campaign_status import conditions, counts_by_campaign
from reconciler.errors import Conflict
from reconciler.model import Campaign
from reconciler.store.interface import Store


def refresh_campaign_statuses(
    store: Store, campaigns: Iterable[Campaign], now: dt.datetime, *, site: str
) -> int:
    """Rewrite counts/conditions of each campaign's status document; returns how many."""
    counts = counts_by_campaign(store)
    written = 0
    for campaign in campaigns:
        if _refresh(store, campaign, counts.get(campaign.label, {}), now, site):
            written += 1
    return written


def _refresh(
    store: Store, campaign: Campaign, counts: dict[str, int], now: dt.datetime, site: str
) -> bool:
    doc_id = campaign_status_id(campaign.label)
    for _ in range(5):
        existing = store.get(doc_id)
        if existing is None:
            return False  # the enqueue step creates it; nothing to refresh yet
        flags, reasons = conditions(counts, campaign.state, 0, existing.get("last_error"))
        fields: Doc = {
            "counts": dict(sorted(counts.items())),
            "conditions": flags,
            "condition_reasons": reasons,
            "counts_updated_at": iso(now),
            "counts_updated_by": site,
        }
        if all(existing.get(k) == v for k, v in fields.items() if not k.startswith("counts_u")):
            return False
        try:
            store.update({**existing, **fields})
            return True
        except Conflict:
            continue
    return False
