"""The rows a document puts into the embedded store's `view_rows` table, computed as it
is written: every row of the per-attempt views, and the rows of the per-label views
after a document's first label. (The other views, and each document's first label, are
indexes on the document row: reconciler.store.viewcols.)

Each row is `(view number, key, doc id, n, value JSON)`: the view's position in
`reconciler.store.views.VIEWS`, the key as its collation string (reconciler.store.collate,
which both orders and decodes it), and the value as JSON, or '' when the view's value is
a constant (no need to store it a million times). Pure: the SQLite store writes these
rows in the same transaction as the document.

The per-label views are compiled into functions that encode their keys directly
(strings and integers, the usual key elements, without the general encoder's
recursion); the per-attempt views run their plain definitions. `generic_rows_of` is
the plain definition (`python_map` + `sort_text`); a test checks the two agree.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reconciler.documents import Doc
from reconciler.store.collate import sort_text
from reconciler.store.viewcols import element_text, in_columns
from reconciler.store.views import VIEWS, Expr, ViewSpec, py_cond, py_expr, python_map

ViewRowTuple = tuple[int, str, str, int, str]
_RowsFn = Callable[[Doc, str, list[ViewRowTuple]], None]

_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode
VIEW_NUMBER = {spec.name: number for number, spec in enumerate(VIEWS)}
# The stored value of a constant-valued view is ''; reads put the constant back.
CONSTANT_VALUES: dict[int, Any] = {
    number: spec.value.const for number, spec in enumerate(VIEWS) if spec.value.kind == "const"
}


def _element_encoder(expr: Expr) -> Callable[[Doc, Any], str]:
    if expr.kind == "field":
        name = expr.name
        return lambda doc, label: element_text(doc.get(name))
    if expr.kind == "id":
        return lambda doc, label: element_text(doc["_id"])
    if expr.kind == "label":
        return lambda doc, label: element_text(label)
    evaluate = py_expr(expr)
    return lambda doc, label: sort_text(evaluate(doc, label))


def _key_encoder(key: Expr) -> Callable[[Doc, Any], str]:
    if key.kind != "array":
        evaluate = py_expr(key)
        return lambda doc, label: sort_text(evaluate(doc, label))
    parts = [_element_encoder(item) for item in key.items]
    return lambda doc, label: "".join(["\x06", *(part(doc, label) for part in parts), "\x00"])


def _generic(number: int, spec: ViewSpec) -> _RowsFn:
    """The rows as the view defines them (the per-attempt views: rarer per document,
    their keys mix element and document fields)."""
    map_doc = python_map(spec)
    constant = number in CONSTANT_VALUES

    def rows(doc: Doc, doc_id: str, out: list[ViewRowTuple]) -> None:
        for n, (key, value) in enumerate(map_doc(doc)):
            out.append((number, sort_text(key), doc_id, n, "" if constant else _ENCODE(value)))

    return rows


def _per_label(number: int, spec: ViewSpec) -> _RowsFn:
    checks = [py_cond(c) for c in spec.conditions]
    key_of = _key_encoder(spec.key)
    value_expr = py_expr(spec.value)
    constant = number in CONSTANT_VALUES

    def rows(doc: Doc, doc_id: str, out: list[ViewRowTuple]) -> None:
        for check in checks:
            if not check(doc):
                return
        labels = doc.get("labels")
        if isinstance(labels, list):
            for n, label in enumerate(labels[1:], start=1):
                value = "" if constant else _ENCODE(value_expr(doc, label))
                out.append((number, key_of(doc, label), doc_id, n, value))

    return rows


def _compiled_by_type() -> dict[str, list[_RowsFn]]:
    """Each multi-row view's rows function, grouped by the document type it reads (a job
    document never runs the data views')."""
    grouped: dict[str, list[_RowsFn]] = {}
    for number, spec in enumerate(VIEWS):
        if spec.each is None and not spec.per_label:
            continue
        compiled = _per_label(number, spec) if spec.per_label else _generic(number, spec)
        grouped.setdefault(spec.doc_type, []).append(compiled)
    return grouped


_COMPILED = _compiled_by_type()
# Per document type, the array fields its multi-row views emit from: the per-attempt
# views' `each`, and `labels` for the per-label views (their rows after the first label).
_SOURCES = {
    doc_type: tuple(dict.fromkeys(
        "labels" if spec.per_label else str(spec.each)
        for spec in VIEWS
        if spec.doc_type == doc_type and (spec.per_label or spec.each is not None)
    ))
    for doc_type in _COMPILED
}


def _emits_nothing(doc: Doc, sources: tuple[str, ...]) -> bool:
    """No multi-row view can emit for a document without attempts and with at most one
    label (most waiting jobs): the views are not run."""
    for name in sources:
        items = doc.get(name)
        if isinstance(items, list) and len(items) > (1 if name == "labels" else 0):
            return False
    return True


def view_rows_of(doc: Doc) -> list[ViewRowTuple]:
    """Every row `doc` emits in the multi-row views (none for design documents, as in
    CouchDB)."""
    doc_id = doc["_id"]
    doc_type = doc.get("type")
    if not isinstance(doc_type, str) or doc_type not in _COMPILED:
        return []
    rows: list[ViewRowTuple] = []
    if not doc_id.startswith("_design/") and not _emits_nothing(doc, _SOURCES[doc_type]):
        for view_rows in _COMPILED[doc_type]:
            view_rows(doc, doc_id, rows)
    return rows


def generic_rows_of(doc: Doc) -> list[ViewRowTuple]:
    """The same rows, straight from the view definitions (the reference for tests)."""
    if str(doc["_id"]).startswith("_design/"):
        return []
    rows: list[ViewRowTuple] = []
    for number, spec in enumerate(VIEWS):
        if in_columns(spec) and not spec.per_label:
            continue
        for n, (key, value) in enumerate(python_map(spec)(doc)):
            if spec.per_label and n == 0:
                continue
            stored = "" if number in CONSTANT_VALUES else _ENCODE(value)
            rows.append((number, sort_text(key), doc["_id"], n, stored))
    return rows


def stored_value(view: int, value_json: str) -> Any:
    if not value_json:
        return CONSTANT_VALUES.get(view)
    return json.loads(value_json)
