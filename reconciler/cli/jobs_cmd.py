"""`mcprod jobs` (list, `--reasons` to triage failures) and `mcprod job ID` (one job's history)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.enqueue_options import DbOption, RepoOption
from reconciler.cli.options import job_statuses
from reconciler.cli.progress import spinner
from reconciler.cli.reading import reading_store
from reconciler.config.load import load_repository
from reconciler.documents import Doc
from reconciler.errors import McprodError
from reconciler.job.script import attempt_files
from reconciler.operator import parse_runs
from reconciler.overview.job_rows import JobFilter, failed_attempts, list_jobs, read_job
from reconciler.report.job_history import job_as_json, render_job_text
from reconciler.report.triage import (
    dumps,
    group_reasons,
    jobs_as_json,
    reasons_as_json,
    render_jobs_text,
    render_reasons_text,
)
from reconciler.site.cycle import site_work_dir


class ListFormat(StrEnum):
    text = "text"
    json = "json"


FormatOption = Annotated[ListFormat, typer.Option("--format", help="Output format.")]


def jobs(
    label: Annotated[str | None, typer.Option("--label", help="Campaign label.")] = None,
    module: Annotated[
        str | None, typer.Option("--module", metavar="GLOB", help="Module name or glob.")
    ] = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Job status (repeatable).")
    ] = None,
    site: Annotated[str | None, typer.Option("--site", help="Jobs held by this site.")] = None,
    runs: Annotated[
        str | None, typer.Option("--runs", metavar="A-B", help="Run range (inclusive).")
    ] = None,
    reasons: Annotated[
        bool, typer.Option("--reasons", help="Group failed attempts by reason (numbers and"
                           " paths folded), with counts and example job ids.")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Most jobs listed in text (0: all).")
    ] = 50,
    output_format: FormatOption = ListFormat.text,
    repo: RepoOption = Path("."),
    db: DbOption = None,
) -> None:
    """List jobs with their last reason, or (--reasons) triage failures by reason.

    Examples:

      mcprod jobs --label water-physics-v2 --status failed

      mcprod jobs --reasons

      mcprod jobs --module 'Water*' --runs 100151-100200 --site cedar --format json
    """
    wanted = JobFilter(label, module, job_statuses(status), site,
                       parse_runs(runs) if runs else None)
    with reading_store(db, repo) as store, spinner("reading the store"):
        if reasons:
            groups = group_reasons(failed_attempts(store, wanted))
        else:
            found = list_jobs(store, wanted)
    if reasons:
        text = (dumps(reasons_as_json(groups)) if output_format is ListFormat.json
                else render_reasons_text(groups))
    else:
        text = (dumps(jobs_as_json(found)) if output_format is ListFormat.json
                else render_jobs_text(found, limit or None))
    typer.echo(text, nl=False)


def log_locations(job: Doc, repo: Path) -> dict[int, str]:
    """Where each attempt's stderr is on its site, when the site is declared in `repo`."""
    declared, _ = load_repository(repo)
    if declared is None:
        return {}
    found = {}
    for attempt in job.get("attempts") or []:
        if not isinstance(attempt, dict) or not isinstance(attempt.get("n"), int):
            continue
        site = declared.sites.get(str(attempt.get("site")))
        if site is None:
            continue
        try:
            work = site_work_dir(site, declared.root, None)
            stderr = attempt_files(work, job, attempt["n"]).stderr
            found[attempt["n"]] = f"{attempt.get('site')}:{stderr}"
        except (KeyError, TypeError, ValueError):
            continue
    return found


def job(
    job_id: Annotated[
        str, typer.Argument(metavar="ID", help="A job id, e.g. job:WaterBi214:r3:s0:p1.")
    ],
    output_format: FormatOption = ListFormat.text,
    repo: RepoOption = Path("."),
    db: DbOption = None,
) -> None:
    """One job's whole history: attempts, backend ids, sites, times, reasons, outputs, logs.

    Example:

      mcprod job job:WaterBi214:r3:s0:p1
    """
    with reading_store(db, repo) as store:
        doc, data = read_job(store, job_id)
        where = store.display_url
    if doc is None:
        raise McprodError(f"job: no document {job_id} in {where}")
    logs = log_locations(doc, repo)
    if output_format is ListFormat.json:
        typer.echo(job_as_json(doc, data, logs), nl=False)
    else:
        typer.echo(render_job_text(doc, data, logs), nl=False)


def register(app: typer.Typer) -> None:
    app.command("jobs")(jobs)
    app.command("job")(job)
