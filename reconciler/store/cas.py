"""Compare-and-set writes over any `Store`, shared by the site cycle and operator commands.

Ownership is always decided on the document itself, never on a view row: a view
only tells which ids to read. `cas_apply` re-reads a document after a lost write
and asks the same decision again, so two writers never both act on one document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reconciler.documents import Doc
from reconciler.errors import Conflict
from reconciler.store.interface import Store

PAGE = 500


def read_docs(store: Store, ids: Sequence[str]) -> list[Doc]:
    """The documents for these ids, in batches, skipping any that vanished."""
    docs: list[Doc] = []
    for start in range(0, len(ids), PAGE):
        docs.extend(d for d in store.get_many(list(ids[start : start + PAGE])) if d is not None)
    return docs


def cas_apply(
    store: Store, doc: Doc, decide: Callable[[Doc], Doc | None], attempts: int = 5
) -> Doc | None:
    """Write `decide(doc)` by compare-and-set. On a conflict, re-read and decide again
    on the fresh document; `decide` returning None means "leave it alone"."""
    current: Doc | None = doc
    for _ in range(attempts):
        if current is None:
            return None
        new = decide(current)
        if new is None:
            return None
        try:
            return store.update(new)
        except Conflict:
            current = store.get(str(doc["_id"]))
    return None


def bulk_cas(
    store: Store, docs: Sequence[Doc], progress: Callable[[int, int], None] | None = None
) -> tuple[list[Doc], list[str]]:
    """Compare-and-set many documents at once: (written docs with new revs, lost ids).
    `progress(done, total)` is called after each batch."""
    written: list[Doc] = []
    lost: list[str] = []
    for start in range(0, len(docs), PAGE):
        batch = list(docs[start : start + PAGE])
        for doc, result in zip(batch, store.bulk_update(batch), strict=True):
            if result.ok:
                written.append({**doc, "_rev": result.rev})
            else:
                lost.append(str(doc["_id"]))
        if progress is not None:
            progress(start + len(batch), len(docs))
    return written, lost


def guarded(
    still_ours: Callable[[Doc], bool], change: Callable[[Doc], Doc]
) -> Callable[[Doc], Doc | None]:
    """A `cas_apply` decision: apply `change` only while the fresh document passes the check."""

    def decide(fresh: Doc) -> Doc | None:
        return change(fresh) if still_ours(fresh) else None

    return decide
