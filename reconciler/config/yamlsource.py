"""Read one YAML file into plain data plus the position of every key and item.

PyYAML's composer keeps a mark (line, column) on every node; the usual loaders
throw them away. Here the node tree is converted by hand so that each key of a
mapping and each item of a list keeps its position, keyed by its JSON path, and so
that problems PyYAML accepts silently (duplicate keys, keys that are numbers,
credential-like keys) become diagnostics. Every failure is one clear diagnostic,
never an exception.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.config.paths import JsonPath, human_path

try:  # the C loader is several times faster; fall back when libyaml is absent
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_BOOL = "tag:yaml.org,2002:bool"
# Decimal integers whose YAML 1.1 meaning is plain (no octal 010, no 1_000, no 1:30).
_PLAIN_INT = re.compile(r"^-?(?:0|[1-9][0-9]*)$")
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_STANDARD_TAG = "tag:yaml.org,2002:"
_OCTAL_LOOKING = re.compile(r"[-+]?0[0-9_]+")
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
# `1e6` has no dot, so YAML 1.1 reads it as text; `1.0e+6` is a number.
_EXPONENT_TEXT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+")


def _plain_number(value: float) -> str:
    """How to write a number so that every YAML reader agrees on it."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _base60(text: str) -> str:
    value = 0.0
    for part in text.lstrip("+-").replace("_", "").split(":"):
        value = value * 60 + float(part)
    return ("-" if text.startswith("-") else "") + _plain_number(value)


def yaml11_surprise(text: str, tag: str) -> str | None:
    """Why an unquoted scalar means something else in YAML 1.1 than it seems, with the
    spelling to use instead; None for a value that reads as it looks."""
    if tag == _BOOL and text.lower() not in ("true", "false"):
        meaning = "true" if text.lower() in ("yes", "on", "y") else "false"
        return (
            f"{text} reads as {meaning} in YAML: write {meaning}, or quote it"
            f' ("{text}") if you mean the word'
        )
    if tag in _NUMBER_TAGS or tag == _STR:
        if _OCTAL_LOOKING.fullmatch(text) and text.lstrip("+-").strip("0_"):
            digits = text.replace("_", "").lstrip("+-").lstrip("0")
            sign = "-" if text.startswith("-") else ""
            return (
                f"{text} has a leading zero, which YAML may read as an octal number:"
                f' write {sign}{digits}, or quote it ("{text}") if it is a name'
            )
        if ":" in text and _SEXAGESIMAL.fullmatch(text):
            return (
                f"{text} reads as the base-60 number {_base60(text)} in YAML:"
                f' quote it ("{text}") if you mean the text'
            )
        if tag in _NUMBER_TAGS and "_" in text:
            return f"{text}: write the number without '_' ({text.replace('_', '')})"
        if tag == _STR and _EXPONENT_TEXT.fullmatch(text) and math.isfinite(float(text)):
            return f"{text} reads as text in YAML, not a number: write {_plain_number(float(text))}"
    return None


def _tag_name(tag: str) -> str:
    name = tag.removeprefix(_STANDARD_TAG)
    return {"timestamp": "a date", "int": "an integer", "float": "a number"}.get(name, name)


CREDENTIAL_KEY = re.compile(
    r"(^|[_.-])(password|passwd|passphrase|secret|token|private[_-]?key|api[_-]?key"
    r"|access[_-]?key|secret[_-]?key|credentials?|proxy[_-]?cert)($|[_.-])",
    re.IGNORECASE,
)

# A URL with user:password@, or PEM key material.
_SECRET_VALUE = re.compile(r"://[^/@\s:]+:[^/@\s]+@|-----BEGIN [A-Z ]*PRIVATE KEY-----")


@functools.cache
def _looks_like_credential(key: str) -> bool:
    # The same few keys recur in every file: decide each once.
    return CREDENTIAL_KEY.search(key) is not None


# Aliases are expanded into copies: a few lines can stand for billions of values.
MAX_NODES = 500_000
# Declarations nest a few levels; the converter recurses once per level.
MAX_DEPTH = 50


class _TooManyNodes(Exception):
    pass


@dataclass
class Problem:
    """A problem found while reading, before the file's kind is known."""

    path: JsonPath
    line: int
    column: int
    message: str


@dataclass
class YamlDoc:
    """A YAML document as plain data, with 1-based positions by JSON path.

    `marks[path]` is where the key (for a mapping member) or the item (for a list
    member) starts; `marks[()]` is the start of the document. `number_text` keeps the
    source text of numeric scalars so that messages quote exactly what was written.
    """

    data: Any
    marks: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)
    number_text: dict[JsonPath, str] = field(default_factory=dict)
    # A float with an integral value (5000.0) somewhere: where a count is meant, the
    # schema check must say "write 5000" (JSON Schema itself calls 5000.0 an integer).
    has_integral_float: bool = False

    def mark(self, path: JsonPath) -> tuple[int, int]:
        """Position of the nearest node on `path` that has one."""
        while path not in self.marks:
            path = path[:-1]
        return self.marks[path]


class _Converter:
    """Node tree -> plain data; problems are named once the whole document is known.

    Messages are finished after conversion so that a path into a campaign entry can
    name the entry's module, wherever the `module` key sits in the entry.
    """

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.doc = YamlDoc(data=None)
        self.pending: list[tuple[JsonPath, yaml.Node, str]] = []
        self.visited = 0
        # Collections being converted: an alias back to one of them would never end.
        self.open_nodes: set[int] = set()

    def problem(self, named: JsonPath, node: yaml.Node, detail: str) -> None:
        self.pending.append((named, node, detail))

    def problems(self) -> list[Problem]:
        found = []
        for named, node, detail in self.pending:
            where = human_path(named, self.doc.data)
            message = f"{where}: {detail}" if where else detail
            found.append(
                Problem(named, node.start_mark.line + 1, node.start_mark.column + 1, message)
            )
        return found

    def convert(self, node: yaml.Node, path: JsonPath) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise _TooManyNodes
        if len(path) > MAX_DEPTH:
            self.problem(path[:1], node, f"nested more than {MAX_DEPTH} levels deep")
            return None
        if not node.tag.startswith(_STANDARD_TAG):
            self.problem(path, node, f"the tag {node.tag} is not supported here: remove it")
            return None
        if isinstance(node, yaml.CollectionNode):
            if id(node) in self.open_nodes:
                self.problem(
                    path,
                    node,
                    "an alias here repeats the structure that holds it (anchored at line"
                    f" {node.start_mark.line + 1}): that never ends; remove the alias",
                )
                return None
            self.open_nodes.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self._mapping(node, path)
                assert isinstance(node, yaml.SequenceNode)
                return self._sequence(node, path)
            finally:
                self.open_nodes.discard(id(node))
        if isinstance(node, yaml.ScalarNode) and not node.style:  # plain (unquoted)
            surprise = yaml11_surprise(str(node.value), node.tag)
            if surprise is not None:
                self.problem(path, node, surprise)
                return None
        if node.tag == _STR:
            value = str(node.value)
            if ("@" in value or "PRIVATE KEY" in value) and _SECRET_VALUE.search(value):
                self.problem(
                    path,
                    node,
                    "holds a password or private key; secrets never go in the repository"
                    " (a site reads them from its environment or a file only it can read)",
                )
            return value
        if node.tag in _NUMBER_TAGS:
            self.doc.number_text[path] = node.value
            if _PLAIN_INT.fullmatch(node.value):  # the common case, without PyYAML's constructor
                return int(node.value)
        try:
            value = self.loader.construct_object(node, deep=True)
        except Exception as exc:
            # PyYAML's constructors fail in many ways on values given an explicit or
            # implicit tag they cannot hold: 2019-13-45, `!!int abc`, an empty `!!int`.
            reason = getattr(exc, "problem", None) or " ".join(str(exc).split())
            self.problem(
                path, node, f"cannot read {node.value!r} as {_tag_name(node.tag)}: {reason}"
            )
            return None
        if isinstance(value, float) and value.is_integer():
            self.doc.has_integral_float = True
        return value

    def _sequence(self, node: yaml.SequenceNode, path: JsonPath) -> list[Any]:
        items = []
        for index, item in enumerate(node.value):
            item_path = (*path, index)
            self.doc.marks[item_path] = (item.start_mark.line + 1, item.start_mark.column + 1)
            items.append(self.convert(item, item_path))
        return items

    def _pairs(
        self, node: yaml.MappingNode, path: JsonPath
    ) -> list[tuple[yaml.Node, yaml.Node, bool]]:
        """The mapping's own pairs, then the pairs merged in with `<<` (which never win)."""
        own: list[tuple[yaml.Node, yaml.Node, bool]] = []
        merged: list[tuple[yaml.Node, yaml.Node, bool]] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE:
                own.append((key_node, value_node, False))
                continue
            sources = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    self.problem(
                        path, key_node, "a merge key (<<) needs a mapping or an alias of one"
                    )
                    continue
                merged.extend((k, v, True) for k, v, _ in self._pairs(source, path))
        return own + merged

    def _mapping(self, node: yaml.MappingNode, path: JsonPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node, from_merge in self._pairs(node, path):
            key = self._key(key_node, path)
            if key is None:
                continue
            key_path = (*path, key)
            if key in first_seen:
                if not from_merge:
                    self.problem(
                        key_path,
                        key_node,
                        f"duplicate key (first at line {first_seen[key]}): keep only one",
                    )
                continue
            first_seen[key] = key_node.start_mark.line + 1
            if _looks_like_credential(key):
                self.problem(
                    key_path,
                    key_node,
                    "looks like a credential; secrets never go in the repository"
                    " (a site reads them from its environment or a file only it can read)",
                )
                continue
            self.doc.marks[key_path] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            result[key] = self.convert(value_node, key_path)
        return result

    def _key(self, key_node: yaml.Node, path: JsonPath) -> str | None:
        if not isinstance(key_node, yaml.ScalarNode):
            self.problem(path, key_node, "a key must be a plain string, not a list or mapping")
            return None
        text = str(key_node.value)
        if key_node.tag in _NUMBER_TAGS:
            self.problem(
                path, key_node, f'key {text} is a number, keys must be strings: quote it ("{text}")'
            )
        elif key_node.tag not in (_STR, _BOOL):
            # YAML 1.1 reads `on:` and `yes:` as booleans; as keys they mean the word.
            self.problem(path, key_node, f"key {text!r} must be a string: quote it")
        return text


def _decode(raw: bytes) -> tuple[str | None, Problem | None]:
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, Problem(
            (),
            line,
            column,
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x}): save the file as UTF-8",
        )


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    return lines[line][column : column + 1] if line < len(lines) else ""


def _yaml_error(exc: yaml.YAMLError, text: str) -> Problem:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        what = exc.problem or "malformed YAML"
        context = ""
        if exc.context and exc.context_mark is not None:
            context = f" ({exc.context} at line {exc.context_mark.line + 1})"
        if "another document" in what:
            what, context = "a second document starts here: keep one document per file", ""
        elif _char_at(text, mark.line, mark.column) == "\t":
            what, context = "a tab character: YAML indents with spaces only", ""
        return Problem((), mark.line + 1, mark.column + 1, f"invalid YAML: {what}{context}")
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        line = before.count("\n") + 1
        column = exc.position - (before.rfind("\n") + 1) + 1
        return Problem(
            (),
            line,
            column,
            f"invalid YAML: control character U+{exc.character:04X} is not allowed",
        )
    return Problem((), 1, 1, "invalid YAML: " + " ".join(str(exc).split()))


def parse_yaml_text(text: str, expected: str) -> tuple[YamlDoc | None, list[Problem]]:
    """Parse YAML text; `expected` names what the top level should be, for messages."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        return None, [_yaml_error(exc, text)]
    finally:
        loader.dispose()
    if root is None:
        return None, [Problem((), 1, 1, f"empty file: expected {expected}")]
    if not isinstance(root, yaml.MappingNode):
        kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        line, column = root.start_mark.line + 1, root.start_mark.column + 1
        return None, [
            Problem((), line, column, f"expected {expected} at the top level, got {kind}")
        ]
    converter = _Converter(_Loader(""))
    converter.doc.marks[()] = (root.start_mark.line + 1, root.start_mark.column + 1)
    try:
        converter.doc.data = converter.convert(root, ())
    except _TooManyNodes:
        return None, [
            Problem(
                (),
                1,
                1,
                f"more than {MAX_NODES:,} values once aliases are expanded:"
                " write the values out or split the file",
            )
        ]
    return converter.doc, converter.problems()


def read_yaml_file(path: Path, expected: str) -> tuple[YamlDoc | None, list[Problem]]:
    """Read and parse one file; a directory, unreadable or non-UTF-8 file is one problem."""
    if path.is_dir():
        return None, [Problem((), 1, 1, f"is a directory, expected a YAML file holding {expected}")]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem((), 1, 1, f"cannot read the file: {exc.strerror or exc}")]
    text, problem = _decode(raw)
    if text is None:
        assert problem is not None
        return None, [problem]
    return parse_yaml_text(text, expected)
