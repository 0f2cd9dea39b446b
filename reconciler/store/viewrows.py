"""The rows a document puts into the embedded store's views, computed as it is written.

Each row is `(view number, key bytes, doc id, n, value JSON)`: the view's position in
`reconciler.store.views.VIEWS`, the key as collation bytes (reconciler.store.collate,
which both orders and decodes it), and the value as JSON, or NULL when the view's
value is a constant (most count views emit 1 or null: no need to store it a million
times). Pure: the SQLite store writes these rows in the same transaction as the document.

This runs for every view of every document written, so each view is compiled once into
a function that encodes its key straight to bytes (strings and integers, the usual key
elements, without the general encoder's recursion). `generic_rows_of` is the plain
definition (`python_map` + `sort_key`); a test checks the two agree on a corpus.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reconciler.documents import Doc
from reconciler.store.collate import sort_key
from reconciler.store.views import VIEWS, Expr, ViewSpec, py_cond, py_expr, python_map

ViewRowTuple = tuple[int, bytes, str, int, str | None]
_RowsFn = Callable[[Doc, str, list[ViewRowTuple]], None]

_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode
VIEW_NUMBER = {spec.name: number for number, spec in enumerate(VIEWS)}
# The stored value of a constant-valued view is NULL; reads put the constant back.
CONSTANT_VALUES: dict[int, Any] = {
    number: spec.value.const for number, spec in enumerate(VIEWS) if spec.value.kind == "const"
}


def _element(value: Any) -> bytes:
    """`sort_key(value)`, fast for the common key elements."""
    if type(value) is str and "\x00" not in value:
        text: str = value
        return b"\x05" + text.encode("utf-8", "surrogatepass") + b"\x00\x00"
    return sort_key(value)


def _element_encoder(expr: Expr) -> Callable[[Doc, Any], bytes]:
    if expr.kind == "field":
        name = expr.name
        return lambda doc, label: _element(doc.get(name))
    if expr.kind == "id":
        return lambda doc, label: _element(doc["_id"])
    if expr.kind == "label":
        return lambda doc, label: _element(label)
    evaluate = py_expr(expr)
    return lambda doc, label: sort_key(evaluate(doc, label))


def _key_encoder(key: Expr) -> Callable[[Doc, Any], bytes]:
    if key.kind != "array":
        evaluate = py_expr(key)
        return lambda doc, label: sort_key(evaluate(doc, label))
    parts = [_element_encoder(item) for item in key.items]
    return lambda doc, label: b"".join([b"\x06", *(part(doc, label) for part in parts), b"\x00"])


def _generic(number: int, spec: ViewSpec) -> _RowsFn:
    """Per-element views (`each`) as defined: they emit a row per attempt, so they are
    rarer per document, and their keys mix element and document fields."""
    map_doc = python_map(spec)
    constant = number in CONSTANT_VALUES

    def rows(doc: Doc, doc_id: str, out: list[ViewRowTuple]) -> None:
        for n, (key, value) in enumerate(map_doc(doc)):
            out.append((number, sort_key(key), doc_id, n, None if constant else _ENCODE(value)))

    return rows


def _compile(number: int, spec: ViewSpec) -> _RowsFn:
    if spec.each is not None:
        return _generic(number, spec)
    checks = [py_cond(c) for c in spec.conditions]
    key_of = _key_encoder(spec.key)
    value_expr = py_expr(spec.value)
    constant = number in CONSTANT_VALUES
    per_label = spec.per_label

    def rows(doc: Doc, doc_id: str, out: list[ViewRowTuple]) -> None:
        for check in checks:
            if not check(doc):
                return
        if not per_label:
            value = None if constant else _ENCODE(value_expr(doc, None))
            out.append((number, key_of(doc, None), doc_id, 0, value))
            return
        labels = doc.get("labels")
        if isinstance(labels, list):
            for n, label in enumerate(labels):
                value = None if constant else _ENCODE(value_expr(doc, label))
                out.append((number, key_of(doc, label), doc_id, n, value))

    return rows


def _compiled_by_type() -> dict[str, list[_RowsFn]]:
    """Each view's compiled rows function, grouped by the document type it reads (a job
    document never runs the data views')."""
    grouped: dict[str, list[_RowsFn]] = {}
    for number, spec in enumerate(VIEWS):
        grouped.setdefault(spec.doc_type, []).append(_compile(number, spec))
    return grouped


_COMPILED = _compiled_by_type()


def view_rows_of(doc: Doc) -> list[ViewRowTuple]:
    """Every view row `doc` emits (none for design documents, as in CouchDB)."""
    doc_id = doc["_id"]
    doc_type = doc.get("type")
    compiled = _COMPILED.get(doc_type) if isinstance(doc_type, str) else None
    rows: list[ViewRowTuple] = []
    if compiled and not doc_id.startswith("_design/"):
        for view_rows in compiled:
            view_rows(doc, doc_id, rows)
    return rows


def generic_rows_of(doc: Doc) -> list[ViewRowTuple]:
    """The same rows, straight from the view definitions (the reference for tests)."""
    if str(doc["_id"]).startswith("_design/"):
        return []
    rows: list[ViewRowTuple] = []
    for number, spec in enumerate(VIEWS):
        for n, (key, value) in enumerate(python_map(spec)(doc)):
            stored = None if number in CONSTANT_VALUES else _ENCODE(value)
            rows.append((number, sort_key(key), doc["_id"], n, stored))
    return rows


def stored_value(view: int, value_json: str | None) -> Any:
    if value_json is None:
        return CONSTANT_VALUES.get(view)
    return json.loads(value_json)
