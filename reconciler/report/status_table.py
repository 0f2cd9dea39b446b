"""`mcprod status` as text or JSON: per campaign its state, then counts per module (pure).

Orphans (jobs of entries the campaign no longer declares) get their own line under
the total and are not part of it, so the total and the percentage describe what
the campaign declares now, as `mcprod plan` does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.overview.campaigns import CampaignOverview, ModuleCounts

COLUMNS = ("waiting", "reserved", "submitted", "running", "completed", "failed", "cancelled")
EVERY_STATUS = (*COLUMNS, "deleted")
# Most telling first: a stalled campaign is stalled even while other jobs progress.
CONDITION_ORDER = ("Stalled", "Ready", "Progressing", "Suspended")


def state_text(campaign: CampaignOverview) -> str:
    """`active, Progressing: 4 jobs waiting or active` and the like."""
    if campaign.state is None:
        return "unknown (no campaign status document yet)"
    if campaign.state in ("paused", "cancelled"):
        return campaign.state
    for name in CONDITION_ORDER:
        if campaign.conditions.get(name):
            reason = campaign.reasons.get(name)
            return f"{campaign.state}, {name}" + (f": {reason}" if reason else "")
    return f"{campaign.state}, idle"


def condition_of(campaign: CampaignOverview) -> str:
    """One word for the dashboard badge."""
    if campaign.state in (None, "paused", "cancelled"):
        return campaign.state or "unknown"
    return next((n for n in CONDITION_ORDER if campaign.conditions.get(n)), "idle")


def _count(row: ModuleCounts, status: str) -> int:
    if status == "cancelled":  # documents written before the rename say "canceled"
        return row.counts.get("cancelled", 0) + row.counts.get("canceled", 0)
    return row.counts.get(status, 0)


def _cells(name: str, row: ModuleCounts) -> list[str]:
    return [name, *(str(_count(row, c)) for c in COLUMNS), str(row.total),
            f"{row.percent_complete:.1f}%"]


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                         for i, (cell, w) in enumerate(zip(cells, widths, strict=True))).rstrip()
        for cells in rows
    ]


def render_status_text(campaigns: Sequence[CampaignOverview]) -> str:
    blocks = []
    for campaign in campaigns:
        head = f"{campaign.label}: {state_text(campaign)}"
        if campaign.last_error:
            head += f"\n  last error: {campaign.last_error}"
        rows = [["module", *COLUMNS, "total", "complete"]]
        rows.extend(_cells(row.module, row) for row in campaign.modules)
        rows.append(_cells("total", campaign.total))
        lines = [head, *_table(rows)]
        orphans = campaign.orphan_total
        if orphans.total:
            shown = ", ".join(f"{s} {n}" for s, n in sorted(orphans.counts.items()) if n)
            lines.append(
                f"  orphans: {orphans.live} jobs of entries no longer declared, not in the total"
                f" ({shown}); see `mcprod plan`"
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _counts_json(row: ModuleCounts) -> dict[str, Any]:
    return {
        "module": row.module,
        "counts": {c: _count(row, c) for c in EVERY_STATUS},
        "total": row.total,
        "percent_complete": round(row.percent_complete, 2),
    }


def status_as_json(campaigns: Sequence[CampaignOverview]) -> list[dict[str, Any]]:
    return [
        {
            "campaign": c.label,
            "state": c.state,
            "condition": condition_of(c),
            "state_text": state_text(c),
            "conditions": dict(c.conditions),
            "condition_reasons": dict(c.reasons),
            "declared_jobs": c.declared_jobs,
            "last_error": c.last_error,
            "modules": [_counts_json(row) for row in c.modules],
            "total": _counts_json(c.total),
            "orphans": {
                "jobs": c.orphan_total.live,
                "counts": {s: n for s, n in sorted(c.orphan_total.counts.items())},
                "modules": [_counts_json(row) for row in c.orphans],
            },
        }
        for c in campaigns
    ]


def render_status_json(campaigns: Sequence[CampaignOverview]) -> str:
    return json.dumps(status_as_json(campaigns), indent=2) + "\n"
