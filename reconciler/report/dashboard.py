"""`mcprod report --html DIR`: one static, self-contained HTML page (pure rendering).

No server, no script, no CDN: styles are inline, plots are inline SVG, so the page
opens from a file, a CI artefact or GitHub Pages, and loads nothing from the
network. Everything read from the store is escaped before it is written.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.overview.campaigns import CampaignOverview, ModuleCounts
from reconciler.overview.sites import SiteOverview
from reconciler.report.plots import burn_down, throughput
from reconciler.report.site_view import age_text
from reconciler.report.status_table import COLUMNS, condition_of, state_text
from reconciler.report.triage import ReasonGroup

REASONS_SHOWN = 15


@dataclass(frozen=True)
class CampaignPage:
    overview: CampaignOverview
    completed_at: tuple[dt.datetime, ...]
    reasons: tuple[ReasonGroup, ...]


@dataclass(frozen=True)
class SitePage:
    overview: SiteOverview
    completed_at: tuple[dt.datetime, ...]
    failed_at: tuple[dt.datetime, ...]


@dataclass(frozen=True)
class Dashboard:
    generated_at: dt.datetime
    source: str  # the store's URL, password masked
    campaigns: tuple[CampaignPage, ...]
    sites: tuple[SitePage, ...]


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
margin:0;color:#212121;background:#fafafa}
header{background:#263238;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px} header p{margin:4px 0 0;color:#b0bec5;font-size:13px}
main{padding:8px 24px 32px;max-width:1100px}
h2{font-size:17px;margin:28px 0 6px;border-bottom:1px solid #cfd8dc;padding-bottom:4px}
h3{font-size:14px;margin:14px 0 4px}
table{border-collapse:collapse;font-size:13px;background:#fff;margin:4px 0 8px}
th,td{padding:4px 8px;border-bottom:1px solid #eceff1;text-align:right;vertical-align:top}
th{background:#eceff1;font-weight:600}
td.l,th.l{text-align:left}
.bar{width:180px;height:12px;background:#e0e0e0;border-radius:6px;overflow:hidden;
display:inline-block;vertical-align:middle}
.bar>span{display:block;height:100%;background:#2e7d32}
.badge{display:inline-block;padding:1px 8px;border-radius:9px;font-size:12px;color:#fff}
.Ready{background:#2e7d32}.Progressing{background:#1565c0}.Stalled{background:#c62828}
.paused,.Suspended{background:#f9a825;color:#212121}.cancelled,.unknown,.idle{background:#757575}
.muted{color:#757575;font-size:12px} code{font-size:12px}
.plot svg{max-width:100%;height:auto;background:#fff}
.reason{max-width:560px;word-break:break-word}
main p{font-size:14px;margin:6px 0}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _bar(percent: float) -> str:
    width = max(0.0, min(100.0, percent))
    return f'<span class="bar"><span style="width:{width:.1f}%"></span></span> {width:.1f}%'


def _badge(campaign: CampaignOverview) -> str:
    condition = condition_of(campaign)
    return f'<span class="badge {_e(condition)}">{_e(condition)}</span>'


def _overview_table(pages: Sequence[CampaignPage]) -> str:
    rows = []
    for number, page in enumerate(pages):
        c = page.overview
        total = c.total
        rows.append(
            f'<tr><td class="l"><a href="#campaign-{number}">{_e(c.label)}</a></td>'
            f'<td class="l">{_e(c.state or "unknown")} {_badge(c)}</td>'
            f'<td class="l">{_bar(total.percent_complete)}</td>'
            f"<td>{total.counts.get('completed', 0)}</td><td>{total.live}</td>"
            f"<td>{total.counts.get('failed', 0)}</td><td>{c.orphan_total.live}</td></tr>"
        )
    return (
        '<table><tr><th class="l">campaign</th><th class="l">state</th>'
        '<th class="l">progress</th><th>completed</th><th>jobs</th><th>failed</th>'
        f'<th>orphans</th></tr>{"".join(rows)}</table>'
    )


def _count(row: ModuleCounts, status: str) -> int:
    if status == "cancelled":
        return row.counts.get("cancelled", 0) + row.counts.get("canceled", 0)
    return row.counts.get(status, 0)


def _module_table(campaign: CampaignOverview) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in COLUMNS)
    rows = []
    for row in (*campaign.modules, campaign.total):
        cells = "".join(f"<td>{_count(row, c)}</td>" for c in COLUMNS)
        name = f"<b>{_e(row.module)}</b>" if row.module == "total" else _e(row.module)
        rows.append(f'<tr><td class="l">{name}</td>{cells}<td>{row.total}</td>'
                    f'<td class="l">{_bar(row.percent_complete)}</td></tr>')
    table = (f'<table><tr><th class="l">module</th>{head}<th>total</th>'
             f'<th class="l">complete</th></tr>{"".join(rows)}</table>')
    orphans = campaign.orphan_total
    if orphans.total:
        shown = ", ".join(f"{_e(s)} {n}" for s, n in sorted(orphans.counts.items()) if n)
        table += (f'<p class="muted">Orphans (entries no longer declared, not in the total):'
                  f" {orphans.live} jobs ({shown}).</p>")
    return table


def _reasons_table(reasons: Sequence[ReasonGroup]) -> str:
    if not reasons:
        return '<p class="muted">No failed attempts.</p>'
    rows = "".join(
        f'<tr><td class="l reason"><code>{_e(g.reason)}</code></td><td>{g.attempts}</td>'
        f"<td>{g.jobs}</td><td>{g.still_failed}</td>"
        f'<td class="l">{_e(", ".join(g.sites))}</td>'
        f'<td class="l"><code>{"<br>".join(_e(x) for x in g.examples)}</code></td></tr>'
        for g in reasons[:REASONS_SHOWN]
    )
    more = (f'<p class="muted">{len(reasons) - REASONS_SHOWN} more groups:'
            " <code>mcprod jobs --reasons</code>.</p>" if len(reasons) > REASONS_SHOWN else "")
    return (
        '<table class="failures"><tr><th class="l">reason (numbers and paths folded)</th>'
        '<th>attempts</th><th>jobs</th><th>failed now</th><th class="l">sites</th>'
        f'<th class="l">example jobs</th></tr>{rows}</table>{more}'
    )


def _campaign_section(number: int, page: CampaignPage, now: dt.datetime) -> str:
    c = page.overview
    error = f'<p class="muted">Last error: {_e(c.last_error)}</p>' if c.last_error else ""
    plot = burn_down(c.label, page.completed_at, c.total.live, now)
    return (
        f'<section class="campaign" id="campaign-{number}"><h2>{_e(c.label)} {_badge(c)}</h2>'
        f'<p>{_e(state_text(c))}</p>{error}'
        f'<div class="plot">{plot}</div>'
        f"<h3>Modules</h3>{_module_table(c)}"
        f"<h3>Failure reasons</h3>{_reasons_table(page.reasons)}</section>"
    )


def _site_section(page: SitePage, now: dt.datetime) -> str:
    s = page.overview
    lease = "no lease" if s.lease is None else f"held by {s.lease.holder}"
    heartbeat = (f"{s.heartbeat_at} ({age_text(s.heartbeat_age_s)})" if s.heartbeat_at
                 else "never")
    errors = "".join(f"<li><code>{_e(e)}</code></li>" for e in (*s.last_alerts, *s.last_errors))
    plot = throughput(s.name, page.completed_at, page.failed_at, now)
    return (
        f'<section class="site"><h3>site {_e(s.name)}</h3>'
        f"<table><tr><th class=\"l\">heartbeat</th><th class=\"l\">lease</th><th>running</th>"
        f"<th>queued</th><th>completed 24 h</th><th>failed 24 h</th></tr>"
        f'<tr><td class="l">{_e(heartbeat)}</td><td class="l">{_e(lease)}</td>'
        f"<td>{s.running}</td><td>{s.queued}</td>"
        f"<td>{s.finished_24h.get('completed', 0)}</td>"
        f"<td>{s.finished_24h.get('failed', 0)}</td></tr></table>"
        + (f"<p>Last cycle needs attention:</p><ul>{errors}</ul>" if errors else "")
        + f'<div class="plot">{plot}</div></section>'
    )


def render_dashboard(board: Dashboard) -> str:
    now = board.generated_at
    stamp = now.strftime("%Y-%m-%d %H:%M UTC")
    campaigns = "".join(_campaign_section(i, p, now) for i, p in enumerate(board.campaigns))
    sites = "".join(_site_section(p, now) for p in board.sites) or (
        '<p class="muted">No site has finished an attempt yet.</p>')
    overview = _overview_table(board.campaigns) if board.campaigns else (
        '<p class="muted">No jobs in the store.</p>')
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>mcprod production dashboard</title><style>{STYLE}</style></head><body>"
        f"<header><h1>mcprod production dashboard</h1>"
        f"<p>Generated {_e(stamp)} from {_e(board.source)}</p></header><main>"
        f"<h2>Campaigns</h2>{overview}{campaigns}"
        f"<h2>Sites</h2>{sites}</main></body></html>\n"
    )
