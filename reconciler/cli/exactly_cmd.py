"""`mcprod exactly LABEL`: the legacy `.exactly` lines (`Module Run Pass`) of a campaign."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.enqueue_options import DbOption, RepoOption
from reconciler.errors import McprodError
from reconciler.store.design import ensure_design
from reconciler.store.open import open_store

EXACTLY_VIEW = "mcprod/exactly_by_label"


def exactly_lines(rows: list[tuple[str, int, int]]) -> str:
    return "".join(f"{module} {run} {pass_}\n" for module, run, pass_ in sorted(rows))


def _write_atomically(path: Path, text: str) -> None:
    """All or nothing: a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def exactly(
    label: Annotated[str, typer.Argument(help="Campaign label.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file instead.")
    ] = None,
    repo: RepoOption = Path("."),
    db: DbOption = None,
) -> None:
    """One `Module Run Pass` line per job of the campaign, sorted by module, run, pass."""
    if output is not None and not output.parent.resolve().is_dir():
        raise McprodError(f"-o {output}: folder {output.parent} does not exist")
    store = open_store(db, repo)
    try:
        ensure_design(store)
        found = store.view(EXACTLY_VIEW, startkey=[label], endkey=[label, {}], reduce=False)
        where = store.display_url
    finally:
        store.close()
    if not found:
        raise McprodError(f"exactly: no jobs labelled {label} in {where}")
    text = exactly_lines([(str(r.key[1]), int(r.key[2]), int(r.key[3])) for r in found])
    if output is None:
        typer.echo(text, nl=False)
    else:
        _write_atomically(output, text)
        typer.echo(f"{output}: {len(found)} lines")


def register(app: typer.Typer) -> None:
    app.command("exactly")(exactly)
