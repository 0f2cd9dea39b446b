"""Render a plan summary as text (terminal), JSON (tools) or Markdown (pull requests)."""

from __future__ import annotations

import json
from typing import Any

from reconciler.documents import short_commit
from reconciler.enqueue.plan import CancelJob, Orphan, Plan, UpdateJob
from reconciler.report.plan_summary import CampaignSummary, ModuleRow, PlanSummary

LISTED = 20  # individual updates, cancels and orphans shown before "... and N more"
HEADERS = ("module", "create", "update", "cancel", "orphans", "events", "CPU-hours", "output")


def human_bytes(value: float | None) -> str:
    if value is None:
        return "n/a"
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(value) < 1000 or unit == "PB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _events(row: ModuleRow) -> str:
    cost = row.cost
    if cost.jobs == 0:
        return "0"
    if cost.jobs_without_events == cost.jobs:
        return f"n/a ({cost.jobs} jobs by time or run)"
    text = f"{cost.events:,}"
    if cost.jobs_without_events:
        text += f" (+{cost.jobs_without_events} jobs by time or run)"
    return text


def _hours(row: ModuleRow) -> str:
    cost = row.cost
    if cost.jobs == 0:
        return "0"
    if cost.cpu_hours is None:
        return "n/a (no benchmark)"
    if cost.jobs_without_events == cost.jobs:
        return "n/a"
    mark = " (default benchmark)" if cost.benchmark == "default" else ""
    return f"{_number(cost.cpu_hours)}{mark}"


def _number(value: float) -> str:
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def _output(row: ModuleRow) -> str:
    cost = row.cost
    if cost.jobs == 0:
        return "0"
    if cost.jobs_without_events == cost.jobs:
        return "n/a"
    return human_bytes(cost.output_bytes)


def _cells(row: ModuleRow) -> tuple[str, ...]:
    return (
        row.module, str(row.create), str(row.update), str(row.cancel), str(row.orphans),
        _events(row), _hours(row), _output(row),
    )


def _totals(summary: PlanSummary) -> str:
    hours = sum(r.cost.cpu_hours or 0.0 for c in summary.campaigns for r in c.rows)
    output = sum(r.cost.output_bytes or 0.0 for c in summary.campaigns for r in c.rows)
    return (
        f"create {summary.total('create')}, update {summary.total('update')}, "
        f"cancel {summary.total('cancel')}, orphans {summary.total('orphans')}; "
        f"{_number(hours)} CPU-hours, {human_bytes(output)} output"
    )


def _heading(campaign: CampaignSummary) -> str:
    if not campaign.declared:
        return f"campaign {campaign.label} (no longer declared: its jobs are orphans)"
    sites = ", ".join(campaign.sites) if campaign.sites else "none"
    return (
        f"campaign {campaign.label}: RAT {campaign.rat_version}, {campaign.state}, "
        f"{campaign.desired_jobs} jobs declared, sites: {sites}"
    )


def _listing(plan: Plan) -> list[str]:
    lines: list[str] = []
    groups: list[tuple[str, tuple[UpdateJob | CancelJob | Orphan, ...]]] = [
        ("update", plan.updates), ("cancel", plan.cancels),
        ("withheld cancel", plan.withheld), ("orphan", plan.orphans),
    ]
    for verb, items in groups:
        for item in items[:LISTED]:
            if isinstance(item, UpdateJob):
                what = ", ".join(f"{c.field} {c.old} -> {c.new}" for c in item.changes)
            elif isinstance(item, Orphan):
                what = f"{item.status}, {item.reason}"
            else:
                what = item.reason
            lines.append(f"  {verb} {item.job_id}: {what}")
        if len(items) > LISTED:
            lines.append(f"  ... and {len(items) - LISTED} more to {verb}")
    return lines


def render_text(summary: PlanSummary, plan: Plan) -> str:
    commit = short_commit(summary.commit) if summary.commit else "working tree"
    lines = [f"Plan for {commit} (store holds {summary.observed_jobs} jobs)"]
    if not summary.campaigns:
        lines.append("No campaigns declared and no jobs in the store.")
    for campaign in summary.campaigns:
        lines.append("")
        lines.append(_heading(campaign))
        if not campaign.rows:
            lines.append("  up to date")
            continue
        table = [HEADERS, *(_cells(row) for row in campaign.rows)]
        widths = [max(len(r[i]) for r in table) for i in range(len(HEADERS))]
        for cells in table:
            lines.append("  " + "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
            ).rstrip())
    listing = _listing(plan)
    if listing:
        lines += ["", "Changes to existing jobs:", *listing]
    lines += ["", f"Total: {_totals(summary)}"]
    lines += summary.warnings
    if summary.refusal:
        lines.append(summary.refusal)
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(summary: PlanSummary, plan: Plan) -> str:
    commit = f"`{short_commit(summary.commit)}`" if summary.commit else "the working tree"
    lines = [f"Plan for {commit}; the store holds {summary.observed_jobs} jobs.", ""]
    if not summary.campaigns:
        lines.append("No campaigns declared and no jobs in the store.")
    for campaign in summary.campaigns:
        lines.append(f"### {_md_cell(_heading(campaign))}")
        lines.append("")
        if not campaign.rows:
            lines += ["Up to date.", ""]
            continue
        lines.append("| " + " | ".join(HEADERS) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(HEADERS) - 1)) + "|")
        for row in campaign.rows:
            lines.append("| " + " | ".join(_md_cell(c) for c in _cells(row)) + " |")
        lines.append("")
    listing = _listing(plan)
    if listing:
        lines += ["<details><summary>Changes to existing jobs</summary>", "", "```"]
        lines += [line.strip() for line in listing]
        lines += ["```", "</details>", ""]
    lines.append(f"**Total:** {_totals(summary)}")
    for warning in summary.warnings:
        lines += ["", f"> :warning: {_md_cell(warning)}"]
    if summary.refusal:
        lines += ["", f"> :no_entry: {_md_cell(summary.refusal)}"]
    return "\n".join(lines) + "\n"


def _row_json(row: ModuleRow) -> dict[str, Any]:
    cost = row.cost
    return {
        "module": row.module, "create": row.create, "update": row.update,
        "cancel": row.cancel, "withheld": row.withheld, "orphans": row.orphans,
        "events": cost.events, "jobs_without_events": cost.jobs_without_events,
        "cpu_hours": cost.cpu_hours, "output_bytes": cost.output_bytes,
        "benchmark": cost.benchmark,
    }


def plan_as_json(summary: PlanSummary, plan: Plan) -> dict[str, Any]:
    return {
        "commit": summary.commit,
        "observed_jobs": summary.observed_jobs,
        "campaigns": [
            {
                "label": c.label, "rat_version": c.rat_version, "state": c.state,
                "declared": c.declared, "desired_jobs": c.desired_jobs, "sites": list(c.sites),
                "catalogue": c.catalogue_origin, "modules": [_row_json(r) for r in c.rows],
            }
            for c in summary.campaigns
        ],
        "actions": [
            *(
                {"action": "create", "campaign": a.campaign, "module": a.module,
                 "entry_key": a.job.entry.entry_key, "run": a.job.run, "subrun": a.job.subrun,
                 "index": a.job.index,
                 "events": a.job.events, "duration_s": a.job.entry.duration_s,
                 "priority": a.job.entry.priority}
                for a in plan.creates
            ),
            *(
                {"action": "update", "job_id": a.job_id, "campaign": a.campaign,
                 "module": a.module,
                 "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in a.changes]}
                for a in plan.updates
            ),
            *(
                {"action": "cancel", "job_id": a.job_id, "campaign": a.campaign,
                 "module": a.module, "reason": a.reason}
                for a in plan.cancels
            ),
        ],
        "withheld": [
            {"job_id": a.job_id, "campaign": a.campaign, "module": a.module, "reason": a.reason}
            for a in plan.withheld
        ],
        "orphans": [
            {"job_id": o.job_id, "campaign": o.campaign, "module": o.module,
             "status": o.status, "reason": o.reason}
            for o in plan.orphans
        ],
        "warnings": list(summary.warnings),
        "refusal": summary.refusal,
    }


def render_json(summary: PlanSummary, plan: Plan) -> str:
    return json.dumps(plan_as_json(summary, plan), indent=2, sort_keys=True) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
