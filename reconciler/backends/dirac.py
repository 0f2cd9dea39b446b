"""dirac: an adapter over the DIRAC client commands (grid sites such as liverpool).

It needs a DIRAC client installation and a valid proxy in the site's environment
(`dirac-proxy-init`); none exist on the test machines, so the tests cover the
command lines, the parsing of their answers, and the error when the commands
are missing.

The job script is shipped in the input sandbox and runs on a worker node; its
stdout/stderr come back in the output sandbox (`dirac-wms-job-get-output`), not
as files in the work folder.

Options (site file `backend:`): destination (DIRAC site names, e.g.
[LCG.Liverpool.uk]), cpu_time (seconds), vo (JDL VirtualOrganisation), group
(the DIRAC group: it is the proxy's, chosen with `dirac-proxy-init -g`, so it is
not sent with the job; recorded for the site admin).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from reconciler.backends.backend_options import option_int, option_str, option_str_list
from reconciler.backends.base import (
    UNKNOWN,
    BackendContext,
    BackendState,
    State,
    SubmitResult,
    SubmitSpec,
)
from reconciler.backends.commands import run_command
from reconciler.errors import BackendError

DIRAC_STATES: Mapping[str, State] = {
    "Received": "pending",
    "Checking": "pending",
    "Staging": "pending",
    "Waiting": "pending",
    "Matched": "pending",
    "Rescheduled": "pending",
    "Running": "running",
    "Completing": "running",
    "Stalled": "running",
    "Done": "completed",
    "Completed": "running",  # DIRAC's "Completed" means outputs are still being uploaded
    "Failed": "failed",
    "Killed": "cancelled",
    "Deleted": "cancelled",
}

_SUBMITTED = re.compile(r"JobID\s*=\s*(\d+)")
_STATUS_KEY = re.compile(r"(?:^|[\s;])(\w+)=")


def render_jdl(
    spec: SubmitSpec, *, destination: Sequence[str], cpu_time: int | None, vo: str | None
) -> str:
    """The JDL of one attempt; the script travels in the input sandbox."""
    lines = [
        f'JobName = "{spec.name}";',
        f'Executable = "{spec.script.name}";',
        f'InputSandbox = {{"{spec.script}"}};',
        'StdOutput = "std.out";',
        'StdError = "std.err";',
        'OutputSandbox = {"std.out", "std.err"};',
    ]
    if destination:
        sites = ", ".join(f'"{site}"' for site in destination)
        lines.append(f"Site = {{{sites}}};" if len(destination) > 1 else f"Site = {sites};")
    if cpu_time:
        lines.append(f"CPUTime = {cpu_time};")
    if vo:
        lines.append(f'VirtualOrganisation = "{vo}";')
    return "\n".join(lines) + "\n"


def parse_submit_output(text: str) -> str:
    match = _SUBMITTED.search(text)
    if not match:
        raise BackendError(f"dirac-wms-job-submit: no JobID in its answer {text.strip()!r}")
    return match.group(1)


def status_fields(line: str) -> dict[str, str]:
    """`JobID=1 Status=Done; MinorStatus=Execution Complete;` -> its key/value pairs."""
    keys = list(_STATUS_KEY.finditer(line))
    fields: dict[str, str] = {}
    for key, following in zip(keys, [*keys[1:], None], strict=True):
        end = following.start() if following else len(line)
        fields[key.group(1)] = line[key.end() : end].strip(" ;")
    return fields


def parse_status_output(text: str) -> dict[str, BackendState]:
    """`JobID=1 Status=Done; MinorStatus=Execution Complete; Site=...;` lines -> states."""
    found: dict[str, BackendState] = {}
    for line in text.splitlines():
        fields = status_fields(line)
        if "JobID" not in fields or "Status" not in fields:
            continue
        status, minor = fields["Status"], fields.get("MinorStatus", "")
        state = DIRAC_STATES.get(status, "unknown")
        reason = None if state in ("pending", "running", "completed") else f"DIRAC {status}"
        if reason and minor:
            reason += f": {minor}"
        found[fields["JobID"]] = BackendState(state, None, reason)
    return found


def parse_selected_ids(text: str) -> list[str]:
    """Ids from `dirac-wms-select-jobs` (a comma-separated list on its last line)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or not re.fullmatch(r"[\d,\s]+", lines[-1]):
        return []
    return [i.strip() for i in lines[-1].split(",") if i.strip()]


class DiracBackend:
    kind = "dirac"

    def __init__(self, options: Mapping[str, object], context: BackendContext) -> None:
        self.context = context
        self.destination = option_str_list(options, "destination")
        self.cpu_time = option_int(options, "cpu_time", 0, 0) or None
        self.vo = option_str(options, "vo")
        self.group = option_str(options, "group")

    def submit(self, spec: SubmitSpec) -> str:
        jdl = spec.work_dir / f"{spec.script.stem}.jdl"
        jdl.write_text(
            render_jdl(spec, destination=self.destination, cpu_time=self.cpu_time, vo=self.vo)
        )
        result = run_command(["dirac-wms-job-submit", str(jdl)], env=self.context.env)
        return parse_submit_output(result.stdout)

    def submit_many(self, specs: Sequence[SubmitSpec]) -> list[SubmitResult]:
        results: list[SubmitResult] = []
        for spec in specs:
            try:
                results.append(SubmitResult(spec.name, backend_id=self.submit(spec)))
            except BackendError as error:
                results.append(SubmitResult(spec.name, error=error))
        return results

    def states(self, backend_ids: Sequence[str]) -> dict[str, BackendState]:
        if not backend_ids:
            return {}
        result = run_command(["dirac-wms-job-status", *backend_ids], env=self.context.env)
        known = parse_status_output(result.stdout)
        return {i: known.get(i, UNKNOWN) for i in backend_ids}

    def find_by_names(self, names: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for name in names:
            backend_id = self.find_by_name(name)
            if backend_id is not None:
                found[name] = backend_id
        return found

    def find_by_name(self, name: str) -> str | None:
        result = run_command(["dirac-wms-select-jobs", f"--JobName={name}"], env=self.context.env)
        ids = parse_selected_ids(result.stdout)
        return max(ids, key=int) if ids else None

    def cancel(self, backend_id: str) -> None:
        run_command(["dirac-wms-job-kill", backend_id], env=self.context.env)


def create(options: Mapping[str, object], context: BackendContext) -> DiracBackend:
    return DiracBackend(options, context)
