"""`mcprod generate`: the module catalogue of a RAT release, as JSON (and legacy .py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from reconciler.catalogue.generate import build_catalogue, find_release_root
from reconciler.catalogue.render import catalogue_json, file_stem, legacy_py
from reconciler.cli.writing import write_all
from reconciler.config.ratfile import load_rat_version
from reconciler.errors import Diagnostic, McprodError, errors_only, sort_diagnostics


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)


def generate(
    rat_version: Annotated[
        str, typer.Option("--rat-version", help="RAT version; reads rat-versions/<V>.yaml.")
    ],
    rat_root: Annotated[
        Path | None,
        typer.Option(
            "--rat-root",
            help="Root of the RAT release tree (default: the folder of the version's env script).",
            file_okay=False,
            exists=True,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write production_information_<X_Y_Z>.json into this folder instead of "
            "printing the JSON.",
            file_okay=False,
        ),
    ] = None,
    legacy: Annotated[
        bool,
        typer.Option(
            "--legacy-py",
            help="Also write production_information_<X_Y_Z>.py for legacy tools (needs --out).",
        ),
    ] = False,
    repo: Annotated[
        Path, typer.Option("--repo", help="Repository holding rat-versions/.", file_okay=False)
    ] = Path("."),
) -> None:
    """Build the module catalogue of a RAT release from its phase dictionary."""
    if legacy and out is None:
        raise typer.BadParameter(
            "--legacy-py writes a file: give --out DIR", param_hint="--legacy-py"
        )
    rat, problems = load_rat_version(repo, rat_version)
    if rat is None:
        _fail(problems, f"rat-versions/{rat_version}.yaml")
    release_root = rat_root if rat_root is not None else find_release_root(rat)
    if release_root is None:
        raise McprodError(
            f"no RAT release found beside {rat.env} (from {rat.source.file}): "
            "give the release folder with --rat-root DIR"
        )
    catalogue, diagnostics = build_catalogue(rat, release_root, repo)
    if catalogue is None:
        _fail(diagnostics, f"RAT {rat.version}")
    for diagnostic in sort_diagnostics(diagnostics):
        typer.echo(diagnostic.text(), err=True)
    document = catalogue_json(catalogue)
    if out is None:
        typer.echo(document, nl=False)
        return
    stem = file_stem(catalogue.rat_version)
    files = {out / f"{stem}.json": document}
    if legacy:
        files[out / f"{stem}.py"] = legacy_py(catalogue)
    write_all(files)
    for path in files:
        typer.echo(f"wrote {path}")


def _fail(diagnostics: list[Diagnostic], what: str) -> NoReturn:
    for diagnostic in sort_diagnostics(diagnostics):
        typer.echo(diagnostic.text(), err=True)
    count = len(errors_only(diagnostics))
    noun = "error" if count == 1 else "errors"
    typer.echo(f"generate: {count} {noun} in {what}; nothing written", err=True)
    raise typer.Exit(1)
