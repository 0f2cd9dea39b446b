"""`mcprod validate`: every schema and cross-file problem of a repository, with file:line."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reconciler.catalogue.generate import release_catalogues
from reconciler.cli.options import RatRootOption, parse_rat_roots
from reconciler.config.load import validate_repository
from reconciler.config.report import render_json, render_text


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)


def validate(
    repo: Annotated[
        Path, typer.Option("--repo", help="Repository to check (default: current folder).")
    ] = Path("."),
    rat_root: RatRootOption = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.text,
) -> None:
    """Check campaigns, RAT versions, sites and run lists; report every problem at once.

    Exit 0 when there are no errors (warnings allowed), 1 when there are errors.
    """
    roots = parse_rat_roots(rat_root, repo)
    result = validate_repository(repo, catalogues=release_catalogues(roots))
    if output_format is OutputFormat.json:
        typer.echo(render_json(result.diagnostics), nl=False)
    else:
        typer.echo(render_text(result.diagnostics, result.files_checked), nl=False)
    if any(d.severity == "error" for d in result.diagnostics):
        raise typer.Exit(1)
