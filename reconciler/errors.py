"""Diagnostics and the domain error family.

Every problem a user can fix is a `Diagnostic` (file, line, column, JSON path,
message) or an `McprodError`. The CLI boundary turns them into exit code 1; anything
else is a bug and gets exit code 3 with a pointer to a log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding about a declared file, pointing at the offending YAML node."""

    file: str
    line: int
    column: int
    message: str
    json_path: str = "$"
    severity: Severity = "error"

    def text(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}:{self.column}: {prefix}{self.message}"

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "json_path": self.json_path,
            "severity": self.severity,
            "message": self.message,
        }


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: (d.file, d.line, d.column, d.message))


def errors_only(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == "error"]


class McprodError(Exception):
    """A problem the user can fix; the CLI prints it on one line and exits 1."""


class InvalidRepository(McprodError):
    """The declared configuration does not validate; carries every diagnostic."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = sort_diagnostics(diagnostics)
        errors = errors_only(self.diagnostics)
        first = errors[0].text() if errors else "invalid repository"
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        super().__init__(first + more)


class StoreError(McprodError):
    """The state store failed in a way the user must look at (unreachable, auth, missing db)."""


class StoreUnavailable(StoreError):
    """The store could not be reached; nothing was lost, the next run continues."""


class Conflict(StoreError):
    """A compare-and-set lost: the document changed since it was read (CouchDB 409)."""

    def __init__(self, doc_id: str) -> None:
        self.doc_id = doc_id
        super().__init__(f"{doc_id}: document changed since it was read (conflict)")


class BackendError(McprodError):
    """A batch-system command failed; the message carries command, exit code, stderr tail."""


@dataclass
class DiagnosticSink:
    """Collects diagnostics so that one bad file never hides the others."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, file: str, line: int, column: int, message: str, json_path: str = "$") -> None:
        self.items.append(Diagnostic(file, line, column, message, json_path, "error"))

    def warning(
        self, file: str, line: int, column: int, message: str, json_path: str = "$"
    ) -> None:
        self.items.append(Diagnostic(file, line, column, message, json_path, "warning"))

    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)
