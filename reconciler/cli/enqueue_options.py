"""Options and store opening shared by `mcprod plan` and `mcprod reconcile`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.options import parse_rat_roots
from reconciler.store.interface import Store
from reconciler.store.open import open_store

RepoOption = Annotated[
    Path, typer.Option("--repo", help="Repository with the declared campaigns (default: .).")
]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (http(s)://host:5984/<db> or sqlite:///abs/path); default:"
        " $MCPROD_DB, else sqlite:///<repo>/.mcprod/state.db.",
    ),
]

AllowDirtyOption = Annotated[
    bool,
    typer.Option(
        "--allow-dirty",
        help="Use uncommitted changes to declared files; jobs are stamped <commit>+dirty.",
    ),
]


def rat_roots_of(values: list[str] | None, repo: Path) -> dict[str, Path]:
    return parse_rat_roots(values, repo)


def open_for_enqueue(db: str | None, repo: Path) -> Store:
    """Open the store; a missing or empty one is an error naming `mcprod db init`
    (only `db init` and the quickstart create a database: DESIGN.md invariant 13)."""
    return open_store(db, repo)
