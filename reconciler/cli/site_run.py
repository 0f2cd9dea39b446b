"""`mcprod reconcile --site S`: the site cycle, once (cron) or in a loop (daemon).

Called from reconciler/cli/reconcile.py when --site is given; the cycle itself is
`reconciler.site.wiring.run_cycle`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Mapping
from pathlib import Path

import typer

from reconciler.cli.progress import spinner
from reconciler.errors import McprodError
from reconciler.site.cycle import CycleOptions
from reconciler.site.loop import StopFlag, run_loop
from reconciler.site.result import SiteCycleResult
from reconciler.site.wiring import run_cycle

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(option: str, text: str) -> float:
    """`90`, `90s`, `30m`, `2h`, `1d` -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not match:
        raise typer.BadParameter(
            f"{text!r}: expected a duration such as 90s, 30m or 2h", param_hint=option
        )
    return float(match.group(1)) * UNITS[match.group(2) or "s"]


def stamp() -> str:
    return f"[{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}] "


def _print(result: SiteCycleResult, output_format: str, quiet: bool) -> None:
    """The summary on stdout (the log), what needs a person on stderr (cron's mail), each
    line timestamped. `quiet`: a healthy cycle that changed nothing prints nothing."""
    if output_format == "json":
        typer.echo(json.dumps(result.as_json(), sort_keys=True))
        return
    if quiet and result.idle:
        return
    prefix = stamp()
    for line in result.summary_lines():
        typer.echo(prefix + line)
    for alert in result.alerts:
        typer.echo(f"{prefix}needs a person: {alert}", err=True)
    for error in result.errors:  # one line each, where cron and a terminal look for them
        typer.echo(f"{prefix}error: {error}", err=True)


def run_site_command(
    *,
    site: str,
    once: bool,
    dry_run: bool,
    prune: bool,
    max_cancel: int,
    repo: Path,
    db: str | None,
    rat_roots: Mapping[str, Path],
    interval: str,
    stale_after: str,
    retry_backoff: str,
    work_dir: Path | None,
    output_format: str,
    quiet: bool = False,
    proxy_warn: str = "24h",
) -> None:
    options = CycleOptions(
        site=site,
        repo_root=repo.resolve(),
        db_url=db,
        dry_run=dry_run,
        prune=prune,
        stale_after_s=parse_duration("--stale-after", stale_after),
        retry_backoff_s=parse_duration("--retry-backoff", retry_backoff),
        work_dir=work_dir.resolve() if work_dir else None,
        rat_roots=dict(rat_roots),
        max_cancel=max_cancel,
        proxy_warn_s=parse_duration("--proxy-warn", proxy_warn),
    )
    if not (once or dry_run):
        # The lease must outlive the pause between two cycles of the loop that holds it.
        looping = 3 * parse_duration("--interval", interval)
        options = dataclasses.replace(options, lease_s=max(options.lease_s, looping))
    if once or dry_run:
        try:
            with spinner(f"site {site}: one cycle"):
                result = run_cycle(options)
        except McprodError as exc:
            # The store gone, an undeclared site, a held lease: one timestamped line on
            # stderr (cron mails it), exit 1.
            typer.echo(f"{stamp()}error: {exc}", err=True)
            raise typer.Exit(1) from None
        _print(result, output_format, quiet)
        if result.needs_human:
            raise typer.Exit(1)
        return
    pause = parse_duration("--interval", interval)
    stop = StopFlag()
    stop.install()

    def report(result: SiteCycleResult | None, error: str | None) -> None:
        if result is not None:
            _print(result, output_format, quiet)
        else:
            typer.echo(f"{stamp()}error: {error}", err=True)

    run_loop(lambda: run_cycle(options), pause, report, stop)
    typer.echo(f"reconcile: stopped by {stop.signal_name or 'request'} after the current cycle")
