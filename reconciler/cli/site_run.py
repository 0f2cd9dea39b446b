"""`mcprod reconcile --site S`: the site cycle, once (cron) or in a loop (daemon).

Called from reconciler/cli/reconcile.py when --site is given; the cycle itself is
`reconciler.site.wiring.run_cycle`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from pathlib import Path

import typer

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
        raise McprodError(f"{option} {text!r}: expected a duration such as 90s, 30m or 2h")
    return float(match.group(1)) * UNITS[match.group(2) or "s"]


def _print(result: SiteCycleResult, output_format: str, stamp: bool) -> None:
    if output_format == "json":
        typer.echo(json.dumps(result.as_json(), sort_keys=True))
        return
    prefix = f"[{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}] " if stamp else ""
    for line in result.summary_lines():
        typer.echo(prefix + line)
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
) -> None:
    if output_format not in ("text", "json"):
        raise McprodError(f"--format {output_format!r}: expected text or json")
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
    )
    if once or dry_run:
        result = run_cycle(options)
        _print(result, output_format, stamp=False)
        if not result.ok:
            raise typer.Exit(1)
        return
    pause = parse_duration("--interval", interval)
    stop = StopFlag()
    stop.install()

    def report(result: SiteCycleResult | None, error: str | None) -> None:
        if result is not None:
            _print(result, output_format, stamp=True)
        else:
            typer.echo(f"error: {error}", err=True)

    run_loop(lambda: run_cycle(options), pause, report, stop)
    typer.echo(f"reconcile: stopped by {stop.signal_name or 'request'} after the current cycle")
