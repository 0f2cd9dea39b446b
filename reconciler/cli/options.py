"""Options shared by several commands, parsed in one place."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reconciler.errors import McprodError


def parse_rat_roots(values: Sequence[str] | None) -> dict[str, Path]:
    """`--rat-root VERSION=DIR` values -> {version: DIR}; each DIR must be a folder."""
    roots: dict[str, Path] = {}
    for value in values or ():
        version, sep, folder = value.partition("=")
        if not sep or not version or not folder:
            raise McprodError(
                f"--rat-root {value!r}: expected VERSION=DIR, e.g. 7.0.8=/path/to/rat"
            )
        path = Path(folder).expanduser()
        if not path.is_dir():
            raise McprodError(f"--rat-root {value!r}: {path} is not a folder")
        roots[version] = path.resolve()
    return roots
