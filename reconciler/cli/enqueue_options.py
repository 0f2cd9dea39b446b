"""Options and store opening shared by `mcprod plan` and `mcprod reconcile`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.options import parse_rat_roots
from reconciler.store.interface import Store
from reconciler.store.open import open_store
from reconciler.store.url import resolve_db_url

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
    """Open the store; an embedded SQLite file is created when missing (an empty store
    plans the full production), a CouchDB database never is (`mcprod db init`)."""
    url = resolve_db_url(db, repo)
    return open_store(url, repo, create=url.startswith("sqlite:"))
