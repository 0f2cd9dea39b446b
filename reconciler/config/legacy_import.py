"""Legacy production requests (jobs.json) -> campaign YAML, pure.

A request is `{"rat_v": "6.18.7", "modules": [{...}, ...]}` (DOMAIN.md). Field
names of the entries are the legacy ones the campaign schema keeps, so an entry
is carried over as is: `rat_v` becomes `rat_version`, a per-module `label` equal to
the campaign label is dropped (it is the campaign's), and a legacy `-L` run list
becomes `runlist:` on the run-mode entries. The result is checked against the
campaign schema here, with errors placed at the JSON line and column that caused
them, so an import never writes a file that `mcprod validate` would reject for
its shape. Module names are checked later, by `validate`, against the catalogue.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from dataclasses import dataclass
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

import yaml

from reconciler.config.paths import JsonPath, human_path
from reconciler.config.schema import schema_problems, schema_text
from reconciler.config.yamlsource import YamlDoc
from reconciler.errors import Diagnostic

SCHEMA_LINE = "# yaml-language-server: $schema=../schemas/campaign.schema.json"
TOP_LEVEL_FIELDS = ("rat_v", "modules")
# Entry fields in the order of DOMAIN.md's table, which is also the order written.
ENTRY_ORDER = (
    "module", "n_ev", "ev_per_run", "t_run", "t_format", "n_runs", "run_numbers", "runlist",
    "priority", "template",
)
INTEGER_FIELDS = ("n_ev", "ev_per_run", "n_runs", "priority")
RUN_MODE_SUFFIX = "Run"


@dataclass(frozen=True)
class ImportOptions:
    label: str
    ratdb_tag: str | None = None
    runlist: str | None = None
    """Repository-relative path of a run list for the run-mode entries (legacy -L)."""
    source_name: str = "jobs.json"


# --- positions in JSON text ------------------------------------------------------


class _JsonMarks:
    """Line and column of every key and list item of a JSON text already known to be valid.

    `json` keeps no positions, and error messages must name the line of the
    offending field; duplicate keys, which `json` silently collapses, are found here.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line_starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        self.marks: dict[JsonPath, tuple[int, int]] = {}
        self.duplicates: list[JsonPath] = []

    def at(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def _skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n\ufeff":
            self.pos += 1

    def scan(self, path: JsonPath = ()) -> None:
        self._skip_space()
        if not path:
            self.marks[()] = self.at(self.pos)
        char = self.text[self.pos]
        if char == "{":
            self._object(path)
        elif char == "[":
            self._array(path)
        elif char == '"':
            _, self.pos = scanstring(self.text, self.pos + 1)
        else:
            while self.pos < len(self.text) and self.text[self.pos] not in ",]} \t\r\n":
                self.pos += 1

    def _object(self, path: JsonPath) -> None:
        self.pos += 1
        seen: set[str] = set()
        while True:
            self._skip_space()
            if self.text[self.pos] == "}":
                self.pos += 1
                return
            if self.text[self.pos] == ",":
                self.pos += 1
                continue
            start = self.pos
            key, self.pos = scanstring(self.text, self.pos + 1)
            key_path = (*path, key)
            if key in seen:
                self.duplicates.append(key_path)
                self.marks[("duplicate", *key_path)] = self.at(start)
            else:
                self.marks[key_path] = self.at(start)
            seen.add(key)
            self._skip_space()
            self.pos += 1  # the ':'
            self.scan(key_path)

    def _array(self, path: JsonPath) -> None:
        self.pos += 1
        index = 0
        while True:
            self._skip_space()
            if self.text[self.pos] == "]":
                self.pos += 1
                return
            if self.text[self.pos] == ",":
                self.pos += 1
                continue
            self.marks[(*path, index)] = self.at(self.pos)
            self.scan((*path, index))
            index += 1


# --- request -> campaign ----------------------------------------------------------


@dataclass
class _Findings:
    file: str
    marks: _JsonMarks
    items: list[Diagnostic]

    def error(self, path: JsonPath, message: str) -> None:
        while path not in self.marks.marks:
            path = path[:-1]
        line, column = self.marks.marks[path]
        self.items.append(Diagnostic(self.file, line, column, message))


def parse_request(text: str, file: str) -> tuple[Any, _JsonMarks | None, list[Diagnostic]]:
    """The decoded JSON and its positions, or the syntax error as a diagnostic."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, None, [Diagnostic(file, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}")]
    marks = _JsonMarks(text)
    marks.scan()
    return data, marks, []


def convert_request(
    data: Any, marks: _JsonMarks, options: ImportOptions, file: str
) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """The campaign mapping of a decoded request, or None and every problem found."""
    findings = _Findings(file, marks, [])
    for path in marks.duplicates:
        line, column = marks.marks[("duplicate", *path)]
        findings.items.append(
            Diagnostic(file, line, column, f"{human_path(path)}: duplicate key: keep only one")
        )
    if not isinstance(data, dict):
        findings.error((), 'expected a request object {"rat_v": ..., "modules": [...]}')
        return None, findings.items
    for key in sorted(set(data) - set(TOP_LEVEL_FIELDS)):
        findings.error(
            (key,), f"unknown field {key!r}: a request has only rat_v and modules"
        )
    rat_v = data.get("rat_v")
    if "rat_v" not in data:
        findings.error((), "missing required field 'rat_v' (the RAT version)")
    elif not isinstance(rat_v, str):
        findings.error(
            ("rat_v",), f'rat_v: expected the version as a string such as "6.18.7", got {rat_v!r}'
        )
    modules = data.get("modules")
    if not isinstance(modules, list):
        findings.error(("modules",) if "modules" in data else (), "modules: expected a list")
        return None, findings.items
    entries = [_entry(raw, index, options, findings) for index, raw in enumerate(modules)]
    not_objects = {index for index, raw in enumerate(modules) if not isinstance(raw, dict)}
    if options.runlist is not None:
        _give_runlist(entries, options.runlist, findings)
    # A bad rat_v is reported above; the schema then checks everything else.
    version = rat_v if isinstance(rat_v, str) else "0"
    campaign: dict[str, Any] = {"label": options.label, "rat_version": version}
    if options.ratdb_tag is not None:
        campaign["ratdb_tag"] = options.ratdb_tag
    campaign["modules"] = entries
    _schema_check(campaign, findings, not_objects)
    if findings.items:
        return None, findings.items
    return campaign, []


def _entry(raw: Any, index: int, options: ImportOptions, findings: _Findings) -> Any:
    if not isinstance(raw, dict):
        findings.error(
            ("modules", index), f"modules[{index}]: expected an object {{\"module\": ...}}"
        )
        return {}
    entry = dict(raw)
    label = entry.pop("label", options.label)
    if label != options.label:
        name = raw.get("module", "?")
        findings.error(
            ("modules", index, "label"),
            f"modules[{index}] ({name}): label {label!r} differs from --label "
            f"{options.label!r}: split the request into one file per label and import each "
            "with its own --label",
        )
    for key in INTEGER_FIELDS:
        entry[key] = _integral(entry[key]) if key in entry else None
    if isinstance(entry.get("run_numbers"), list):
        entry["run_numbers"] = [_integral(run) for run in entry["run_numbers"]]
    ordered = {key: entry[key] for key in ENTRY_ORDER if entry.get(key) is not None}
    ordered.update({k: v for k, v in entry.items() if k not in ordered and v is not None})
    return ordered


def _integral(value: Any) -> Any:
    """JSON writers sometimes emit 1e9 or 290000.0 for counts: keep them integers."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _give_runlist(entries: list[Any], runlist: str, findings: _Findings) -> None:
    """The legacy -L list goes to every run-mode entry (module name ending in Run)
    that lists no runs of its own; run-mode macros end in Run by convention."""
    taken = False
    for entry in entries:
        if not isinstance(entry, dict) or "run_numbers" in entry:
            continue
        if str(entry.get("module", "")).endswith(RUN_MODE_SUFFIX):
            entry["runlist"] = runlist
            taken = True
    if not taken:
        findings.error(
            ("modules",),
            "--runlist: no entry takes a run list (run-mode modules end in Run and give no "
            "run_numbers of their own)",
        )


def _schema_check(campaign: dict[str, Any], findings: _Findings, not_objects: set[int]) -> None:
    # The campaign shares its paths with the request, except rat_v -> rat_version.
    marks = {_campaign_path(p): pos for p, pos in findings.marks.marks.items()}
    doc = YamlDoc(data=campaign, marks=marks)
    for location, _pointer, message in schema_problems("campaign", doc):
        if location[:1] == ("modules",) and location[1:2] and location[1] in not_objects:
            continue  # reported as "expected an object"
        if location[:1] == ("rat_version",):
            message = "rat_v" + message.removeprefix("rat_version")
        findings.error(_request_path(location), message)


_OPTION_HINTS = {
    "label": "use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit",
    "ratdb_tag": "use letters, digits and '_', '.', ':', '+', '-' only",
}


def option_problems(options: ImportOptions) -> list[str]:
    """What is wrong with --label and --ratdb-tag, by the campaign schema's own patterns."""
    properties = json.loads(schema_text("campaign"))["properties"]
    problems = []
    for option, value, field in (
        ("--label", options.label, "label"),
        ("--ratdb-tag", options.ratdb_tag, "ratdb_tag"),
    ):
        if value is not None and not re.search(properties[field]["pattern"], value):
            problems.append(f"{option} {value!r} is not valid: {_OPTION_HINTS[field]}")
    return problems


def _campaign_path(path: JsonPath) -> JsonPath:
    return ("rat_version", *path[1:]) if path[:1] == ("rat_v",) else path


def _request_path(path: JsonPath) -> JsonPath:
    return ("rat_v", *path[1:]) if path[:1] == ("rat_version",) else path


# --- campaign -> YAML -------------------------------------------------------------


class _QuotedString(str):
    """Versions are written quoted, so that no reader ever takes them for numbers."""


class _FlowList(list[Any]):
    """Run numbers and other value lists stay on one line: `[100151, 100152]`."""


class _FlowMap(dict[str, Any]):
    """Template values stay on one line: `{radius: 7250}`."""


class _CampaignDumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as people write them.
        super().increase_indent(flow, False)


def _quoted(dumper: yaml.SafeDumper, value: _QuotedString) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


def _flow_list(dumper: yaml.SafeDumper, value: _FlowList) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


def _flow_map(dumper: yaml.SafeDumper, value: _FlowMap) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True)


_CampaignDumper.add_representer(_QuotedString, _quoted)
_CampaignDumper.add_representer(_FlowList, _flow_list)
_CampaignDumper.add_representer(_FlowMap, _flow_map)


def _styled_entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        key: _FlowList(value) if isinstance(value, list)
        else _FlowMap(value) if isinstance(value, dict)
        else value
        for key, value in entry.items()
    }


def campaign_yaml(campaign: dict[str, Any], source_name: str) -> str:
    document = dict(campaign)
    document["rat_version"] = _QuotedString(campaign["rat_version"])
    document["modules"] = [_styled_entry(entry) for entry in campaign["modules"]]
    body = yaml.dump(
        document,
        Dumper=_CampaignDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
    return (
        f"{SCHEMA_LINE}\n"
        f"# Imported with `mcprod import-jobs` from the legacy request {source_name}.\n"
        f"{body}"
    )
