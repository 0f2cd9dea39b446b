"""`mcprod status`: per campaign and module, job counts by status with percent complete."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.enqueue_options import DbOption, RepoOption
from reconciler.errors import McprodError
from reconciler.report.status_table import render_status_json, render_status_text, rows_from_counts
from reconciler.store.design import ensure_design
from reconciler.store.open import open_store

COUNTS_VIEW = "mcprod/jobs_by_campaign_module_status"


class StatusFormat(StrEnum):
    text = "text"
    json = "json"


def status(
    label: Annotated[str | None, typer.Option("--label", help="Only this campaign.")] = None,
    output_format: Annotated[
        StatusFormat, typer.Option("--format", help="Output format.")
    ] = StatusFormat.text,
    repo: RepoOption = Path("."),
    db: DbOption = None,
) -> None:
    """Job counts waiting, reserved, submitted, running, completed, failed, cancelled."""
    store = open_store(db, repo)
    try:
        ensure_design(store)
        if label is None:
            found = store.view(COUNTS_VIEW, reduce=True, group_level=3)
        else:
            found = store.view(COUNTS_VIEW, startkey=[label], endkey=[label, {}],
                               reduce=True, group_level=3)
        where = store.display_url
    finally:
        store.close()
    rows = rows_from_counts(
        (str(r.key[0]), str(r.key[1]), str(r.key[2]), int(r.value)) for r in found
    )
    if label is not None and not rows:
        raise McprodError(f"status: no jobs of campaign {label} in {where}")
    if output_format is StatusFormat.json:
        typer.echo(render_status_json(rows), nl=False)
    elif rows:
        typer.echo(render_status_text(rows), nl=False)
    else:
        typer.echo(f"no jobs in {where}")


def register(app: typer.Typer) -> None:
    app.command("status")(status)
