"""Diagnostics as the text or JSON that `mcprod validate` prints."""

from __future__ import annotations

import json
from collections.abc import Sequence

from reconciler.errors import Diagnostic, sort_diagnostics


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def summary_line(diagnostics: Sequence[Diagnostic], files_checked: int) -> str:
    errors = sum(1 for d in diagnostics if d.severity == "error")
    warnings = len(diagnostics) - errors
    return (
        f"{_count(errors, 'error')}, {_count(warnings, 'warning')}"
        f" in {_count(files_checked, 'file')}"
    )


def render_text(diagnostics: Sequence[Diagnostic], files_checked: int) -> str:
    """One line per diagnostic, sorted by file and line, then the summary line."""
    lines = [d.text() for d in sort_diagnostics(diagnostics)]
    lines.append(summary_line(diagnostics, files_checked))
    return "\n".join(lines) + "\n"


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([d.as_json() for d in sort_diagnostics(diagnostics)], indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(diagnostics: Sequence[Diagnostic], files_checked: int, prefix: str = "") -> str:
    """GitHub Actions workflow commands, so each problem shows on its line of the pull
    request (`::error file=...,line=...,col=...::message`), then the summary line.

    `prefix` is the repository folder relative to the checkout, for `--repo sub/dir`.
    """
    lines = []
    for d in sort_diagnostics(diagnostics):
        file = _escape_property(f"{prefix}{d.file}")
        lines.append(
            f"::{d.severity} file={file},line={d.line},col={d.column},title=mcprod validate::"
            f"{_escape_data(d.message)}"
        )
    lines.append(summary_line(diagnostics, files_checked))
    return "\n".join(lines) + "\n"
