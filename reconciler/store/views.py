"""The named views, defined once and compiled to both CouchDB JavaScript and Python.

Each view is a small declarative `ViewSpec` (which documents, which key, which
value, one row per label or one per document). `javascript_map` renders the map
function installed in CouchDB's design document; `python_map` builds the function
the SQLite store runs on every write. Generating both from one definition is what
keeps the two stores' rows identical; the contract tests check it on real data.

JavaScript details mirrored in Python: a missing field emits `null` (the `v()`
helper; JSON would drop `undefined` inside objects), negation of a non-number is
`null`, and conditions use JavaScript truthiness.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.documents import Doc

DESIGN_NAME = "mcprod"
DESIGN_ID = f"_design/{DESIGN_NAME}"


@dataclass(frozen=True)
class Expr:
    """A key or value expression: a field, a negated field, a member of the last element
    of an array field, the doc id, the label, a constant, an array or an object of
    expressions."""

    kind: Literal["field", "neg", "last", "id", "label", "item", "const", "array", "object"]
    name: str = ""
    const: Any = None
    items: tuple[Expr, ...] = ()
    names: tuple[str, ...] = ()


def f(name: str) -> Expr:
    return Expr("field", name=name)


def neg(name: str) -> Expr:
    return Expr("neg", name=name)


def last(name: str, member: str) -> Expr:
    """`member` of the last element of the array field `name` (null when the field is not
    a non-empty array, or its last element is not an object holding `member`)."""
    return Expr("last", name=name, names=(member,))


def item(name: str) -> Expr:
    """A field of the array element a per-item view emits for (see `ViewSpec.each`)."""
    return Expr("item", name=name)


DOC_ID = Expr("id")
LABEL = Expr("label")


def const(value: Any) -> Expr:
    return Expr("const", const=value)


def array(*items: Expr) -> Expr:
    return Expr("array", items=items)


def obj(*names: str) -> Expr:
    """An object of the named fields, each `null` when missing."""
    return Expr("object", items=tuple(f(n) for n in names), names=names)


@dataclass(frozen=True)
class Cond:
    """`equals`: field === value; `truthy`/`falsy`: JavaScript truthiness of the field;
    `differs`: field !== the field named in `value`; `last_equals`: the last element of
    the array field is an object whose member `value[0]` === `value[1]`."""

    kind: Literal["equals", "truthy", "falsy", "differs", "last_equals"]
    name: str
    value: Any = None


def equals(name: str, value: Any) -> Cond:
    return Cond("equals", name, value)


def truthy(name: str) -> Cond:
    return Cond("truthy", name)


def falsy(name: str) -> Cond:
    return Cond("falsy", name)


def differs(name: str, other: str) -> Cond:
    return Cond("differs", name, other)


def last_equals(name: str, member: str, value: Any) -> Cond:
    return Cond("last_equals", name, (member, value))


@dataclass(frozen=True)
class ViewSpec:
    name: str
    doc_type: str
    key: Expr
    value: Expr
    conditions: tuple[Cond, ...] = ()
    per_label: bool = False  # one row per entry of the doc's `labels` array
    # One row per object in this array field (e.g. "attempts") that meets `item_conditions`;
    # `item(...)` expressions read that object's fields.
    each: str | None = None
    item_conditions: tuple[Cond, ...] = ()
    reduce: Literal["_count"] | None = None
    # Read only as counts: the embedded store then keeps counts per key and no index of
    # its rows (a query for the rows still works, by a scan).
    counts_only: bool = False
    doc: str = field(default="", compare=False)


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec(
        "jobs_by_status_module", "job", array(f("status"), f("module")), const(1),
        reduce="_count", doc="counts by status (group_level 1) and module (group_level 2)",
    ),
    ViewSpec(
        "jobs_by_campaign", "job", array(f("campaign"), f("entry_key"), f("index")),
        obj("status", "priority", "module", "run", "subrun", "pass"),
    ),
    ViewSpec(
        "jobs_by_campaign_module_status", "job",
        array(f("campaign"), f("module"), f("status")), const(1), reduce="_count",
        counts_only=True,
    ),
    ViewSpec(
        "jobs_by_module_run", "job", array(f("module"), f("run"), f("pass"), f("subrun")),
        array(f("campaign"), f("entry_key")),
        doc="passes taken per (module, run), and the campaign entry holding each",
    ),
    ViewSpec(
        "waiting_by_campaign", "job",
        array(f("campaign"), neg("priority"), f("created_at"), DOC_ID), f("rat_version"),
        conditions=(equals("status", "waiting"),),
        doc="each campaign's queue: highest priority first, then oldest. Per campaign, so"
        " that a site reads only the queues of the campaigns it may run (a paused"
        " campaign's jobs are never read) and merges them (reconciler.site.jobs)",
    ),
    ViewSpec(
        "jobs_by_site_status", "job", array(f("site"), f("status")),
        array(f("backend_id"), f("attempt"), last("attempts", "n"), last("attempts", "work_dir")),
        conditions=(truthy("site"),), reduce="_count",
        doc="what a site holds; the value is what monitoring asks the backend with (id, and"
        " the work folder the current attempt was submitted from), so that a cycle reads"
        " only the documents of jobs whose state changed; counted for the free slots",
    ),
    ViewSpec(
        "failed_to_judge", "job", array(f("site")), const(None),
        conditions=(equals("status", "failed"), truthy("site"),
                    differs("retry_checked", "attempt")),
        doc="a site's failed jobs whose retry it has not decided yet (retry_checked != attempt)",
    ),
    ViewSpec(
        "cancels_to_stop", "job", array(f("site")), const(None),
        conditions=(equals("status", "cancelled"), truthy("site"),
                    last_equals("attempts", "status", "cancel_requested")),
        doc="a site's cancelled jobs whose batch job it still has to stop",
    ),
    ViewSpec(
        "data_by_label", "data", array(LABEL, f("module"), f("run"), f("pass"), f("subrun")),
        obj("data_type", "module", "run", "subrun", "pass", "rat_version", "ratdb_tag", "extras",
            "events", "job_id", "files"),
        doc="everything needed to find and fetch a label's files, without reading the documents",
        per_label=True,
    ),
    ViewSpec(
        "exactly_by_label", "job",
        array(LABEL, f("module"), f("run"), f("pass"), f("subrun")), const(None),
        per_label=True,
    ),
    ViewSpec(
        "jobs_by_campaign_entry_status", "job",
        array(f("campaign"), f("entry_key"), f("module"), f("status")), const(1),
        reduce="_count", counts_only=True,
        doc="counts per entry: jobs of entries no longer declared are orphans (mcprod status)",
    ),
    ViewSpec(
        "failed_attempts", "job", array(f("campaign"), f("module"), item("reason")),
        array(item("site"), f("run"), item("n"), item("finished_at"), f("status")),
        each="attempts", item_conditions=(equals("status", "failed"),),
        doc="every failed attempt with its reason (mcprod jobs --reasons)",
    ),
    ViewSpec(
        "attempts_by_site_finished", "job",
        array(item("site"), item("status"), item("finished_at")), f("campaign"),
        each="attempts", item_conditions=(truthy("finished_at"),),
        reduce="_count",
        doc="finished attempts per site and outcome over time (status --site, report)",
    ),
    ViewSpec(
        "completions_by_campaign", "job", array(f("campaign"), item("finished_at")),
        item("site"), each="attempts", item_conditions=(equals("status", "completed"),),
        doc="when each job of a campaign completed (the report's burn-down)",
    ),
)
VIEWS_BY_NAME = {spec.name: spec for spec in VIEWS}


# ---- JavaScript -------------------------------------------------------------------------

def _js_expr(expr: Expr) -> str:
    if expr.kind == "field":
        return f"v(doc[{json.dumps(expr.name)}])"
    if expr.kind == "neg":
        return f"neg(doc[{json.dumps(expr.name)}])"
    if expr.kind == "last":
        return f"last(doc[{json.dumps(expr.name)}], {json.dumps(expr.names[0])})"
    if expr.kind == "id":
        return "doc._id"
    if expr.kind == "label":
        return "label"
    if expr.kind == "item":
        return f"v(item[{json.dumps(expr.name)}])"
    if expr.kind == "const":
        return json.dumps(expr.const)
    if expr.kind == "array":
        return "[" + ", ".join(_js_expr(part) for part in expr.items) + "]"
    pairs = zip(expr.names, expr.items, strict=True)
    members = (f"{json.dumps(n)}: {_js_expr(e)}" for n, e in pairs)
    return "{" + ", ".join(members) + "}"


def _js_cond(cond: Cond, owner: str = "doc") -> str:
    ref = f"{owner}[{json.dumps(cond.name)}]"
    if cond.kind == "equals":
        return f"{ref} === {json.dumps(cond.value)}"
    if cond.kind == "truthy":
        return f"{ref}"
    if cond.kind == "differs":
        return f"{ref} !== doc[{json.dumps(cond.value)}]"
    if cond.kind == "last_equals":
        member, value = cond.value
        last = f"{ref}[{ref}.length - 1]"
        return (
            f"(Array.isArray({ref}) && {ref}.length > 0 && {last} !== null"
            f" && typeof {last} === 'object'"
            f" && {last}[{json.dumps(member)}] === {json.dumps(value)})"
        )
    return f"!{ref}"


def javascript_map(spec: ViewSpec) -> str:
    conditions = " && ".join(
        [f"doc.type === {json.dumps(spec.doc_type)}", *(_js_cond(c) for c in spec.conditions)]
    )
    emit = f"emit({_js_expr(spec.key)}, {_js_expr(spec.value)});"
    if spec.per_label:
        body = (
            "if (Array.isArray(doc.labels)) { doc.labels.forEach(function (label) { "
            + emit + " }); }"
        )
    elif spec.each is not None:
        checks = " && ".join(
            ["item !== null", "typeof item === 'object'", "!Array.isArray(item)",
             *(_js_cond(c, "item") for c in spec.item_conditions)]
        )
        field_ref = f"doc[{json.dumps(spec.each)}]"
        body = (
            f"if (Array.isArray({field_ref})) {{ {field_ref}.forEach(function (item) {{ "
            f"if ({checks}) {{ {emit} }} }}); }}"
        )
    else:
        body = emit
    return (
        "function (doc) { "
        "function v(x) { return x === undefined ? null : x; } "
        "function neg(x) { return typeof x === 'number' ? -x : null; } "
        "function last(a, m) { var e = Array.isArray(a) && a.length > 0 ? a[a.length - 1]"
        " : null; return e !== null && typeof e === 'object' && !Array.isArray(e)"
        " ? v(e[m]) : null; } "
        f"if ({conditions}) {{ {body} }} }}"
    )


def design_document() -> Doc:
    """The `_design/mcprod` document as CouchDB stores it (without `_rev`)."""
    views: dict[str, dict[str, str]] = {}
    for spec in VIEWS:
        view = {"map": javascript_map(spec)}
        if spec.reduce:
            view["reduce"] = spec.reduce
        views[spec.name] = view
    return {"_id": DESIGN_ID, "language": "javascript", "views": views}


# ---- Python -----------------------------------------------------------------------------

MapFn = Callable[[Doc], Iterator[tuple[Any, Any]]]
_Eval = Callable[[Doc, Any], Any]


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness: empty arrays and objects are true, NaN is false."""
    if value is None or value is False or value == "":
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == value and value != 0  # NaN != NaN
    return True


def py_expr(expr: Expr) -> _Eval:
    name = expr.name
    if expr.kind == "field":
        return lambda doc, label: doc.get(name)
    if expr.kind == "neg":
        def negate(doc: Doc, label: Any) -> Any:
            x = doc.get(name)
            if isinstance(x, int | float) and not isinstance(x, bool):
                return -x
            return None
        return negate
    if expr.kind == "last":
        member = expr.names[0]

        def last_member(doc: Doc, label: Any) -> Any:
            items = doc.get(name)
            if not isinstance(items, list) or not items or not isinstance(items[-1], dict):
                return None
            return items[-1].get(member)

        return last_member
    if expr.kind == "id":
        return lambda doc, label: doc["_id"]
    if expr.kind == "label":
        return lambda doc, label: label
    if expr.kind == "item":
        # `label` carries the array element for per-item views
        return lambda doc, element: element.get(name)
    if expr.kind == "const":
        value = expr.const
        return lambda doc, label: value
    parts = [py_expr(part) for part in expr.items]
    if expr.kind == "array":
        return lambda doc, label: [part(doc, label) for part in parts]
    names = expr.names
    return lambda doc, label: {
        n: part(doc, label) for n, part in zip(names, parts, strict=True)
    }


def py_cond(cond: Cond) -> Callable[[Doc], bool]:
    name, value = cond.name, cond.value
    if cond.kind == "equals":
        return lambda doc: name in doc and doc[name] == value and type(doc[name]) is type(value)
    if cond.kind == "truthy":
        return lambda doc: js_truthy(doc.get(name))
    if cond.kind == "differs":
        other = value
        return lambda doc: not _strictly_equal(doc, name, doc, other)
    if cond.kind == "last_equals":
        member, expected = value
        wanted = {member: expected}

        def last_matches(doc: Doc) -> bool:
            items = doc.get(name)
            if not isinstance(items, list) or not items or not isinstance(items[-1], dict):
                return False
            return _strictly_equal(items[-1], member, wanted, member)

        return last_matches
    return lambda doc: not js_truthy(doc.get(name))


def _strictly_equal(a: Doc, a_name: str, b: Doc, b_name: str) -> bool:
    """JavaScript `a[a_name] === b[b_name]` on JSON documents: a missing member is
    undefined (equal only to another missing one, not to null); objects and arrays are
    never equal (distinct objects); true is not 1; 1 is 1.0."""
    if a_name not in a or b_name not in b:
        return a_name not in a and b_name not in b
    x, y = a[a_name], b[b_name]
    if isinstance(x, dict | list) or isinstance(y, dict | list):
        return False
    if isinstance(x, bool) or isinstance(y, bool):
        return type(x) is type(y) and x == y
    if isinstance(x, int | float) and isinstance(y, int | float):
        return bool(x == y)
    return type(x) is type(y) and bool(x == y)


def python_map(spec: ViewSpec) -> MapFn:
    doc_type = spec.doc_type
    checks = [py_cond(c) for c in spec.conditions]
    key_of, value_of = py_expr(spec.key), py_expr(spec.value)
    per_label = spec.per_label
    each = spec.each
    item_checks = [py_cond(c) for c in spec.item_conditions]

    def map_doc(doc: Doc) -> Iterator[tuple[Any, Any]]:
        if doc.get("type") != doc_type or not all(check(doc) for check in checks):
            return
        if per_label:
            labels = doc.get("labels")
            if isinstance(labels, list):
                for label in labels:
                    yield key_of(doc, label), value_of(doc, label)
        elif each is not None:
            elements = doc.get(each)
            if isinstance(elements, list):
                for element in elements:
                    if isinstance(element, dict) and all(c(element) for c in item_checks):
                        yield key_of(doc, element), value_of(doc, element)
        else:
            yield key_of(doc, None), value_of(doc, None)

    return map_doc
