"""`mcprod job ID`: one job's whole history, attempt by attempt (pure rendering).

The document is untrusted input: every field is shown as text, whatever its type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.documents import Doc

ATTEMPT_FIELDS = ("reserved_at", "submitted_at", "finished_at")


def _text(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def _attempts(job: Doc) -> list[dict[str, Any]]:
    attempts = job.get("attempts")
    return [a for a in attempts if isinstance(a, dict)] if isinstance(attempts, list) else []


def _files(data_docs: Sequence[Doc]) -> list[dict[str, Any]]:
    files = []
    for doc in data_docs:
        for entry in doc.get("files") or []:
            if isinstance(entry, dict):
                files.append({"data_type": doc.get("data_type"), **entry})
    return files


def render_job_text(job: Doc, data_docs: Sequence[Doc], logs: Mapping[int, str]) -> str:
    lines = [
        f"job {job.get('_id')}",
        f"  campaign {_text(job.get('campaign'))}, module {_text(job.get('module'))},"
        f" run {_text(job.get('run'))}, pass {_text(job.get('pass'))}",
        f"  status {_text(job.get('status'))}"
        + (f" at {job.get('site')}" if job.get("site") else "")
        + f", attempt {_text(job.get('attempt'))}, updated {_text(job.get('updated_at'))}",
        f"  created {_text(job.get('created_at'))} by commit {_text(job.get('commit'))}",
    ]
    if job.get("reason"):
        lines.append(f"  reason: {job.get('reason')}")
    if job.get("retry_decision"):
        lines.append(f"  retry decision: {job.get('retry_decision')}")
    attempts = _attempts(job)
    lines.append(f"  attempts: {len(attempts)}")
    for attempt in attempts:
        number = attempt.get("n")
        lines.append(
            f"    #{_text(number)} {_text(attempt.get('status'))} at {_text(attempt.get('site'))},"
            f" backend id {_text(attempt.get('backend_id'))}"
            f" ({_text(attempt.get('backend_name'))})"
        )
        times = ", ".join(f"{name.removesuffix('_at')} {_text(attempt.get(name))}"
                          for name in ATTEMPT_FIELDS)
        lines.append(f"       {times}")
        if attempt.get("exit_code") is not None:
            lines.append(f"       exit code {attempt.get('exit_code')}")
        if attempt.get("reason"):
            lines.append(f"       reason: {attempt.get('reason')}")
        if isinstance(number, int) and number in logs:
            lines.append(f"       log: {logs[number]}")
    for action in job.get("operator_actions") or []:
        if isinstance(action, dict):
            lines.append(f"  operator {_text(action.get('action'))} by {_text(action.get('by'))}"
                         f" at {_text(action.get('at'))} (was {_text(action.get('from_status'))})")
    files = _files(data_docs)
    lines.append(f"  outputs: {len(files)}")
    for entry in files:
        lines.append(f"    {_text(entry.get('name'))}  {_text(entry.get('size'))} bytes"
                     f"  adler32 {_text(entry.get('adler32'))}")
        lines.append(f"      {_text(entry.get('url'))}")
    return "\n".join(lines) + "\n"


def job_as_json(job: Doc, data_docs: Sequence[Doc], logs: Mapping[int, str]) -> str:
    body = {
        "job": {k: v for k, v in job.items() if k != "_rev"},
        "outputs": _files(data_docs),
        "logs": {str(n): path for n, path in sorted(logs.items())},
    }
    return json.dumps(body, indent=2) + "\n"
