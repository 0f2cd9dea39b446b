"""Opening the store for the reading commands (status, jobs, job, files, grab, report).

They work with read-only credentials (the report workflow uses them): the design
documents are installed when they are missing or old and the store lets us, and
otherwise the views are used as installed; a view that is missing then says
`run mcprod db init` by itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from reconciler.errors import StoreError
from reconciler.store.design import ensure_design
from reconciler.store.interface import Store
from reconciler.store.open import open_store


@contextlib.contextmanager
def reading_store(db: str | None, repo: Path) -> Iterator[Store]:
    store = open_store(db, repo)
    try:
        with contextlib.suppress(StoreError):  # read-only: use the views as they are
            ensure_design(store)
        yield store
    finally:
        store.close()
