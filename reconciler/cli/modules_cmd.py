"""`mcprod modules VERSION`: which modules a RAT release offers, in which event mode."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.enqueue_options import RepoOption
from reconciler.cli.options import FormatOption, TextOrJson
from reconciler.errors import McprodError


def register(app: typer.Typer) -> None:
    app.command("modules")(modules)


def modules(
    version: Annotated[str, typer.Argument(metavar="VERSION", help="RAT version, e.g. 6.18.7.")],
    globs: Annotated[
        list[str] | None,
        typer.Argument(metavar="[GLOB]...", help="Only modules matching these, e.g. 'Water*'."),
    ] = None,
    rat_root: Annotated[
        Path | None,
        typer.Option("--rat-root", metavar="DIR", help="The release tree (default: the folder"
                     " of the version's env script)."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", metavar="URL", help="Without a release on disk: read the catalogue"
                     " published in this store ($MCPROD_DB)."),
    ] = None,
    repo: RepoOption = Path("."),
    output_format: FormatOption = TextOrJson.text,
) -> None:
    """The module catalogue of a RAT version: module, event mode, outputs, template keys.

    From the release on disk (--rat-root, else the version's env path), else from the
    catalogue published in the store (--db or $MCPROD_DB).

    Example: mcprod modules 6.18.7 'Water*' --format json
    """
    from reconciler.catalogue.generate import release_catalogues
    from reconciler.config.ratfile import load_rat_version
    from reconciler.enqueue.catalogues import with_published_fallback
    from reconciler.errors import InvalidRepository
    from reconciler.report.modules_table import (
        chosen_modules,
        render_modules_json,
        render_modules_text,
    )
    from reconciler.store.open import open_store

    rat, problems = load_rat_version(repo, version)
    if rat is None:
        raise InvalidRepository(problems)
    on_disk = release_catalogues({version: rat_root} if rat_root is not None else None)
    source = f"the release at {rat_root}" if rat_root is not None else "the release on disk"
    catalogue, found = on_disk(rat, repo)
    url = db or os.environ.get("MCPROD_DB")
    if catalogue is None and not found and url:
        sources: dict[str, str] = {}
        store = open_store(url, repo)
        try:
            catalogue, found = with_published_fallback(on_disk, store.get, sources)(rat, repo)
        finally:
            store.close()
        source = sources.get(version, source)
    if catalogue is None:
        if found:
            raise InvalidRepository(found)
        raise McprodError(
            f"RAT {version}: no release on disk beside {rat.env} and no published catalogue:"
            f" give --rat-root DIR, or --db URL of the production store"
        )
    rows = chosen_modules(catalogue, globs or ())
    if output_format is TextOrJson.json:
        typer.echo(render_modules_json(rows, version, source), nl=False)
    else:
        typer.echo(render_modules_text(rows, f"RAT {version} (from {source})"), nl=False)
