"""Extra campaign labels on documents that already exist.

A campaign may carry `labels:` besides its own label (the legacy label tools added
them after the fact). New jobs get them when they are created and data documents
copy them from their job; this step brings the campaign's existing job and data
documents in line when the declared list changes. The campaign status document
records the list last applied, so an unchanged list reads nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.documents import Doc, campaign_status_id
from reconciler.store.cas import cas_apply, read_docs
from reconciler.store.interface import Store

JOBS_BY_CAMPAIGN = "mcprod/jobs_by_campaign"
DATA_BY_LABEL = "mcprod/data_by_label"


def applied_labels(status: Doc | None, label: str) -> list[str]:
    """The labels the status document says were applied (a campaign's own label when
    it predates extra labels)."""
    recorded = (status or {}).get("labels")
    if isinstance(recorded, list) and all(isinstance(item, str) for item in recorded):
        return list(recorded)
    return [label]


def relabel(store: Store, label: str, labels: Sequence[str]) -> int:
    """Set `labels` on every job and data document of campaign `label` whose labels
    differ; the number of documents changed. Nothing is read when the status document
    already records this list."""
    wanted = list(labels)
    if applied_labels(store.get(campaign_status_id(label)), label) == wanted:
        return 0
    job_rows = store.view(JOBS_BY_CAMPAIGN, startkey=[label], endkey=[label, {}], reduce=False)
    data_rows = store.view(DATA_BY_LABEL, startkey=[label], endkey=[label, {}], reduce=False)
    ids = sorted({row.id for row in [*job_rows, *data_rows] if row.id is not None})
    changed = 0
    for doc in read_docs(store, ids):
        if cas_apply(store, doc, lambda fresh: _with_labels(fresh, label, wanted)) is not None:
            changed += 1
    return changed


def _with_labels(doc: Doc, label: str, wanted: list[str]) -> Doc | None:
    """The document with the declared labels, or None when it is not this campaign's
    or already carries them (a document read back is checked before it is changed)."""
    if doc.get("campaign") != label or doc.get("labels") == wanted:
        return None
    return {**doc, "labels": wanted}
