"""The JSON Schemas (package data) and their errors turned into one-line messages.

jsonschema's own messages quote whole instances and schema fragments; these say
what was expected and what was found, at the line of the offending key or item.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

import jsonschema_rs

from reconciler.config.entries import classify_entry
from reconciler.config.paths import JsonPath, human_path, json_path
from reconciler.config.yamlsource import YamlDoc

if TYPE_CHECKING:  # jsonschema is imported only to explain a file that fails
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

Kind = Literal["campaign", "rat-version", "site"]
KINDS: tuple[Kind, ...] = ("campaign", "rat-version", "site")

# What each pattern of the schemas means, in words.
_PATTERN_HINTS = {
    "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$": (
        "use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"
    ),
    "^[0-9A-Za-z][0-9A-Za-z_.+-]*$": 'expected a version such as "6.18.7"',
    "^[A-Za-z0-9_.:+-]+$": "expected a plain token (letters, digits, _ . : + -)",
    "^[A-Za-z0-9_:+-]+$": "expected a generator name (letters, digits, _ : + -)",
    "^[A-Za-z0-9_+-]+$": "expected a module name (letters, digits, _ + -)",
    "^/": "expected an absolute path",
    "^/[A-Za-z0-9_.+/-]*[A-Za-z0-9_.+-]$": (
        "expected an LFN folder such as /snoplus.snolab.ca/mc (no trailing /)"
    ),
    "^[^/][^\\\\]*$": "expected a folder relative to the release root",
    "^[A-Za-z][A-Za-z0-9]*$": "expected a module-name prefix such as Water",
    "^[a-z][a-z0-9_]*$": "expected a lower-case phase name such as water",
    "^[A-Za-z_][A-Za-z0-9_]*$": "expected a placeholder name (letters, digits, _)",
    "^[A-Z_][A-Z0-9_]*$": "expected an environment variable name (capital letters, digits, _)",
    "^[^\\n\\r]*$": "expected one line of text",
    "^([0-9]+-)?[0-9]{1,3}:[0-5][0-9]:[0-5][0-9]$": 'expected [D-]HH:MM:SS, e.g. "20:00:00"',
    "^[0-9]+[KMGT]?$": "expected a memory size such as 4G",
    "^[0-9]+[KMGT]?B?$": "expected a memory size such as 4GB",
    "^[^\\n]+$": "expected one line (write one list item per line)",
    "^[a-z]+$": "expected a lower-case word such as vanilla",
    "^[A-Za-z0-9.-]+$": "expected a host name",
    "^[a-z][a-z0-9+]*$": "expected a URL scheme such as postgres",
    "^/[A-Za-z0-9_./+-]*$": "expected an absolute path of letters, digits and _ . / + -",
    "^[A-Za-z0-9_.:+={}/-]+$": (
        "expected a plain argument (letters, digits, _ . : + = / - and {tag})"
    ),
    "^(srm|root|https?|davs|gsiftp|file)://": (
        "expected a URL starting with srm://, root://, https://, davs://, gsiftp:// or file://"
    ),
}
_TYPE_WORDS = {
    "integer": ("an integer", "integers"),
    "number": ("a number", "numbers"),
    "string": ("a string", "strings"),
    "object": ("a mapping", "mappings"),
    "array": ("a list", "lists"),
    "boolean": ("true or false", "true or false values"),
    "null": ("nothing", "nothing"),
}

# Fields of legacy requests (jobs.json) that have a place of their own here.
_LEGACY_HINTS = {
    "label": ("campaign", "an entry takes the campaign's label, set once at the top level"),
    "rat_v": ("campaign", "the RAT version is rat_version, a quoted string"),
}


@cache
def schema_text(kind: Kind) -> str:
    return resources.files("reconciler.schemas").joinpath(f"{kind}.schema.json").read_text("utf-8")


@cache
def whole_value(pattern: str) -> re.Pattern[str]:
    """A schema pattern that must match the whole value: `$` in Python also matches
    before a final line break, so `abc\\n` would pass `^[a-z]+$`."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


@cache
def validator(kind: Kind) -> Draft202012Validator:
    """Compiled once per process: building a validator costs more than using it.

    Stricter than the standard in two ways, on purpose: an integer is a whole number
    written as one (5000.0 is not a count of jobs), and patterns match whole values."""
    from jsonschema import Draft202012Validator, validators
    from jsonschema.exceptions import ValidationError

    def is_integer(_checker: Any, instance: Any) -> bool:
        return isinstance(instance, int) and not isinstance(instance, bool)

    def pattern(
        validator: Any, expected: str, instance: Any, _schema: Any
    ) -> Iterator[ValidationError]:
        if validator.is_type(instance, "string") and not whole_value(expected).search(instance):
            yield ValidationError(f"{instance!r} does not match {expected!r}")

    checker = Draft202012Validator.TYPE_CHECKER.redefine("integer", is_integer)
    strict = validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator, validators={"pattern": pattern}, type_checker=checker
    )
    return strict(json.loads(schema_text(kind)))  # type: ignore[no-any-return]


@cache
def fast_validator(kind: Kind) -> jsonschema_rs.Validator:
    """A compiled (Rust) validator for the common case: answers only "valid or not"."""
    return jsonschema_rs.validator_for(json.loads(schema_text(kind)))


def is_valid(kind: Kind, data: Any) -> bool:
    try:
        return fast_validator(kind).is_valid(data)
    except ValueError:  # a YAML value JSON does not have (a date): let jsonschema explain
        return False


def fast_says_valid(kind: Kind, doc: YamlDoc) -> bool:
    """The compiled validator's "valid", unless a 5000.0 needs the strict integer rule
    (JSON Schema, and so the compiled validator, counts 5000.0 as an integer)."""
    return not doc.has_integral_float and is_valid(kind, doc.data)


def describe(value: Any, text: str | None = None) -> str:
    """A found value, as a message shows it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {text or value}"
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "nothing (null)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__} (quote it to make it a string)"


def _alternative(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "something else"
    if "const" in schema:
        return str(schema["const"])
    if "pattern" in schema:
        hint = _PATTERN_HINTS.get(schema["pattern"], "")
        return hint.removeprefix("expected ") or "a string"
    kind = schema.get("type")
    return _TYPE_WORDS[kind][0] if isinstance(kind, str) else "something else"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class _Formatter:
    def __init__(self, kind: Kind, doc: YamlDoc) -> None:
        self.kind = kind
        self.doc = doc

    def messages(self, error: ValidationError) -> Iterator[tuple[JsonPath, str]]:
        path: JsonPath = tuple(error.absolute_path)
        keyword = error.validator
        instance: Any = error.instance
        schema: Any = error.schema
        if keyword in ("oneOf", "anyOf"):
            if self.kind == "campaign" and len(path) == 2 and path[0] == "modules":
                if not isinstance(instance, dict):
                    return  # the entry's own type error says it all
                _, problem = classify_entry(instance)
                if problem:
                    yield path, self.at(path, problem)
                    return
            if all(not sub.context for sub in error.context):
                options = " or ".join(_alternative(s) for s in _as_list(error.validator_value))
                yield path, self.at(path, f"expected {options}, got {self.found(path, error)}")
                return
            from jsonschema.exceptions import best_match

            leaf = best_match(error.context)
            if leaf is not None:
                yield from self.messages(leaf)
                return
        if keyword == "additionalProperties" and isinstance(instance, dict):
            known = list(schema.get("properties", {}))
            for key in sorted(set(instance) - set(known)):
                yield (*path, key), self.at((*path, key), self.unknown_field(key, known))
            return
        if "propertyNames" in error.absolute_schema_path:
            key = str(error.instance)
            key_path = (*path, key)
            hint = _PATTERN_HINTS.get(str(error.validator_value), "not allowed here")
            yield key_path, self.at(path, f"key {key!r} is not valid: {hint}")
            return
        # A wrong item of a list is named by its list: "run_numbers: expected integers".
        named = path[:-1] if keyword == "type" and path and isinstance(path[-1], int) else path
        yield path, self.at(named, self.problem(error, path))

    def found(self, path: JsonPath, error: ValidationError) -> str:
        return describe(error.instance, self.doc.number_text.get(path))

    def unknown_field(self, key: str, known: list[str]) -> str:
        if key in _LEGACY_HINTS and _LEGACY_HINTS[key][0] == self.kind:
            return f"unknown field {key!r} ({_LEGACY_HINTS[key][1]})"
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        return f"unknown field {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")

    def problem(self, error: ValidationError, path: JsonPath) -> str:
        keyword = error.validator
        expected: Any = error.validator_value
        instance: Any = error.instance
        schema: Any = error.schema
        found = self.found(path, error)
        if keyword == "type" and isinstance(expected, str):
            singular, plural = _TYPE_WORDS.get(expected, (expected, expected))
            text = self.doc.number_text.get(path)
            if expected == "integer" and isinstance(instance, float) and instance.is_integer():
                written = text or instance
                return f"expected an integer, got the number {written}: write {int(instance)}"
            if expected == "string" and text is not None:
                return f'expected a string, got the number {text}: quote it ("{text}")'
            if path and isinstance(path[-1], int):
                return f"expected {plural}, got {found}"
            return f"expected {singular}, got {found}"
        if keyword == "required":
            missing = [name for name in expected if name not in instance]
            plural = "s" if len(missing) > 1 else ""
            return f"missing required field{plural} " + ", ".join(repr(name) for name in missing)
        if keyword == "dependentRequired":
            needs = [(key, name) for key, names in expected.items() if key in instance
                     for name in names if name not in instance]
            return "; ".join(f"{key} needs {name!r} too" for key, name in needs)
        if keyword in ("enum", "const"):
            options = expected if isinstance(expected, list) else [expected]
            close = difflib.get_close_matches(str(instance), list(map(str, options)), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close and isinstance(instance, str) else ""
            return f"expected one of {', '.join(map(str, options))}, got {found}{hint}"
        if keyword == "pattern":
            hint = _PATTERN_HINTS.get(str(expected), f"does not match {expected}")
            if isinstance(instance, str) and instance.endswith("\n"):
                hint += "; remove the line break at the end"
            return f"{found} is not valid: {hint}"
        if keyword in ("minimum", "exclusiveMinimum"):
            noun = "integer" if schema.get("type") == "integer" else "number"
            if expected == 1 or (expected == 0 and keyword == "exclusiveMinimum"):
                return f"expected a positive {noun}, got {found}"
            if expected == 0:
                return f"expected zero or a positive {noun}, got {found}"
            return f"must be at least {expected}, got {found}"
        if keyword in ("maximum", "exclusiveMaximum"):
            bound = "below" if keyword == "exclusiveMaximum" else "at most"
            return f"must be {bound} {expected:,}, got {found}"
        if keyword == "minItems":
            return "must not be empty" if expected == 1 else f"needs at least {expected} items"
        if keyword == "minProperties":
            return "must not be empty"
        if keyword == "minLength":
            return "must not be empty"
        if keyword == "uniqueItems":
            return f"lists the same value twice: {self.first_duplicate(instance)}"
        return error.message

    def first_duplicate(self, items: list[Any]) -> str:
        seen: list[Any] = []
        for item in items:
            if item in seen:
                return describe(item)
            seen.append(item)
        return "?"

    def at(self, path: JsonPath, message: str) -> str:
        where = human_path(path, self.doc.data)
        return f"{where}: {message}" if where else message


def schema_problems(kind: Kind, doc: YamlDoc) -> list[tuple[JsonPath, str, str]]:
    """Every schema violation as (location path, JSON path, message), in file order.

    Most files are valid: the compiled validator says so about twenty times faster
    than jsonschema, which is asked only to explain a file that fails.
    """
    if fast_says_valid(kind, doc):
        return []
    formatter = _Formatter(kind, doc)
    found: list[tuple[JsonPath, str, str]] = []
    seen: set[tuple[JsonPath, str]] = set()
    for error in validator(kind).iter_errors(doc.data):
        for location, message in formatter.messages(error):
            # `required` fails once per missing field; the message already names them all.
            if (location, message) not in seen:
                seen.add((location, message))
                found.append((location, json_path(location), message))
    return found
