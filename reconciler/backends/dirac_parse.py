"""The answers of the DIRAC client commands, parsed (pure: text in, values out).

Each parser names the DIRAC script whose output it reads (DIRAC's public source,
`src/DIRAC/Interfaces/scripts/` and `src/DIRAC/FrameworkSystem/scripts/`); the
formats are those scripts' `print` lines, not guesses. The test double under
tests/doubles/dirac/ prints the same lines.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence

from reconciler.backends.base import BackendState, State
from reconciler.errors import BackendError

DIRAC_STATES: Mapping[str, State] = {
    "Received": "pending",
    "Checking": "pending",
    "Staging": "pending",
    "Waiting": "pending",
    "Matched": "pending",
    "Rescheduled": "pending",
    "Submitting": "pending",
    "Running": "running",
    "Completing": "running",
    "Completed": "running",  # DIRAC's "Completed": outputs are still being uploaded
    "Done": "completed",
    "Failed": "failed",
    "Stalled": "failed",  # the pilot stopped reporting; judged failed, and killed (lingering)
    "Killed": "cancelled",
    "Deleted": "cancelled",
}
# Application statuses a payload sets when it failed although DIRAC says `Done`.
FAILED_APPLICATION = re.compile(r"error|fail|abort|crash", re.IGNORECASE)

# dirac_wms_job_submit.py: `print("JobID = %s" % (result["Value"]))` per JDL, the value
# an int, or a list of ints for a parametric JDL; then `print("ERROR %s: %s" % (jdl, msg))`
# for every JDL that failed, after all the JobID lines; exit code 2 if any failed.
_SUBMITTED = re.compile(r"^JobID\s*=\s*(\[[\d,\s]*\]|\d+)\s*$")
_SUBMIT_ERROR = re.compile(r"^ERROR (.+?): (.*)$")
# dirac_wms_job_status.py: `JobID=<id> ` then `%s=%s; ` for every status field
# (Status, MinorStatus, Site; newer servers add ApplicationStatus).
_STATUS_KEY = re.compile(r"(?:^|[\s;])(\w+)=")
# dirac_wms_job_get_output.py: `print("ERROR %s: %s" % (job, message))` per job it could
# not fetch (exit code 2); the fetched sandbox is in `<dir>/<JobID>/`.
_OUTPUT_ERROR = re.compile(r"^ERROR (\d+): (.*)$")
# dirac_proxy_info.py (FrameworkSystem/scripts): `timeleft     : 23:53:55` (hours may
# exceed 24; `0:00:00` when expired).
_TIMELEFT = re.compile(r"^\s*timeleft\s*:\s*(\d+):(\d{2}):(\d{2})\s*$", re.MULTILINE)


def parse_submit_output(
    text: str, jdls: Sequence[str]
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """JobIDs per JDL (in order), and the error of each JDL that was refused.

    The JobID lines carry no JDL name: they belong, in order, to the JDLs that
    have no ERROR line. A count that does not add up raises BackendError, and the
    caller must then look the jobs up by name instead of guessing."""
    answered: list[list[str]] = []
    errors: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        submitted = _SUBMITTED.match(line)
        if submitted:
            answered.append(re.findall(r"\d+", submitted.group(1)))
            continue
        refused = _SUBMIT_ERROR.match(line)
        if refused and refused.group(1) in jdls:
            errors[refused.group(1)] = refused.group(2)
    accepted = [jdl for jdl in jdls if jdl not in errors]
    if len(accepted) != len(answered):
        raise BackendError(
            f"dirac-wms-job-submit: {len(answered)} JobID lines for {len(accepted)} accepted "
            f"JDLs in its answer {text.strip()[-300:]!r}"
        )
    return dict(zip(accepted, answered, strict=True)), errors


def status_fields(line: str) -> dict[str, str]:
    """`JobID=1 Status=Done; MinorStatus=Execution Complete;` -> its key/value pairs."""
    keys = list(_STATUS_KEY.finditer(line))
    fields: dict[str, str] = {}
    for key, following in zip(keys, [*keys[1:], None], strict=True):
        end = following.start() if following else len(line)
        fields[key.group(1)] = line[key.end() : end].strip(" ;")
    return fields


def dirac_state(status: str, minor: str, application: str | None) -> BackendState:
    """One DIRAC job status as a backend state, with a reason `retry.on` can match."""
    state = DIRAC_STATES.get(status, "unknown")
    if state == "completed" and application and FAILED_APPLICATION.search(application):
        return BackendState("failed", None, f"DIRAC Done, application status: {application}")
    if state in ("pending", "running", "completed"):
        return BackendState(state)
    reason = f"DIRAC {status}" + (f": {minor}" if minor else "")
    if state == "unknown":
        reason = f"unknown DIRAC status {status!r}"
    return BackendState(state, None, reason, lingering=status == "Stalled")


def parse_status_output(text: str) -> dict[str, BackendState]:
    """Status lines -> states by JobID (ids DIRAC does not know print nothing)."""
    found: dict[str, BackendState] = {}
    for line in text.splitlines():
        fields = status_fields(line)
        if "JobID" not in fields or "Status" not in fields:
            continue
        found[fields["JobID"]] = dirac_state(
            fields["Status"], fields.get("MinorStatus", ""), fields.get("ApplicationStatus")
        )
    return found


def parse_selected_ids(text: str) -> list[str]:
    """dirac_wms_select_jobs.py: `==> Selected N jobs with conditions: ...` and, on the
    next line, the ids comma-separated; `No jobs were selected ...` when none."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for index, line in enumerate(lines[:-1]):
        if line.startswith("==> Selected "):
            return [i.strip() for i in lines[index + 1].split(",") if i.strip().isdigit()]
    return []


def parse_job_attributes(text: str) -> dict[str, dict[str, str]]:
    """dirac_wms_job_attributes.py: one pretty-printed Python dict per job
    (`{'JobGroup': ..., 'JobID': '1', 'JobName': ..., ...}`), by JobID."""
    found: dict[str, dict[str, str]] = {}
    for block in _dict_blocks(text):
        try:
            value = ast.literal_eval(block)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, dict) and "JobID" in value:
            found[str(value["JobID"])] = {str(k): str(v) for k, v in value.items()}
    return found


def _dict_blocks(text: str) -> list[str]:
    """The top-level `{...}` blocks of a text (quotes respected)."""
    blocks: list[str] = []
    depth, start, quote = 0, 0, ""
    for index, char in enumerate(text):
        if quote:
            if char == quote and text[index - 1] != "\\":
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "{":
            if depth == 0:
                start = index
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                blocks.append(text[start : index + 1])
    return blocks


def parse_output_errors(text: str) -> dict[str, str]:
    """The jobs `dirac-wms-job-get-output` could not fetch, with DIRAC's message."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _OUTPUT_ERROR.match(line.strip())
        if match:
            found[match.group(1)] = match.group(2)
    return found


def parse_proxy_seconds(text: str) -> int | None:
    """Seconds left on the proxy `dirac-proxy-info` describes, None when it names none."""
    match = _TIMELEFT.search(text)
    if not match:
        return None
    hours, minutes, seconds = (int(part) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds
