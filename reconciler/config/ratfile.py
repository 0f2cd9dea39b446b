"""Read one `rat-versions/<V>.yaml` for `generate`, with the repository's own parser.

`generate` needs a single RAT version, not the whole repository: a broken campaign
must not stop a catalogue from being built. The file goes through the same YAML
reader, schema and record builder as `mcprod validate`, so both agree on it.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.config.paths import json_path
from reconciler.config.records import build_rat_version
from reconciler.config.schema import schema_problems
from reconciler.config.yamlsource import read_yaml_file
from reconciler.errors import Diagnostic, McprodError
from reconciler.model import RatVersion

EXPECTED = "a RAT version mapping (version, env, phases, ...)"


def load_rat_version(repo: Path, version: str) -> tuple[RatVersion | None, list[Diagnostic]]:
    """The declared version, or None and every problem of its file."""
    rel = f"rat-versions/{version}.yaml"
    path = repo / rel
    if not path.exists():
        raise McprodError(f"{rel}: no such file in {repo}; declare the RAT version first")
    doc, problems = read_yaml_file(path, EXPECTED)
    diagnostics = [
        Diagnostic(rel, p.line, p.column, p.message, json_path(p.path)) for p in problems
    ]
    if doc is None:
        return None, diagnostics
    for location, pointer, message in schema_problems("rat-version", doc):
        line, column = doc.mark(location)
        diagnostics.append(Diagnostic(rel, line, column, message, pointer))
    if diagnostics:
        return None, diagnostics
    rat = build_rat_version(rel, doc)
    if rat.version != version:
        line, column = doc.mark(("version",))
        message = f"version: {rat.version!r} does not match the file name {version}.yaml"
        return None, [Diagnostic(rel, line, column, message, "$.version")]
    return rat, []
