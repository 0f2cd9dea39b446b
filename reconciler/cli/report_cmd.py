"""`mcprod report --html DIR`: the static production dashboard."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reconciler.cli.enqueue_options import DbOption, RepoOption
from reconciler.cli.progress import spinner
from reconciler.cli.reading import reading_store
from reconciler.cli.writing import write_all
from reconciler.overview.campaigns import read_campaigns
from reconciler.overview.history import completion_times, finished_times
from reconciler.overview.job_rows import JobFilter, failed_attempts
from reconciler.overview.sites import known_sites, read_site
from reconciler.store.interface import Store

if TYPE_CHECKING:
    from reconciler.report.dashboard import Dashboard


def _board(store: Store, label: str | None, now: dt.datetime) -> Dashboard:
    # Imported here: matplotlib costs a second, and only this command needs it.
    from reconciler.report.dashboard import CampaignPage, Dashboard, SitePage
    from reconciler.report.triage import group_reasons

    campaigns = tuple(
        CampaignPage(
            overview,
            tuple(completion_times(store, overview.label)),
            tuple(group_reasons(failed_attempts(store, JobFilter(overview.label)))),
        )
        for overview in read_campaigns(store, label)
    )
    sites = tuple(
        SitePage(read_site(store, name, now), tuple(finished_times(store, name, "completed")),
                 tuple(finished_times(store, name, "failed")))
        for name in known_sites(store)
    )
    return Dashboard(now, store.display_url, campaigns, sites)


def report(
    html_dir: Annotated[
        Path, typer.Option("--html", metavar="DIR", help="Folder to write index.html into.")
    ],
    label: Annotated[str | None, typer.Option("--label", help="Only this campaign.")] = None,
    repo: RepoOption = Path("."),
    db: DbOption = None,
) -> None:
    """A static dashboard: campaigns with progress and state, a burn-down plot per
    campaign, modules, failure reasons, and per site its throughput and heartbeat.

    Self-contained (inline styles and SVG plots, no script, nothing from the network):
    it opens from a file, a CI artefact or GitHub Pages.

    Example:

      mcprod report --html public/
    """
    from reconciler.report.dashboard import render_dashboard

    now = dt.datetime.now(dt.UTC)
    with reading_store(db, repo) as store, spinner("reading the store"):
        board = _board(store, label, now)
    with spinner("drawing the plots"):
        page = render_dashboard(board)
    target = html_dir / "index.html"
    write_all({target: page})
    typer.echo(f"report: {len(board.campaigns)} campaigns, {len(board.sites)} sites -> {target}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
