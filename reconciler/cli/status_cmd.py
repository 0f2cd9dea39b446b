"""`mcprod status`: per campaign its state and job counts; `--site S`: one site's view."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.enqueue_options import DbOption, RepoOption
from reconciler.cli.progress import spinner
from reconciler.cli.reading import reading_store
from reconciler.errors import McprodError
from reconciler.overview.campaigns import read_campaigns
from reconciler.overview.sites import read_site
from reconciler.report.site_view import render_site_json, render_site_text
from reconciler.report.status_table import render_status_json, render_status_text


class StatusFormat(StrEnum):
    text = "text"
    json = "json"


def status(
    label: Annotated[str | None, typer.Option("--label", help="Only this campaign.")] = None,
    site: Annotated[
        str | None,
        typer.Option("--site", help="One site: heartbeat, lease, running/queued jobs, last"
                     " 24 h, errors of its last cycle."),
    ] = None,
    output_format: Annotated[
        StatusFormat, typer.Option("--format", help="Output format.")
    ] = StatusFormat.text,
    repo: RepoOption = Path("."),
    db: DbOption = None,
) -> None:
    """Per campaign: state (active, paused, cancelled; Ready, Progressing, Stalled with the
    reason) and job counts per module, orphans apart from the declared total.

    Examples:

      mcprod status

      mcprod status --label water-physics-v2 --format json

      mcprod status --site cedar
    """
    with reading_store(db, repo) as store, spinner("reading the store"):
        where = store.display_url
        if site is not None:
            overview = read_site(store, site, dt.datetime.now(dt.UTC))
            campaigns = []
        else:
            campaigns = read_campaigns(store, label)
    if site is not None:
        render = render_site_json if output_format is StatusFormat.json else render_site_text
        typer.echo(render(overview), nl=False)
        return
    if label is not None and not campaigns:
        raise McprodError(f"status: no jobs of campaign {label} in {where}")
    if output_format is StatusFormat.json:
        typer.echo(render_status_json(campaigns), nl=False)
    elif campaigns:
        typer.echo(render_status_text(campaigns), nl=False)
    else:
        typer.echo(f"no jobs in {where}")


def register(app: typer.Typer) -> None:
    app.command("status")(status)
