"""`mcprod reconcile --once`: the enqueue step (job documents and campaign status).

Thin on purpose: the work is `reconciler.enqueue.step.enqueue`, which the site cycle
(submission, monitoring) calls too.
"""

from __future__ import annotations

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
from reconciler.cli.options import RatRootOption, TextOrJson
from reconciler.cli.plan_cmd import render_plan
from reconciler.cli.progress import progress_bar
from reconciler.documents import short_commit
from reconciler.enqueue.step import EnqueueResult, compute_plan, enqueue, load_repo
from reconciler.errors import McprodError

PROGRESS_FROM = 2000  # jobs; smaller applies finish before a bar is worth drawing


def summary_lines(result: EnqueueResult, site: str | None) -> list[str]:
    commit = short_commit(result.commit) if result.commit else "working tree"
    where = f" for site {site}" if site else ""
    applied = result.applied
    if result.up_to_date:
        return [
            f"reconcile{where}: commit {commit}, {result.campaigns} campaigns, "
            f"{result.desired_jobs} jobs declared: already applied, nothing to do"
        ]
    lines = [
        f"reconcile{where}: commit {commit}, {result.campaigns} campaigns, "
        f"{result.desired_jobs} jobs declared, {result.observed_jobs} jobs in the store",
        f"created {applied.created}, already present {applied.already_present}, "
        f"updated {applied.updated}, cancelled {applied.cancelled}, "
        f"left alone (changed meanwhile) {applied.skipped}",
    ]
    if result.orphans:
        lines.append(f"orphans {result.orphans} (reported, not touched; see `mcprod plan`)")
    return lines


def reconcile(
    once: Annotated[bool, typer.Option("--once", help="Run one cycle and exit (cron).")] = False,
    site: Annotated[
        str | None, typer.Option("--site", help="The site this reconciler runs at.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; write nothing.")
    ] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Cancel waiting jobs of removed or changed entries.")
    ] = False,
    max_cancel: Annotated[
        int, typer.Option("--max-cancel", min=0, help="Prune guard: most jobs one run cancels.")
    ] = 1000,
    repo: RepoOption = Path("."),
    db: DbOption = None,
    rat_root: RatRootOption = None,
    interval: Annotated[
        str, typer.Option("--interval", help="With --site, without --once: pause between cycles.")
    ] = "5m",
    stale_after: Annotated[
        str, typer.Option("--stale-after", help="With --site: a site silent this long is stale.")
    ] = "2h",
    retry_backoff: Annotated[
        str, typer.Option("--retry-backoff", help="With --site: first retry back-off, doubling.")
    ] = "5m",
    work_dir: Annotated[
        Path | None, typer.Option("--work-dir", help="With --site: job folders (default: the"
                                  " site's backend work_dir, else <repo>/.mcprod/sites/<site>).")
    ] = None,
    output_format: Annotated[
        TextOrJson, typer.Option("--format", help="With --site: text or json.")
    ] = TextOrJson.text,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="With --site: print nothing when a cycle changed"
                           " nothing and needs nobody (the cron form).")
    ] = False,
    allow_dirty: AllowDirtyOption = False,
    proxy_warn: Annotated[
        str, typer.Option("--proxy-warn", help="With --site: alert when the grid proxy has"
                          " less than this left.")
    ] = "24h",
) -> None:
    """Make the job documents match the declared campaigns (idempotent, safe to race).

    With --site: the whole site cycle (sync, heartbeat, enqueue, monitor, retry,
    submit); --once for cron, else a loop every --interval until SIGTERM. Lines are
    timestamped; what needs a person (jobs given up, a grid proxy missing or about to
    expire, a refused sync, store errors) goes to stderr and makes the exit code 1.

    Examples:

      mcprod reconcile --once

      mcprod reconcile --site cedar --once --quiet >> reconcile.log
    """
    if site is not None:
        from reconciler.cli.site_run import run_site_command

        run_site_command(
            site=site, once=once, dry_run=dry_run, prune=prune, max_cancel=max_cancel,
            repo=repo, db=db, rat_roots=rat_roots_of(rat_root, repo), interval=interval,
            stale_after=stale_after, retry_backoff=retry_backoff, work_dir=work_dir,
            output_format=output_format, quiet=quiet, proxy_warn=proxy_warn,
        )
        return
    if not once:
        raise typer.BadParameter(
            "without --site, reconcile runs one enqueue pass: pass --once (cron), or"
            " --site NAME for a site's cycle", param_hint="--once"
        )
    roots = rat_roots_of(rat_root, repo)
    declared = load_repo(repo, roots, allow_dirty=allow_dirty)
    store = open_for_enqueue(db, repo)
    try:
        if dry_run:
            context = compute_plan(store, declared, rat_roots=roots, prune=prune,
                                   max_cancel=max_cancel, read_only=True)
            typer.echo(render_plan(context, "text"), nl=False)
            typer.echo("dry run: nothing written")
            return
        with progress_bar("applying", unit="jobs", show_from=PROGRESS_FROM) as advance:
            result = enqueue(store, declared, rat_roots=roots, prune=prune,
                             max_cancel=max_cancel, progress=advance)
    finally:
        store.close()
    for line in summary_lines(result, site):
        typer.echo(line)
    if result.refusal:
        raise McprodError(result.refusal)


def register(app: typer.Typer) -> None:
    app.command("reconcile")(reconcile)
