"""Install the design documents: write only what changed, report what was done."""

from __future__ import annotations

from typing import Any

from reconciler.store.interface import Store
from reconciler.store.views import design_document

_CONTENT_FIELDS = ("language", "views")


def _content(doc: dict[str, Any]) -> dict[str, Any]:
    return {name: doc.get(name) for name in _CONTENT_FIELDS}


def ensure_design(store: Store) -> list[str]:
    """Install or update every design document whose content differs from the code.

    Returns one line per document written (`_design/mcprod: created|updated`); an
    empty list means everything was already current. A concurrent writer that wins
    the compare-and-set makes this raise `Conflict`: run it again.
    """
    wanted = design_document()
    existing = store.get(wanted["_id"])
    if existing is None:
        result = store.create(wanted)
        if result.created:
            return [f"{wanted['_id']}: created"]
        existing = result.doc  # created meanwhile by someone else
    if _content(existing) == _content(wanted):
        return []
    updated = {**existing, **wanted, "_rev": existing["_rev"]}
    store.update(updated)
    return [f"{wanted['_id']}: updated"]
