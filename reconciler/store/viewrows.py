"""The rows a document puts into the embedded store's views, computed as it is written.

Each row is `(view number, key bytes, doc id, n, value JSON)`: the view's position in
`reconciler.store.views.VIEWS`, the key as collation bytes (reconciler.store.collate,
which both orders and decodes it), and the value as JSON, or NULL when the view's
value is a constant (most count views emit 1 or null: no need to store it 50,000 times).
Pure: the SQLite store writes these rows in the same transaction as the document.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reconciler.documents import Doc
from reconciler.store.collate import sort_key
from reconciler.store.views import VIEWS, MapFn, python_map

ViewRowTuple = tuple[int, bytes, str, int, str | None]

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)
VIEW_NUMBER = {spec.name: number for number, spec in enumerate(VIEWS)}
# The stored value of a constant-valued view is NULL; reads put the constant back.
CONSTANT_VALUES: dict[int, Any] = {
    number: spec.value.const for number, spec in enumerate(VIEWS) if spec.value.kind == "const"
}


def _maps_by_type() -> dict[str, list[tuple[int, MapFn, bool]]]:
    """Each view's map, grouped by the document type it reads (a job document never
    runs the data views' maps)."""
    grouped: dict[str, list[tuple[int, MapFn, bool]]] = {}
    for number, spec in enumerate(VIEWS):
        entry = (number, python_map(spec), number in CONSTANT_VALUES)
        grouped.setdefault(spec.doc_type, []).append(entry)
    return grouped


_MAPS = _maps_by_type()


def view_rows_of(doc: Doc) -> list[ViewRowTuple]:
    """Every view row `doc` emits (none for design documents, as in CouchDB)."""
    doc_id = doc["_id"]
    doc_type = doc.get("type")
    maps = _MAPS.get(doc_type) if isinstance(doc_type, str) else None
    if not maps or doc_id.startswith("_design/"):
        return []
    rows: list[ViewRowTuple] = []
    encode: Callable[[Any], str] = _ENCODER.encode
    for number, map_doc, constant in maps:
        for n, (key, value) in enumerate(map_doc(doc)):
            rows.append((number, sort_key(key), doc_id, n, None if constant else encode(value)))
    return rows


def stored_value(view: int, value_json: str | None) -> Any:
    if value_json is None:
        return CONSTANT_VALUES.get(view)
    return json.loads(value_json)
