"""What Slurm's commands print, read into backend states (pure: text in, records out).

Every reader returns `backend id -> (job name, BackendState)`. Array tasks are
keyed `<array id>_<task>`, the form scancel and the backend's ids use, whether a
tool prints them that way (squeue's text form, sacct) or not (squeue --json,
the jobcomp file, which give ArrayJobId/ArrayTaskId fields). Exit codes in
squeue are raw wait statuses; jobcomp and sacct print `code:signal`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from reconciler.backends.base import BackendState, State
from reconciler.errors import BackendError

Records = dict[str, tuple[str, BackendState]]

# Slurm job states (squeue and jobcomp spell them the same) -> backend states.
SLURM_STATES: Mapping[str, State] = {
    "PENDING": "pending",
    "CONFIGURING": "pending",
    "REQUEUED": "pending",
    "REQUEUE_HOLD": "pending",
    "REQUEUE_FED": "pending",
    "RESV_DEL_HOLD": "pending",
    "RUNNING": "running",
    "COMPLETING": "running",
    "SIGNALING": "running",
    "STAGE_OUT": "running",
    "SUSPENDED": "running",
    "STOPPED": "running",
    "RESIZING": "running",
    "COMPLETED": "completed",
    "FAILED": "failed",
    "NODE_FAIL": "failed",
    "BOOT_FAIL": "failed",
    "OUT_OF_MEMORY": "failed",
    "PREEMPTED": "failed",
    "DEADLINE": "failed",
    "SPECIAL_EXIT": "failed",
    "REVOKED": "failed",
    "CANCELLED": "cancelled",
    "TIMEOUT": "timeout",
}


def decode_wait_status(raw: int) -> tuple[int | None, int | None]:
    """(exit code, signal) from a raw wait status as squeue --json reports it."""
    signal = raw & 0x7F
    if signal:
        return None, signal
    return (raw >> 8) & 0xFF, None


def to_backend_state(slurm_state: str, exit_code: int | None, signal: int | None) -> BackendState:
    state = SLURM_STATES.get(slurm_state, "unknown")
    if state in ("pending", "running", "completed"):
        return BackendState(state, exit_code if state == "completed" else None)
    if state == "timeout":
        return BackendState(state, exit_code, "slurm TIMEOUT: cancelled DUE TO TIME LIMIT")
    if state == "cancelled":
        return BackendState(state, exit_code, "slurm CANCELLED")
    if state == "unknown":
        return BackendState(state, exit_code, f"slurm state {slurm_state} not understood")
    detail = f"killed by signal {signal}" if signal else f"exit code {exit_code}"
    return BackendState(state, exit_code, f"slurm {slurm_state}, {detail}")


def parse_squeue_json(text: str) -> Records:
    """job id -> (name, state) from `squeue --json` output."""
    try:
        answer = json.loads(text)
        jobs = answer["jobs"]
    except (ValueError, KeyError, TypeError) as error:
        raise BackendError(f"squeue --json: output not understood ({error})") from None
    # With slurmctld down, squeue --json exits 0 with an empty list and an error entry:
    # an empty answer must never read as "every job is gone".
    errors = answer.get("errors") or []
    if errors:
        first = errors[0]
        raise BackendError(
            f"squeue --json: {first.get('source', '?')}: {first.get('description', '?')} "
            f"({first.get('error', '?')})"
        )
    found: Records = {}
    for job in jobs:
        raw_state = job.get("job_state")
        # Slurm 22.05 gives a string, newer releases a list of flags.
        slurm_state = raw_state[0] if isinstance(raw_state, list) and raw_state else raw_state
        raw_exit = job.get("exit_code")
        if isinstance(raw_exit, dict):  # newer releases: {"return_code": {...}, "signal": ...}
            exit_code, signal = _structured_exit(raw_exit)
        else:
            exit_code, signal = decode_wait_status(int(raw_exit or 0))
        entry = (str(job.get("name", "")), to_backend_state(str(slurm_state), exit_code, signal))
        for key in _squeue_keys(job):
            found[key] = entry
    return found


SQUEUE_TEXT_FORMAT = "JobArrayID:40,State:24,exit_code:12,Name:1000"


def parse_squeue_text(text: str) -> Records:
    """job id -> (name, state) from `squeue -h -t all -O SQUEUE_TEXT_FORMAT`."""
    found: Records = {}
    for line in text.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 3 or not parts[2].lstrip("-").isdigit():
            continue
        job, slurm_state, raw_exit = parts[:3]
        exit_code, signal = decode_wait_status(int(raw_exit))
        entry = (parts[3].strip() if len(parts) > 3 else "",
                 to_backend_state(slurm_state, exit_code, signal))
        array_id, _, tasks = job.partition("_")
        if tasks.startswith("["):  # pending tasks of an array, collapsed into one line
            for task in expand_task_string(tasks):
                found[f"{array_id}_{task}"] = entry
        else:
            found[job] = entry
    return found


def _squeue_keys(job: Mapping[str, Any]) -> list[str]:
    """The ids a squeue record stands for: its job id, or its array tasks as `<A>_<i>`."""
    array_id = _plain_number(job.get("array_job_id"))
    if not array_id:
        return [str(job["job_id"])]
    task = _plain_number(job.get("array_task_id"))
    if task is not None:
        return [f"{array_id}_{task}"]
    # Pending tasks of an array are one record with a range string such as "3-11,15%4".
    return [f"{array_id}_{i}" for i in expand_task_string(str(job.get("array_task_string", "")))]


def _plain_number(value: object) -> int | None:
    if isinstance(value, dict):  # newer releases: {"set": true, "number": 12}
        value = value.get("number") if value.get("set", True) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def expand_task_string(text: str) -> list[int]:
    """Task numbers in an array range string: "[0-3,7%2]" -> [0, 1, 2, 3, 7]."""
    tasks: list[int] = []
    for part in text.strip("[]").split("%")[0].split(","):
        low, _, high = part.partition("-")
        if low.isdigit():
            tasks.extend(range(int(low), int(high if high.isdigit() else low) + 1))
    return tasks


def _structured_exit(raw: Mapping[str, object]) -> tuple[int | None, int | None]:
    def number(value: object) -> int | None:
        if isinstance(value, dict):
            value = value.get("number") if value.get("set", True) else None
        return int(value) if isinstance(value, int) else None

    signal_part = raw.get("signal")
    signal = number(signal_part.get("id") if isinstance(signal_part, dict) else signal_part)
    return number(raw.get("return_code")), signal or None


_JOBCOMP_FIELD = re.compile(r"(\w+)=(\S*)")


def parse_jobcomp_line(line: str) -> tuple[str, str, BackendState] | None:
    """(job id, name, state) from one jobcomp/filetxt line, or None if it is not one."""
    fields = dict(_JOBCOMP_FIELD.findall(line))
    if "JobId" not in fields or "JobState" not in fields:
        return None
    exit_code: int | None = None
    signal: int | None = None
    code, _, sig = fields.get("ExitCode", "").partition(":")
    if code.isdigit():
        exit_code = int(code)
    if sig.isdigit() and int(sig):
        signal = int(sig)
    key = fields["JobId"]
    array_id, task = fields.get("ArrayJobId", ""), fields.get("ArrayTaskId", "")
    if array_id.isdigit() and int(array_id) and task.isdigit():
        key = f"{array_id}_{task}"
    return key, fields.get("Name", ""), to_backend_state(fields["JobState"], exit_code, signal)


def parse_scontrol_config(text: str) -> dict[str, str]:
    """`Key = Value` lines of `scontrol show config`."""
    config: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and " " not in key.strip():
            config[key.strip()] = value.strip()
    return config


def parse_sacct(text: str) -> Records:
    """job id -> (name, state) from `sacct --parsable2 --format=JobID,JobName,State,ExitCode`."""
    found: Records = {}
    for line in text.splitlines():
        parts = line.split("|")
        if len(parts) != 4:
            continue
        job, name, state, exit_text = parts
        code, _, sig = exit_text.partition(":")
        exit_code = int(code) if code.isdigit() else None
        signal = int(sig) if sig.isdigit() and int(sig) else None
        # sacct says "CANCELLED by 0": the first word is the state.
        found[job] = (name, to_backend_state(state.split()[0], exit_code, signal))
    return found
