"""HTCondor's answers parsed, and its submit description rendered (pure).

Formats, from the HTCondor manual (condor_submit, condor_q, condor_history,
condor_rm man pages; job ClassAd attributes):
- `condor_submit FILE` ends with `N job(s) submitted to cluster C.`; the jobs of one
  `queue ... from (...)` statement are procs 0..N-1 of cluster C, in item order.
- `condor_q -json` / `condor_history -json` print a JSON array of job ads (nothing at
  all when no job matches); `-attributes A,B` limits the attributes.
- JobStatus: 1 Idle, 2 Running, 3 Removed, 4 Completed, 5 Held, 6 Transferring
  Output, 7 Suspended. A completed job has ExitCode (or ExitBySignal and ExitSignal);
  a held one HoldReason; a removed one RemoveReason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.backends.base import BackendState
from reconciler.errors import BackendError

NAME_ATTRIBUTE = "McprodName"  # the attempt's name, in the job ad
SITE_ATTRIBUTE = "McprodSite"
ATTRIBUTES = ("ClusterId", "ProcId", "JobStatus", "ExitCode", "ExitBySignal", "ExitSignal",
              "HoldReason", "RemoveReason", NAME_ATTRIBUTE)
RETURNED_FILES = ("return-card.json",)

_SUBMITTED = re.compile(r"(\d+) job\(s\) submitted to cluster (\d+)\.")


@dataclass(frozen=True)
class CondorJob:
    """One line of a batch: the attempt's name and its folder (the job's initialdir)."""

    name: str
    folder: str


@dataclass(frozen=True)
class SubmitOptions:
    site: str
    universe: str = "vanilla"
    requirements: str | None = None
    request_memory: str | None = None
    request_cpus: int | None = None
    accounting_group: str | None = None


def environment_value(env: Mapping[str, str]) -> str:
    """The submit file's `environment = "..."` (new syntax: single quotes around a
    value with spaces, a quote inside doubled)."""
    parts = []
    for name, value in sorted(env.items()):
        text = value.replace("'", "''").replace('"', '""')
        parts.append(f"{name}='{text}'" if re.search(r"[\s']", value) else f"{name}={text}")
    return '"' + " ".join(parts) + '"'


def classad_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_submit(jobs: Sequence[CondorJob], options: SubmitOptions, env: Mapping[str, str]) -> str:
    """One submit description: one cluster, a proc per attempt (same executable, so
    HTCondor keeps them in one cluster), each in its attempt's folder."""
    for job in jobs:
        if re.search(r"[\s,]", job.folder + job.name):
            raise BackendError(f"{job.folder}: attempt folders and names may not hold spaces "
                               "or commas for condor_submit's queue list")
    lines = [
        f"universe = {options.universe}",
        "executable = /bin/bash",
        "transfer_executable = false",
        "arguments = job.sh",
        "initialdir = $(folder)",
        "transfer_input_files = job.sh",
        "should_transfer_files = YES",
        "when_to_transfer_output = ON_EXIT",
        f"transfer_output_files = {','.join(RETURNED_FILES)}",
        "output = job.out",
        "error = job.err",
        "getenv = false",
        f"environment = {environment_value(env)}",
        f"+{NAME_ATTRIBUTE} = \"$(name)\"",
        f"+{SITE_ATTRIBUTE} = {classad_string(options.site)}",
    ]
    if options.requirements:
        lines.append(f"requirements = {options.requirements}")
    if options.request_memory:
        lines.append(f"request_memory = {options.request_memory}")
    if options.request_cpus:
        lines.append(f"request_cpus = {options.request_cpus}")
    if options.accounting_group:
        lines.append(f"accounting_group = {options.accounting_group}")
    items = "".join(f"{job.folder}, {job.name}\n" for job in jobs)
    return "\n".join(lines) + f"\nqueue folder, name from (\n{items})\n"


def parse_submitted(text: str, count: int) -> list[str]:
    """`C.0` ... `C.<count-1>` from condor_submit's last line."""
    match = _SUBMITTED.search(text)
    if not match or int(match.group(1)) != count:
        raise BackendError(f"condor_submit: no '{count} job(s) submitted to cluster' in its "
                           f"answer {text.strip()[-300:]!r}")
    cluster = match.group(2)
    return [f"{cluster}.{proc}" for proc in range(count)]


def parse_ads(text: str, command: str) -> list[dict[str, Any]]:
    if not text.strip():
        return []
    try:
        ads = json.loads(text)
    except ValueError as error:
        raise BackendError(f"{command} -json: not JSON ({error})") from None
    if not isinstance(ads, list):
        raise BackendError(f"{command} -json: expected a list of job ads")
    return [ad for ad in ads if isinstance(ad, dict)]


def job_id(ad: Mapping[str, Any]) -> str:
    return f"{ad.get('ClusterId')}.{ad.get('ProcId')}"


def condor_state(ad: Mapping[str, Any]) -> BackendState:
    status = ad.get("JobStatus")
    if status in (1, 7):
        return BackendState("pending")
    if status in (2, 6):
        return BackendState("running")
    if status == 3:
        why = ad.get("RemoveReason")
        return BackendState("cancelled", None, f"HTCondor removed it: {why}" if why else
                            "HTCondor removed it")
    if status == 5:
        return BackendState("failed", None, f"HTCondor held it: {ad.get('HoldReason')}",
                            lingering=True)
    if status == 4:
        if ad.get("ExitBySignal"):
            return BackendState("failed", None, f"killed by signal {ad.get('ExitSignal')}")
        code = ad.get("ExitCode")
        exit_code = code if isinstance(code, int) else None
        if exit_code == 0:
            return BackendState("completed", 0)
        return BackendState("failed", exit_code, f"exit code {exit_code}")
    return BackendState("unknown", None, f"unknown HTCondor JobStatus {status!r}")


def member_constraint(attribute: str, values: Sequence[str], site: str) -> str:
    listed = ", ".join(classad_string(v) for v in values)
    return (f"{SITE_ATTRIBUTE} == {classad_string(site)} && "
            f"member({attribute}, {{{listed}}})")
