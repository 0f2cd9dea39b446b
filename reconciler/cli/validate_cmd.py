"""`mcprod validate`: every schema, cross-file and module problem of a repository, at once."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reconciler.catalogue.generate import release_catalogues
from reconciler.cli.options import RatRootOption, parse_rat_roots
from reconciler.config.load import CatalogueFinder, validate_repository
from reconciler.config.report import render_github, render_json, render_text
from reconciler.documents import Doc
from reconciler.enqueue.catalogues import with_published_fallback
from reconciler.errors import Diagnostic, StoreError
from reconciler.model import Catalogue, RatVersion
from reconciler.store.open import open_store
from reconciler.store.url import mask_url


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)


def validate(
    repo: Annotated[
        Path, typer.Option("--repo", help="Repository to check (default: current folder).")
    ] = Path("."),
    rat_root: RatRootOption = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL",
            help="Store to read published catalogues from (read-only) when a release is"
            " not on disk; default: $MCPROD_DB, else none.",
        ),
    ] = None,
    require_releases: Annotated[
        bool,
        typer.Option(
            "--require-releases",
            help="Every rat-versions file's release must be on disk (CI: a release file"
            " can be merged only once its release is on CVMFS).",
        ),
    ] = False,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", help="text, json, or github (workflow annotations)."),
    ] = OutputFormat.text,
) -> None:
    """Check campaigns, RAT versions, sites and run lists; report every problem at once.

    Module checks use the release on disk (--rat-root, else the version's env path),
    else the catalogue published in the store given with --db or $MCPROD_DB.
    Exit 0 when there are no errors (warnings allowed), 1 when there are errors.

    Example: mcprod validate --repo . --rat-root 7.0.8=/opt/rat-7.0.8 --format github
    """
    roots = parse_rat_roots(rat_root, repo)
    on_disk = release_catalogues(roots)
    reached: set[str] = set()
    asked: dict[str, RatVersion] = {}

    def recorded(rat: RatVersion, root: Path) -> tuple[Catalogue | None, list[Diagnostic]]:
        asked[rat.version] = rat
        catalogue, found = on_disk(rat, root)
        if catalogue is not None or found:
            reached.add(rat.version)
        return catalogue, found

    sources: dict[str, str] = {}
    with _published_reader(db or os.environ.get("MCPROD_DB"), repo) as published:
        finder: CatalogueFinder = recorded
        if published is not None:
            finder = with_published_fallback(recorded, published, sources)
        result = validate_repository(repo, catalogues=finder)
    diagnostics = list(result.diagnostics)
    if require_releases:
        diagnostics.extend(_unreached(asked, reached))
    if output_format is OutputFormat.json:
        typer.echo(render_json(diagnostics), nl=False)
    elif output_format is OutputFormat.github:
        prefix = "" if repo.resolve() == Path.cwd().resolve() else f"{_shown(repo)}/"
        typer.echo(render_github(diagnostics, result.files_checked, prefix), nl=False)
    else:
        for version, source in sorted(sources.items()):
            typer.echo(f"note: module checks for RAT {version} used {source}", err=True)
        typer.echo(render_text(diagnostics, result.files_checked), nl=False)
    if any(d.severity == "error" for d in diagnostics):
        raise typer.Exit(1)


def _shown(repo: Path) -> str:
    try:
        return repo.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return repo.resolve().as_posix()


def _unreached(asked: dict[str, RatVersion], reached: set[str]) -> list[Diagnostic]:
    problems = []
    for version in sorted(set(asked) - reached):
        rat = asked[version]
        line, column = rat.source.line, rat.source.column
        problems.append(Diagnostic(
            rat.source.file, line, column,
            f"the release of RAT {version} is not on disk (env {rat.env}): a rat-versions"
            " file can be merged only once its release is on CVMFS, where it is checked",
            "$.env",
        ))
    return problems


@contextmanager
def _published_reader(
    url: str | None, repo: Path
) -> Iterator[Callable[[str], Doc | None] | None]:
    """`get(doc_id)` on the store at `url`, read only; None without a reachable store
    (module checks then need a release on disk, and say so)."""
    if not url:
        yield None
        return
    try:
        store = open_store(url, repo)
    except StoreError as exc:
        typer.echo(f"note: {mask_url(url)}: {exc}; published catalogues not used", err=True)
        yield None
        return

    def get(doc_id: str) -> Doc | None:
        try:
            return store.get(doc_id)
        except StoreError:
            return None

    try:
        yield get
    finally:
        store.close()
