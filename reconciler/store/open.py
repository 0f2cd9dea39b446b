"""Open the store a URL names (see reconciler.store.url for how the URL is chosen)."""

from __future__ import annotations

from pathlib import Path

from reconciler.errors import StoreError
from reconciler.store.interface import Store
from reconciler.store.url import mask_url, resolve_db_url, sqlite_path


def open_store(url: str | None, repo_root: Path, *, create: bool = False) -> Store:
    """Open the state store. Only `create=True` (`mcprod db init`) creates a missing
    database; otherwise a missing one is an error that names `mcprod db init`."""
    resolved = resolve_db_url(url, repo_root)
    if resolved.startswith("sqlite:"):
        from reconciler.store.sqlite import SqliteStore

        return SqliteStore(sqlite_path(resolved), create=create)
    if resolved.startswith(("http://", "https://")):
        from reconciler.store.couch import CouchStore

        return CouchStore(resolved, create=create)
    raise StoreError(
        f"{mask_url(resolved)}: unsupported database URL; use http(s)://host:port/<database>"
        " or sqlite:///abs/path/state.db"
    )


def init_store(url: str | None, repo_root: Path) -> tuple[Store, bool]:
    """Open the store, creating the database if missing; True when it was created."""
    store = open_store(url, repo_root, create=True)
    return store, bool(getattr(store, "created_database", False))
