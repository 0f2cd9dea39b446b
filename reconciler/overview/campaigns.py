"""Per campaign: its state and conditions, job counts per module, orphans counted apart.

Counts come from one grouped reduce query (`jobs_by_campaign_entry_status`, level 4:
campaign, entry, module, status), never from reading job documents, so `status`
costs the same with a thousand jobs or a million. The campaign status document
names the entries the last enqueue declared (`declared_entries`); jobs of any other
entry are orphans (their entry was removed, or its physics changed) and are shown
apart from the declared total, as `mcprod plan` reports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.documents import Doc, campaign_status_id
from reconciler.store.interface import Store

ENTRY_VIEW = "mcprod/jobs_by_campaign_entry_status"
DEAD = ("canceled", "cancelled", "deleted")


@dataclass(frozen=True)
class ModuleCounts:
    module: str
    counts: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def live(self) -> int:
        """Jobs meant to run: cancelled and deleted ones excluded."""
        return self.total - sum(self.counts.get(status, 0) for status in DEAD)

    @property
    def percent_complete(self) -> float:
        return 100.0 * self.counts.get("completed", 0) / self.live if self.live else 0.0


def summed(module: str, rows: tuple[ModuleCounts, ...]) -> ModuleCounts:
    counts: dict[str, int] = {}
    for row in rows:
        for status, n in row.counts.items():
            counts[status] = counts.get(status, 0) + n
    return ModuleCounts(module, counts)


@dataclass(frozen=True)
class CampaignOverview:
    label: str
    modules: tuple[ModuleCounts, ...]  # jobs of declared entries, per module
    orphans: tuple[ModuleCounts, ...] = ()  # jobs of entries no longer declared, per module
    state: str | None = None  # active | paused | cancelled; None without a status document
    conditions: Mapping[str, bool] = field(default_factory=dict)
    reasons: Mapping[str, str] = field(default_factory=dict)
    declared_jobs: int | None = None
    last_error: str | None = None
    commit: str | None = None
    updated_at: str | None = None

    @property
    def total(self) -> ModuleCounts:
        return summed("total", self.modules)

    @property
    def orphan_total(self) -> ModuleCounts:
        return summed("orphans", self.orphans)


def _grouped(store: Store, label: str | None) -> dict[str, dict[tuple[str, str], dict[str, int]]]:
    """campaign -> (entry key, module) -> status -> jobs. Counts a person reads: CouchDB
    may answer from its index as it is (stale_ok) rather than make them wait for it."""
    if label is None:
        rows = store.view(ENTRY_VIEW, reduce=True, group_level=4, stale_ok=True)
    else:
        rows = store.view(ENTRY_VIEW, startkey=[label], endkey=[label, {}], reduce=True,
                          group_level=4, stale_ok=True)
    table: dict[str, dict[tuple[str, str], dict[str, int]]] = {}
    for row in rows:
        campaign, entry, module, status = (row.key + [None] * 4)[:4]
        per = table.setdefault(str(campaign), {}).setdefault((str(entry), str(module)), {})
        per[str(status)] = per.get(str(status), 0) + int(row.value)
    return table


def _by_module(parts: Mapping[tuple[str, str], Mapping[str, int]]) -> tuple[ModuleCounts, ...]:
    modules: dict[str, dict[str, int]] = {}
    for (_entry, module), counts in parts.items():
        per = modules.setdefault(module, {})
        for status, n in counts.items():
            per[status] = per.get(status, 0) + n
    return tuple(ModuleCounts(m, modules[m]) for m in sorted(modules))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def overview(label: str, parts: Mapping[tuple[str, str], Mapping[str, int]],
             doc: Doc | None) -> CampaignOverview:
    """One campaign's overview from its grouped counts and its status document (pure)."""
    if doc is None:
        return CampaignOverview(label, _by_module(parts))
    declared_entries = doc.get("declared_entries")
    if isinstance(declared_entries, dict):
        declared = {k: v for k, v in parts.items() if k[0] in declared_entries}
        orphaned = {k: v for k, v in parts.items() if k[0] not in declared_entries}
    else:  # written before entries were recorded: nothing can be told apart
        declared, orphaned = dict(parts), {}
    conditions = doc.get("conditions") if isinstance(doc.get("conditions"), dict) else {}
    reasons = doc.get("condition_reasons")
    desired = doc.get("desired_jobs")
    return CampaignOverview(
        label,
        _by_module(declared),
        _by_module(orphaned),
        state=_text(doc.get("state")),
        conditions={str(k): bool(v) for k, v in (conditions or {}).items()},
        reasons={str(k): str(v) for k, v in reasons.items()} if isinstance(reasons, dict) else {},
        declared_jobs=desired if isinstance(desired, int) else None,
        last_error=_text(doc.get("last_error")),
        commit=_text(doc.get("last_applied_commit")),
        updated_at=_text(doc.get("counts_updated_at")) or _text(doc.get("applied_at")),
    )


def read_campaigns(store: Store, label: str | None = None) -> list[CampaignOverview]:
    """Every campaign with jobs (or only `label`), sorted by label."""
    table = _grouped(store, label)
    labels = sorted(table)
    docs = store.get_many([campaign_status_id(name) for name in labels]) if labels else []
    return [
        overview(name, table[name], doc)
        for name, doc in zip(labels, docs, strict=True)
    ]
