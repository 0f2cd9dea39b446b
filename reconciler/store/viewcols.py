"""Single-row views as columns of the document row, indexed by SQL expressions.

Most views emit at most one row per document (no `per_label`, no `each`). For those,
the embedded store does not write view rows at all: each document row carries the
collation string of every field such a view reads (an *element* column: `e_status`
holds `sort_text(doc["status"])`) and one flag per distinct (document type, conditions)
saying whether those views emit for this document. Each view is then a partial index
on a SQL expression that concatenates element columns into the view's key:

    CREATE INDEX view_1 ON docs ((char(6) || e_campaign || e_entry_key || e_index || char(0)),
        id, ...) WHERE f_0 = 1

so SQLite maintains the view in C, in the same transaction as the document, and a query
orders, ranges and groups by that expression through the index. The key is exactly
reconciler.store.collate's (an array is its tag, its elements and its end mark), so
decoding and CouchDB collation are unchanged; values are rebuilt from the element
columns the index also carries (a covering index: no document read).

Python's part per document is one `sort_text` per distinct field and one test per
condition set; `columns_of` returns them in `COLUMNS` order (strings and integers only:
Python's sqlite3 binds those on its fast path). Pure: no I/O here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.documents import Doc
from reconciler.store.collate import decode_text, sort_text
from reconciler.store.views import VIEWS, Cond, Expr, ViewSpec, py_cond, py_expr


def in_columns(spec: ViewSpec) -> bool:
    """Whether the view's rows (its first row per document, for a per-label view: most
    documents have one label) are an index on the document columns."""
    return spec.each is None


LABEL0_COLUMN = "e__label0"
_LEAF_KINDS = ("field", "neg", "last", "id", "label")


def element_text(value: Any) -> str:
    """`sort_text(value)`, fast for ASCII strings (most key elements)."""
    if type(value) is str and value.isascii() and "\x00" not in value:
        return "\x05" + value + "\x00\x00"
    return sort_text(value)


def _leaves(expr: Expr) -> list[Expr]:
    """The field, negated-field, last-member, id and label expressions an expression is
    built from."""
    if expr.kind in ("array", "object"):
        return [leaf for part in expr.items for leaf in _leaves(part)]
    return [expr] if expr.kind in _LEAF_KINDS else []


def _column_name(leaf: Expr) -> str:
    if leaf.kind == "id":
        return "e__id"
    if leaf.kind == "label":
        return LABEL0_COLUMN
    prefix = {"neg": "n_", "last": "l_"}.get(leaf.kind, "e_")
    name = leaf.name if leaf.kind != "last" else f"{leaf.name}__{leaf.names[0]}"
    # Field names come from our own view definitions; keep the column name plain SQL.
    return prefix + "".join(c if c.isalnum() else "_" for c in name)


def _literal(text: str) -> str:
    """A SQL expression for this text (which holds control characters and NULs)."""
    return f"char({', '.join(str(ord(c)) for c in text)})"


@dataclass(frozen=True)
class ColumnView:
    """How one single-row view is stored and queried."""

    number: int  # position in reconciler.store.views.VIEWS
    first_label_only: bool  # a per-label view: its other rows are in view_rows
    counted: bool  # a `_count` view: `view_counts` holds its rows per key (`counted_keys`)
    indexed: bool  # whether its rows have an index (not for a counts-only view)
    flag: str  # the column that is 1 when the view emits for the document
    key_sql: str  # SQL expression of the key's collation string
    value_columns: tuple[str, ...]  # element columns the value is rebuilt from
    value_of: Callable[[Sequence[str], str], Any]  # (those columns, doc id) -> value

    @property
    def index_name(self) -> str:
        return f"view_{self.number}"

    def index_sql(self) -> str:
        covered = ", ".join(("id", *self.value_columns))
        return (
            f"CREATE INDEX IF NOT EXISTS {self.index_name} ON docs"
            f" (({self.key_sql}), {covered}) WHERE {self.flag} = 1"
        )

    def count_fill_sql(self) -> str:
        return (
            f"INSERT INTO view_counts (view, key, n) SELECT {self.number}, {self.key_sql},"
            f" count(*) FROM docs WHERE {self.flag} = 1 GROUP BY {self.key_sql}"
        )


def _key_parts(expr: Expr, column_of: dict[Expr, str]) -> list[str]:
    """The key as a sequence of literal texts and column references ("@name"), the same
    concatenation as `_key_sql`, for Python to assemble from a document's columns."""
    if expr.kind in _LEAF_KINDS:
        return ["@" + column_of[expr]]
    if expr.kind == "const":
        return [sort_text(expr.const)]
    if expr.kind == "array":
        return ["\x06", *(p for part in expr.items for p in _key_parts(part, column_of)), "\x00"]
    raise ValueError(f"a counted view cannot use {expr.kind!r} in its key")


def _key_sql(expr: Expr, column_of: dict[Expr, str]) -> str:
    if expr.kind in _LEAF_KINDS:
        return column_of[expr]
    if expr.kind == "const":
        return _literal(sort_text(expr.const))
    if expr.kind == "array":
        return " || ".join([_literal("\x06"), *(_key_sql(p, column_of) for p in expr.items),
                            _literal("\x00")])
    if expr.kind == "object":
        parts = [_literal("\x07")]
        for name, part in zip(expr.names, expr.items, strict=True):
            parts += [_literal(sort_text(name)[1:]), _key_sql(part, column_of)]
        return " || ".join([*parts, _literal("\x00")])
    raise ValueError(f"a single-row view cannot use {expr.kind!r} in its key")


def _view_value_source(expr: Expr, column_of: dict[Expr, str], columns: tuple[str, ...],
                  scope: dict[str, Any]) -> str:
    """A Python expression of (row, doc_id) for the view's value."""
    if expr.kind in ("field", "neg", "last", "label"):
        return f"decode(row[{columns.index(column_of[expr])}])"
    if expr.kind == "id":
        return "doc_id"
    if expr.kind == "const":
        name = f"const{len(scope)}"
        scope[name] = expr.const
        return name
    parts = [_view_value_source(p, column_of, columns, scope) for p in expr.items]
    if expr.kind == "array":
        return f"[{', '.join(parts)}]"
    if expr.kind == "object":
        members = ", ".join(f"{n!r}: {part}" for n, part in zip(expr.names, parts, strict=True))
        return f"{{{members}}}"
    raise ValueError(f"a single-row view cannot use {expr.kind!r} in its value")


def _value_builder(
    expr: Expr, column_of: dict[Expr, str], columns: tuple[str, ...]
) -> Callable[[Sequence[str], str], Any]:
    """A function of (the value columns' texts, doc id) returning the view's value,
    compiled like `_columns_function`: a view read decodes every row's value."""
    scope: dict[str, Any] = {"decode": decode_text}
    source = _view_value_source(expr, column_of, columns, scope)
    exec(f"def value(row, doc_id):\n    return {source}", scope)  # from our definitions
    function: Callable[[Sequence[str], str], Any] = scope["value"]
    return function


def _leaf_encoder(leaf: Expr) -> Callable[[Doc], str]:
    if leaf.kind == "field":
        name = leaf.name
        return lambda doc: element_text(doc.get(name))
    if leaf.kind == "id":
        return lambda doc: element_text(doc["_id"])
    if leaf.kind == "label":
        return lambda doc: element_text(doc["labels"][0])  # the flag checked there is one
    evaluate = py_expr(leaf)
    return lambda doc: sort_text(evaluate(doc, None))


def _flag_of(spec: ViewSpec) -> tuple[str, tuple[Cond, ...], bool]:
    return (spec.doc_type, spec.conditions, spec.per_label)


def _has_label(doc: Doc) -> bool:
    labels = doc.get("labels")
    return isinstance(labels, list) and len(labels) > 0


@dataclass(frozen=True)
class _Layout:
    elements: tuple[Expr, ...]  # one column each, in COLUMNS order
    # per counted view: (number, flag position, key parts: literal text or column position)
    counted: tuple[tuple[int, int, tuple[str | int, ...]], ...]
    # (doc type, conditions, per label), one column each
    flags: tuple[tuple[str, tuple[Cond, ...], bool], ...]
    views: dict[int, ColumnView]


def _layout(views: Sequence[ViewSpec]) -> _Layout:
    elements: list[Expr] = []
    flags: list[tuple[str, tuple[Cond, ...], bool]] = []
    column_views: dict[int, ColumnView] = {}
    for spec in views:
        if not in_columns(spec):
            continue
        for leaf in _leaves(spec.key) + _leaves(spec.value):
            if leaf not in elements:
                elements.append(leaf)
        if _flag_of(spec) not in flags:
            flags.append(_flag_of(spec))
    column_of = {leaf: _column_name(leaf) for leaf in elements}
    if len(set(column_of.values())) != len(column_of):
        raise ValueError("two view fields map to one column name")
    for number, spec in enumerate(views):
        if not in_columns(spec):
            continue
        value_columns = tuple(dict.fromkeys(column_of[leaf] for leaf in _leaves(spec.value)
                                            if leaf.kind != "id"))
        column_views[number] = ColumnView(
            number=number,
            first_label_only=spec.per_label,
            counted=spec.reduce == "_count" and not spec.per_label,
            indexed=not (spec.counts_only and spec.reduce == "_count" and not spec.per_label),
            flag=f"f_{flags.index(_flag_of(spec))}",
            key_sql=_key_sql(spec.key, column_of),
            value_columns=value_columns,
            value_of=_value_builder(spec.value, column_of, value_columns),
        )
    positions = {name: i for i, name in enumerate(
        [*(column_of[leaf] for leaf in elements), *(f"f_{i}" for i in range(len(flags)))]
    )}
    counted = tuple(
        (number, positions[view.flag], tuple(
            positions[part[1:]] if part.startswith("@") else part
            for part in _key_parts(views[number].key, column_of)
        ))
        for number, view in column_views.items()
        if view.counted
    )
    return _Layout(tuple(elements), counted, tuple(flags), column_views)


_LAYOUT = _layout(VIEWS)
COLUMN_VIEWS: dict[int, ColumnView] = _LAYOUT.views
ELEMENT_COLUMNS: tuple[str, ...] = tuple(_column_name(leaf) for leaf in _LAYOUT.elements)
FLAG_COLUMNS: tuple[str, ...] = tuple(f"f_{i}" for i in range(len(_LAYOUT.flags)))
COLUMNS: tuple[str, ...] = ELEMENT_COLUMNS + FLAG_COLUMNS


# A whole number's collation text, remembered: runs, indexes and priorities repeat.
_int_text = functools.lru_cache(maxsize=65536)(sort_text)


def _leaf_value_source(leaf: Expr) -> list[str]:
    """Source lines setting `v` to the leaf's value, as `views.py_expr` computes it."""
    if leaf.kind == "id":
        return ["    v = doc['_id']"]
    lines = [f"    v = get({leaf.name!r})"]
    if leaf.kind == "neg":
        lines.append("    v = -v if isinstance(v, (int, float))"
                     " and not isinstance(v, bool) else None")
    elif leaf.kind == "last":
        lines.append(f"    v = v[-1].get({leaf.names[0]!r})"
                     " if isinstance(v, list) and v and isinstance(v[-1], dict) else None")
    return lines


def _leaf_source(column: int, leaf: Expr) -> list[str]:
    """Source lines setting `cN` to the leaf's element text, inline: this runs for every
    field of every document written."""
    return [
        *_leaf_value_source(leaf),
        "    t = type(v)",
        "    if t is str and v.isascii() and '\\x00' not in v:",
        f"        c{column} = '\\x05' + v + '\\x00\\x00'",
        "    elif t is int:",
        f"        c{column} = int_text(v)",
        "    elif v is None:",
        f"        c{column} = {sort_text(None)!r}",
        "    else:",
        f"        c{column} = sort_text(v)",
    ]


def _columns_function(doc_type: str) -> Callable[[Doc], tuple[Any, ...]]:
    """The column values of a document of this type: the element columns of the fields
    its views read ('' for the others) and its flags (1 or 0).

    Compiled from source, as `dataclasses` and `namedtuple` build their methods: the
    plain form (a list of per-column functions) spent more on calls than on encoding,
    and every document written goes through here."""
    used = {
        leaf
        for number, spec in enumerate(VIEWS)
        if number in COLUMN_VIEWS and spec.doc_type == doc_type
        for leaf in _leaves(spec.key) + _leaves(spec.value)
    }
    scope: dict[str, Any] = {"sort_text": sort_text, "int_text": _int_text,
                             "has_label": _has_label}
    lines = ["def columns(doc):", "    get = doc.get"]
    names: list[str] = []
    for column, leaf in enumerate(_LAYOUT.elements):
        names.append(f"c{column}")
        if leaf not in used:
            lines.append(f"    c{column} = ''")
        elif leaf.kind == "label":
            # '' and 0, not NULL: see the module docstring (a flag of 0 keeps the row out
            # of every index; an element column is read only through a flagged index).
            scope[f"e{column}"] = _leaf_encoder(leaf)
            lines.append(f"    c{column} = e{column}(doc) if has_label(doc) else ''")
        else:
            lines.extend(_leaf_source(column, leaf))
    for number, (flag_type, conditions, per_label) in enumerate(_LAYOUT.flags):
        checks = [*(py_cond(c) for c in conditions), *([_has_label] if per_label else [])]
        if flag_type != doc_type:
            names.append("0")
            continue
        tests = []
        for position, (check, condition) in enumerate(
            zip(checks, [*conditions, None], strict=False)
        ):
            if condition is not None and condition.kind == "equals" and type(
                condition.value
            ) is str:
                # `py_cond`'s equals, inline for the usual case: a string field value
                tests.append(f"type(get({condition.name!r})) is str"
                             f" and get({condition.name!r}) == {condition.value!r}")
                continue
            scope[f"check{number}_{position}"] = check
            tests.append(f"check{number}_{position}(doc)")
        names.append(f"(1 if {' and '.join(tests) or 'True'} else 0)")
    lines.append(f"    return ({', '.join(names)},)")
    exec("\n".join(lines), scope)  # the source is built above from our view definitions
    function: Callable[[Doc], tuple[Any, ...]] = scope["columns"]
    return function


_BY_TYPE = {doc_type: _columns_function(doc_type) for doc_type, _, _ in _LAYOUT.flags}
_NO_COLUMNS: tuple[Any, ...] = ("",) * len(ELEMENT_COLUMNS) + (0,) * len(FLAG_COLUMNS)


def columns_of(doc: Doc) -> tuple[Any, ...]:
    """The view columns of a document as it is written (all empty for a design document,
    which no view reads, as in CouchDB, and for types no single-row view reads)."""
    doc_type = doc.get("type")
    columns = _BY_TYPE.get(doc_type) if type(doc_type) is str else None
    if columns is None or str(doc["_id"]).startswith("_design/"):
        return _NO_COLUMNS
    return columns(doc)


def plain_columns_of(doc: Doc) -> tuple[Any, ...]:
    """`columns_of` straight from the view definitions (`py_expr`, `py_cond`,
    `sort_text`): the reference the compiled functions are tested against."""
    doc_type = doc.get("type")
    if type(doc_type) is not str or doc_type not in _BY_TYPE:
        return _NO_COLUMNS
    if str(doc["_id"]).startswith("_design/"):
        return _NO_COLUMNS
    used = {
        leaf
        for number, spec in enumerate(VIEWS)
        if number in COLUMN_VIEWS and spec.doc_type == doc_type
        for leaf in _leaves(spec.key) + _leaves(spec.value)
    }
    values: list[Any] = []
    for leaf in _LAYOUT.elements:
        if leaf not in used or (leaf.kind == "label" and not _has_label(doc)):
            values.append("")
        elif leaf.kind == "label":
            values.append(sort_text(doc["labels"][0]))
        else:
            values.append(sort_text(py_expr(leaf)(doc, None)))
    for flag_type, conditions, per_label in _LAYOUT.flags:
        emits = flag_type == doc_type and all(py_cond(c)(doc) for c in conditions) and (
            not per_label or _has_label(doc))
        values.append(1 if emits else 0)
    return tuple(values)


# Per counted view: the column positions its key and flag read.
_COUNTED_READS = tuple(
    frozenset([flag_at, *(part for part in parts if isinstance(part, int))])
    for _, flag_at, parts in _LAYOUT.counted
)


def _counted_key_function(parts: tuple[str | int, ...]) -> Callable[[Sequence[Any]], str]:
    """The key of a counted view's row from a document's columns, compiled (see
    `_columns_function`): literal texts and column values concatenated."""
    terms = " + ".join(repr(p) if isinstance(p, str) else f"c[{p}]" for p in parts) or "''"
    scope: dict[str, Any] = {}
    exec(f"def key(c):\n    return {terms}", scope)  # from our view definitions
    function: Callable[[Sequence[Any]], str] = scope["key"]
    return function


_COUNTED = tuple(
    (number, flag_at, reads, _counted_key_function(parts))
    for (number, flag_at, parts), reads in zip(_LAYOUT.counted, _COUNTED_READS, strict=True)
)


def counted_keys(
    columns: Sequence[Any], changed: Collection[int] | None = None
) -> list[tuple[int, str]]:
    """(view number, key) of each `_count` view row a document with these column values
    (`columns_of`) emits: the store adds and removes these from `view_counts` with the
    document, so a grouped count reads a few rows per key instead of every index entry.
    With `changed` (column positions), only the views reading one of those columns:
    the others' rows are the same before and after an update."""
    if changed is None:
        return [(number, key(columns)) for number, flag_at, _, key in _COUNTED
                if columns[flag_at] == 1]
    return [
        (number, key(columns)) for number, flag_at, reads, key in _COUNTED
        if columns[flag_at] == 1 and not reads.isdisjoint(changed)
    ]
