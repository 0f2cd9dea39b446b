"""Opening the store for the reading commands (status, jobs, job, files, grab, report).

They work with read-only credentials (the report workflow uses them): the design
documents are installed when they are missing or old and the store lets us, and
otherwise the views are used as installed; a view that is missing then says
`run mcprod db init` by itself.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from reconciler.errors import McprodError, StoreError
from reconciler.store.design import ensure_design
from reconciler.store.interface import Store
from reconciler.store.open import open_store

REPO_FOLDERS = ("campaigns", "rat-versions", "sites")


def _outside_a_repository(db: str | None, repo: Path) -> bool:
    """No store named, and the folder whose embedded store is the default is not an
    mcprod repository (a plain "no state database here" would send people to db init)."""
    if db or os.environ.get("MCPROD_DB") or (repo / ".mcprod").is_dir():
        return False
    return not any((repo / folder).is_dir() for folder in REPO_FOLDERS)


@contextlib.contextmanager
def reading_store(db: str | None, repo: Path) -> Iterator[Store]:
    if _outside_a_repository(db, repo):
        shown = repo.resolve()
        raise McprodError(
            f"{shown} is not an mcprod repository (no campaigns/, rat-versions/ or sites/):"
            " run this in your repository, or name the production's database with --db URL"
            " or $MCPROD_DB"
        )
    store = open_store(db, repo)
    try:
        with contextlib.suppress(StoreError):  # read-only: use the views as they are
            ensure_design(store)
        yield store
    finally:
        store.close()
