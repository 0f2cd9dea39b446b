"""Job counts per campaign and module, like the legacy status pages (pure rendering)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

COLUMNS = ("waiting", "reserved", "submitted", "running", "completed", "failed", "cancelled")


@dataclass(frozen=True)
class StatusRow:
    campaign: str
    module: str  # "total" on a campaign's total row
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def percent_complete(self) -> float:
        """Completed share of the jobs that are meant to run (cancelled/deleted excluded)."""
        live = self.total - self.counts.get("cancelled", 0) - self.counts.get("deleted", 0)
        return 100.0 * self.counts.get("completed", 0) / live if live else 0.0


def rows_from_counts(keyed: Iterable[tuple[str, str, str, int]]) -> list[StatusRow]:
    """(campaign, module, status, count) -> module rows, each campaign followed by its total."""
    table: dict[str, dict[str, dict[str, int]]] = {}
    for campaign, module, status, count in keyed:
        per = table.setdefault(campaign, {}).setdefault(module, {})
        per[status] = per.get(status, 0) + count
    rows: list[StatusRow] = []
    for campaign in sorted(table):
        total: dict[str, int] = {}
        for module in sorted(table[campaign]):
            counts = table[campaign][module]
            rows.append(StatusRow(campaign, module, counts))
            for status, n in counts.items():
                total[status] = total.get(status, 0) + n
        rows.append(StatusRow(campaign, "total", total))
    return rows


def _cells(row: StatusRow) -> list[str]:
    return [
        row.campaign, row.module, *(str(row.counts.get(c, 0)) for c in COLUMNS),
        str(row.total), f"{row.percent_complete:.1f}%",
    ]


def render_status_text(rows: list[StatusRow]) -> str:
    header = ["campaign", "module", *COLUMNS, "total", "complete"]
    table = [header, *(_cells(row) for row in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                  for i, (cell, w) in enumerate(zip(cells, widths, strict=True))).rstrip()
        for cells in table
    ]
    return "\n".join(lines) + "\n"


def status_as_json(rows: list[StatusRow]) -> list[dict[str, Any]]:
    return [
        {
            "campaign": row.campaign,
            "module": row.module,
            "counts": {c: row.counts.get(c, 0) for c in (*COLUMNS, "deleted")},
            "total": row.total,
            "percent_complete": round(row.percent_complete, 2),
        }
        for row in rows
    ]


def render_status_json(rows: list[StatusRow]) -> str:
    return json.dumps(status_as_json(rows), indent=2) + "\n"
