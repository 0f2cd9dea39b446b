"""`mcprod retry` and `mcprod cancel`: explicit, logged operator actions on selected jobs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.options import FormatOption, TextOrJson, job_statuses
from reconciler.cli.progress import progress_bar, spinner
from reconciler.errors import McprodError
from reconciler.operator import (
    CONFIRM_ABOVE,
    Action,
    Selector,
    apply_plan,
    operator_name,
    parse_runs,
    parse_subruns,
    plan_action,
    unknown_label_error,
)
from reconciler.store.open import open_store

LabelOpt = Annotated[str | None, typer.Option("--label", metavar="LABEL", help="Campaign label.")]
ModuleOpt = Annotated[
    str | None, typer.Option("--module", metavar="GLOB", help="Module name or glob, e.g. 'Water*'.")
]
StatusOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--status",
        metavar="STATUS",
        help="Job status (repeatable); default: failed for retry, every unfinished status"
        " for cancel.",
    ),
]
RunsOpt = Annotated[
    str | None, typer.Option("--runs", metavar="A-B", help="Run range A-B (inclusive).")
]
SubrunsOpt = Annotated[
    str | None,
    typer.Option(
        "--subruns", metavar="A-B",
        help="Sub-run range A-B (inclusive), e.g. 0-2 for the first three sub-runs of each run.",
    ),
]
YesOpt = Annotated[
    bool, typer.Option("--yes", help=f"Confirm an action on more than {CONFIRM_ABOVE} jobs.")
]
DryOpt = Annotated[bool, typer.Option("--dry-run", help="Show what would change; change nothing.")]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", metavar="URL", help="Database URL; default: $MCPROD_DB, else .mcprod/ SQLite."
    ),
]
RepoOpt = Annotated[Path, typer.Option("--repo", metavar="DIR", help="Repository folder.")]


def declared_labels(repo: Path) -> list[str]:
    """Campaign labels as declared by file name (a label equals its file's name)."""
    folder = repo / "campaigns"
    if not folder.is_dir():
        return []
    return sorted(p.name.rsplit(".", 1)[0] for p in folder.iterdir()
                  if p.name.endswith((".yaml", ".yml")))


PROGRESS_FROM = 1000  # jobs; smaller changes finish before a bar is worth drawing


def register(app: typer.Typer) -> None:
    app.command("retry")(retry)
    app.command("cancel")(cancel)


def retry(
    label: LabelOpt = None,
    module: ModuleOpt = None,
    status: StatusOpt = None,
    runs: RunsOpt = None,
    subruns: SubrunsOpt = None,
    yes: YesOpt = False,
    dry_run: DryOpt = False,
    db: DbOpt = None,
    repo: RepoOpt = Path("."),
    output_format: FormatOption = TextOrJson.text,
) -> None:
    """Put failed (or cancelled) jobs back to waiting, with a fresh attempt budget."""
    _run("retry", label, module, status, (runs, subruns), yes, dry_run, db, repo, output_format)


def cancel(
    label: LabelOpt = None,
    module: ModuleOpt = None,
    status: StatusOpt = None,
    runs: RunsOpt = None,
    subruns: SubrunsOpt = None,
    yes: YesOpt = False,
    dry_run: DryOpt = False,
    db: DbOpt = None,
    repo: RepoOpt = Path("."),
    output_format: FormatOption = TextOrJson.text,
) -> None:
    """Cancel jobs; running ones are stopped by their site's next cycle."""
    _run("cancel", label, module, status, (runs, subruns), yes, dry_run, db, repo, output_format)


def _run(
    action: Action,
    label: str | None,
    module: str | None,
    status: list[str] | None,
    ranges: tuple[str | None, str | None],
    yes: bool,
    dry_run: bool,
    db: str | None,
    repo: Path,
    output_format: TextOrJson,
) -> None:
    runs, subruns = ranges
    # An empty value is a slip (an unset shell variable), never "every job".
    for flag, value in (
        ("--label", label), ("--module", module), ("--runs", runs), ("--subruns", subruns)
    ):
        if value is not None and not value.strip():
            raise typer.BadParameter("must not be empty", param_hint=flag)
    selector = Selector(
        label, module, job_statuses(status),
        parse_runs(runs) if runs else None,
        parse_subruns(subruns) if subruns else None,
    )
    store = open_store(db, repo)
    try:
        if label is not None:
            unknown = unknown_label_error(store, label, declared_labels(repo))
            if unknown is not None:
                raise McprodError(unknown)
        with spinner(f"{action}: selecting jobs"):
            plan = plan_action(store, action, selector)
        needs_yes = len(plan.jobs) > CONFIRM_ABOVE and not yes
        applied = None
        if plan.jobs and not dry_run and not needs_yes:
            with progress_bar(action, len(plan.jobs), show_from=PROGRESS_FROM) as advance:
                applied = apply_plan(store, plan, dt.datetime.now(dt.UTC), operator_name(),
                                     advance)
    finally:
        store.close()
    if output_format == "json":
        typer.echo(json.dumps({
            "action": action,
            "selector": plan.selector.describe(),
            "matched": [job["_id"] for job in plan.jobs],
            "counts": plan.counts(),
            "changed": list(applied.changed) if applied else [],
            "skipped": list(applied.skipped) if applied else [],
            "log": applied.log_id if applied else None,
        }, indent=1))
    else:
        for line in plan.lines():
            typer.echo(line)
        if applied is not None:
            changed = len(applied.changed)
            typer.echo(f"{action}: changed {changed} jobs (logged in {applied.log_id})")
            for job_id in applied.skipped:
                typer.echo(f"  skipped {job_id}: changed by someone else meanwhile")
        elif not plan.jobs:
            typer.echo(f"{action}: nothing to do")
        elif dry_run:
            typer.echo(f"{action}: dry run, nothing changed")
    if needs_yes:
        raise McprodError(
            f"{action} would change {len(plan.jobs)} jobs (more than {CONFIRM_ABOVE}):"
            " run again with --yes to do it"
        )
