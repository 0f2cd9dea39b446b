"""Job documents read from the store are untrusted input (DESIGN.md invariant 11).

Anyone who can write to the database could otherwise run code at every site: an
`_id` with a line break lands in the job script, a `module` of `../..` moves the
job folder and the outputs, an absolute `macro_path` reads any file, a
`backend_id` of `--user=root` becomes an option of `scancel`. So every field a
site renders, submits, writes to a path or hands to a command is checked here
against the declaration's own patterns (reconciler.documents) before anything
else looks at the document. Pure: a document in, the first problem out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from reconciler.documents import (
    BACKEND_ID_PATTERN,
    JOB_ID_PATTERN,
    JOB_STATUSES,
    LABEL_PATTERN,
    MODULE_PATTERN,
    PLACEHOLDER_NAME_PATTERN,
    TOKEN_PATTERN,
    VERSION_PATTERN,
    backend_name,
    parse_iso,
)
from reconciler.model import EVENT_MODES

OUTPUT_KINDS = ("ratds", "ntuple", "other_ratds", "other_ntuple")
MACRO_PATH_PATTERN = re.compile(r"[A-Za-z0-9_.+-]+(?:/[A-Za-z0-9_.+-]+)*")
MAX_ATTEMPTS = 10_000
MAX_RUN = 10**10

Check = Callable[[Any], str | None]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _whole(pattern: re.Pattern[str], words: str) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, str) and pattern.fullmatch(value):
            return None
        return f"{_shown(value)} is not {words}"

    return check


def _optional(check: Check) -> Check:
    return lambda value: None if value is None else check(value)


def _count(low: int, high: int) -> Check:
    def check(value: Any) -> str | None:
        if _is_int(value) and low <= value <= high:
            return None
        return f"{_shown(value)} is not a whole number from {low} to {high:,}"

    return check


def _positive_number(value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and math.isfinite(value) and value > 0:
        return None
    return f"{_shown(value)} is not a positive number"


def _iso_time(value: Any) -> str | None:
    if isinstance(value, str) and len(value) <= 40:
        try:
            parse_iso(value)
            return None
        except ValueError:
            pass
    return f"{_shown(value)} is not an ISO time"


def _macro_path(value: Any) -> str | None:
    """Relative, inside the release: no leading `/`, no `..` or `.` component."""
    if not isinstance(value, str) or not MACRO_PATH_PATTERN.fullmatch(value):
        return f"{_shown(value)} is not a relative path inside the RAT release"
    if any(part in ("..", ".") for part in PurePosixPath(value).parts):
        return f"{_shown(value)} leaves the RAT release"
    return None


def _template(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"{_shown(value)} is not a mapping of placeholder names to values"
    for name, item in value.items():
        if not PLACEHOLDER_NAME_PATTERN.fullmatch(str(name)):
            return f"{_shown(name)} is not a placeholder name"
        if isinstance(item, bool) or not isinstance(item, int | float | str):
            return f"{name}: {_shown(item)} is not a number or a plain token"
        if isinstance(item, float) and not math.isfinite(item):
            return f"{name}: {_shown(item)} is not a finite number"
        if isinstance(item, str) and not TOKEN_PATTERN.fullmatch(item):
            return f"{name}: {_shown(item)} is not a plain token (letters, digits, _ . : + -)"
    return None


def _outputs(value: Any) -> str | None:
    if isinstance(value, list) and all(item in OUTPUT_KINDS for item in value):
        return None
    return f"{_shown(value)} is not a list of {', '.join(OUTPUT_KINDS)}"


def _labels(value: Any) -> str | None:
    if isinstance(value, list) and all(
        isinstance(item, str) and LABEL_PATTERN.fullmatch(item) for item in value
    ):
        return None
    return f"{_shown(value)} is not a list of campaign labels"


def _attempts(value: Any) -> str | None:
    if not isinstance(value, list) or len(value) > MAX_ATTEMPTS:
        return f"{_shown(value)} is not a list of attempts"
    for index, attempt in enumerate(value):
        if not isinstance(attempt, dict):
            return f"[{index}]: {_shown(attempt)} is not an attempt record"
        number = _count(1, MAX_ATTEMPTS)(attempt.get("n"))
        if number is not None:
            return f"[{index}].n: {number}"
        for key in ("site", "backend_name", "backend_id", "status", "reason"):
            if attempt.get(key) is not None and not isinstance(attempt[key], str):
                return f"[{index}].{key}: {_shown(attempt[key])} is not text"
    return None


# "canceled": documents written before the status was spelled "cancelled".
_STATUS = _whole(re.compile("|".join((*JOB_STATUSES, "canceled"))), "a job status")

# field -> (required, check). Order: the first problem found is the one reported.
FIELDS: dict[str, tuple[bool, Check]] = {
    "module": (True, _whole(MODULE_PATTERN, "a module name (letters, digits, _ + -)")),
    "run": (True, _count(0, MAX_RUN)),
    "subrun": (False, _count(0, 1_000_000)),
    "pass": (True, _count(0, 1_000_000)),
    "status": (True, _STATUS),
    "campaign": (True, _whole(LABEL_PATTERN, "a campaign label")),
    "labels": (False, _optional(_labels)),
    "rat_version": (True, _whole(VERSION_PATTERN, "a RAT version")),
    "ratdb_tag": (False, _optional(_whole(TOKEN_PATTERN, "a RATDB tag"))),
    "event_mode": (True, _whole(re.compile("|".join(EVENT_MODES)), "an event mode")),
    "events": (False, _optional(_positive_number)),
    "duration_s": (False, _optional(_positive_number)),
    "macro_path": (True, _macro_path),
    "outputs": (False, _optional(_outputs)),
    "other_suffix": (False, _optional(_whole(TOKEN_PATTERN, "a file-name suffix"))),
    "template": (False, _optional(_template)),
    "priority": (False, _optional(_count(-10**9, 10**9))),
    "attempt": (False, _optional(_count(0, MAX_ATTEMPTS))),
    "attempts": (False, _optional(_attempts)),
    "site": (False, _optional(_whole(LABEL_PATTERN, "a site name"))),
    "backend_id": (False, _optional(_whole(BACKEND_ID_PATTERN, "a batch-system job id"))),
    "not_before": (False, _optional(_iso_time)),
}


def job_document_problem(doc: Mapping[str, Any]) -> str | None:
    """`<field>: <what is wrong>` for the first field that fails its check, else None."""
    doc_id = doc.get("_id")
    match = JOB_ID_PATTERN.fullmatch(doc_id) if isinstance(doc_id, str) else None
    if match is None:
        return f"_id: {_shown(doc_id)} is not a job id (job:<module>:r<run>:s<sub>:p<pass>)"
    for name, (required, check) in FIELDS.items():
        if name not in doc:
            if required:
                return f"{name}: missing"
            continue
        problem = check(doc[name])
        if problem is not None:
            return f"{name}: {problem}"
    if (match["module"], int(match["run"]), int(match["subrun"]), int(match["pass_"])) != (
        doc["module"], doc["run"], doc.get("subrun", 0), doc["pass"]
    ):
        return "_id: does not match the document's module, run, sub-run and pass"
    given = doc.get("backend_name")
    if given is not None and given != backend_name(str(doc_id), int(doc.get("attempt") or 0)):
        return f"backend_name: {_shown(given)} is not <_id>.a<attempt>"
    return None


def _shown(value: Any, limit: int = 80) -> str:
    """A value as one short line: repr escapes line breaks and control characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Rejected:
    """Job documents a cycle refused, one line each, reported once per document."""

    lines: dict[str, str] = field(default_factory=dict)

    def admit(self, doc: Mapping[str, Any]) -> bool:
        problem = job_document_problem(doc)
        if problem is None:
            return True
        key = repr(doc.get("_id"))
        self.lines.setdefault(
            key, f"job document {_shown(doc.get('_id'))} skipped: {problem}"
        )
        return False

    def __len__(self) -> int:
        return len(self.lines)
