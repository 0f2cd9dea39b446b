"""`mcprod plan`: the jobs the declared campaigns would create, change or cancel, and the cost."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.enqueue_options import (
    AllowDirtyOption,
    DbOption,
    RepoOption,
    open_for_enqueue,
    rat_roots_of,
)
from reconciler.cli.options import RatRootOption
from reconciler.enqueue.step import PlanContext, compute_plan, load_campaigns, load_repo
from reconciler.errors import McprodError, sort_diagnostics
from reconciler.report.plan_render import RENDERERS
from reconciler.report.plan_summary import summarise


class PlanFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def render_plan(context: PlanContext, output_format: str) -> str:
    return RENDERERS[output_format](summarise(context), context.plan)


def plan(
    repo: RepoOption = Path("."),
    db: DbOption = None,
    rat_root: RatRootOption = None,
    output_format: Annotated[
        PlanFormat, typer.Option("--format", help="Output format.")
    ] = PlanFormat.text,
    prune: Annotated[
        bool, typer.Option("--prune", help="Show the cancels `reconcile --prune` would make.")
    ] = False,
    max_cancel: Annotated[
        int, typer.Option("--max-cancel", min=0, help="Prune guard: most jobs one run cancels.")
    ] = 1000,
    labels: Annotated[
        list[str] | None,
        typer.Option("--label", metavar="LABEL", help="Plan only this campaign (repeatable);"
                     " errors in other campaigns do not stop it."),
    ] = None,
    allow_dirty: AllowDirtyOption = False,
) -> None:
    """Compare the declared campaigns with the store; print jobs to create, update, cancel,
    orphans, events, CPU-hours and output size. Writes nothing (except missing design
    documents). Against an empty store it shows the full production.

    Example: mcprod plan --label water-physics-v2 --format markdown
    """
    roots = rat_roots_of(rat_root, repo)
    failed: list[str] = []
    if labels:
        declared, problems, failed = load_campaigns(repo, roots, labels, allow_dirty=allow_dirty)
        for problem in sort_diagnostics(problems):
            typer.echo(problem.text(), err=True)
    else:
        declared = load_repo(repo, roots, allow_dirty=allow_dirty)
    store = open_for_enqueue(db, repo)
    try:
        context = compute_plan(store, declared, rat_roots=roots, prune=prune,
                               max_cancel=max_cancel, read_only=True)
    finally:
        store.close()
    typer.echo(render_plan(context, output_format.value), nl=False)
    if failed:
        raise McprodError(f"plan: not planned: {', '.join(failed)} (see the errors above)")


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
