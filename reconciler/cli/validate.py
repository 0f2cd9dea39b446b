"""`mcprod validate`: every schema and cross-file problem of a repository, with file:line."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reconciler.config.load import validate_repository
from reconciler.config.report import render_json, render_text


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)


def parse_rat_roots(values: list[str]) -> dict[str, Path]:
    """`VERSION=DIR` pairs; a malformed pair or a missing folder is a usage error."""
    roots: dict[str, Path] = {}
    for value in values:
        version, sep, folder = value.partition("=")
        if not sep or not version or not folder:
            raise typer.BadParameter(
                f"{value!r}: expected VERSION=DIR, e.g. 6.18.7=/path/to/rat",
                param_hint="--rat-root",
            )
        path = Path(folder).expanduser()
        if not path.is_dir():
            raise typer.BadParameter(f"{value!r}: {path} is not a folder", param_hint="--rat-root")
        roots[version] = path
    return roots


def validate(
    repo: Annotated[
        Path, typer.Option("--repo", help="Repository to check (default: current folder).")
    ] = Path("."),
    rat_root: Annotated[
        list[str] | None,
        typer.Option(
            "--rat-root",
            metavar="VERSION=DIR",
            help="A RAT release tree to check module names against; repeatable.",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.text,
) -> None:
    """Check campaigns, RAT versions, sites and run lists; report every problem at once.

    Exit 0 when there are no errors (warnings allowed), 1 when there are errors.
    """
    roots = parse_rat_roots(rat_root or [])
    for version in roots:
        if repo.is_dir() and not (repo / "rat-versions" / f"{version}.yaml").is_file():
            raise typer.BadParameter(
                f"{version}: no rat-versions/{version}.yaml in the repository",
                param_hint="--rat-root",
            )
    result = validate_repository(repo, rat_roots=roots)
    if output_format is OutputFormat.json:
        typer.echo(render_json(result.diagnostics), nl=False)
    else:
        typer.echo(render_text(result.diagnostics, result.files_checked), nl=False)
    if any(d.severity == "error" for d in result.diagnostics):
        raise typer.Exit(1)
