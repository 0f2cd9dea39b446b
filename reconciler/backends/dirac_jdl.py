"""The JDL of a bunch of attempts: one DIRAC parametric job per bunch (pure rendering).

A parametric JDL (`Parameters = {...}`) makes DIRAC create one job per value in
one submission, each with `%s` replaced by its value (DIRAC's
WorkloadManagementSystem/Utilities/ParametricJob.py). The value is the attempt's
name, so every job's `JobName` is `<doc id>.a<n>`, which is how recovery finds
it after a crash. DIRAC's job manager accepts at most 20 parametric jobs per
submission by default (MAX_PARAMETRIC_JOBS; the site may raise it), hence
`bulk_size`.

The input sandbox is shared by the bunch: every job script, named by its
position, and a dispatcher that runs the one named in its argument. The job
writes its stdout/stderr as job.out/job.err and the return card, the three
files of the output sandbox, which `dirac-wms-job-get-output` brings back into
the attempt's folder under the same names a local or Slurm job leaves there.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

RETURNED_FILES = ("job.out", "job.err", "return-card.json")
DISPATCHER = "mcprod-dispatch.sh"


@dataclass(frozen=True)
class JdlOptions:
    job_group: str
    destination: tuple[str, ...] = ()
    cpu_time: int | None = None
    vo: str | None = None


def quoted(value: str) -> str:
    """A JDL (ClassAd) string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def jdl_list(values: Sequence[str]) -> str:
    return "{" + ", ".join(quoted(v) for v in values) + "}"


def script_name(index: int) -> str:
    return f"{index}.sh"


def render_dispatcher(names: Sequence[str]) -> str:
    """The bunch's executable: runs the script of the attempt named in $1."""
    cases = "".join(
        f"  {shlex.quote(name)}) script={script_name(i)} ;;\n" for i, name in enumerate(names)
    )
    return (
        "#!/bin/bash\n"
        "# mcprod: one DIRAC parametric job per attempt; $1 is the attempt's name.\n"
        'case "$1" in\n'
        f"{cases}"
        '  *) echo "mcprod: no job script for attempt $1 in this bunch" >&2; exit 2 ;;\n'
        "esac\n"
        'exec bash "./$script"\n'
    )


def render_bunch_jdl(names: Sequence[str], sandbox: Sequence[str], options: JdlOptions) -> str:
    """One parametric JDL for these attempt names; `sandbox` lists the files to ship."""
    lines = [
        f"JobName = {quoted('%s')};",
        f"Parameters = {jdl_list(names)};",
        f"Executable = {quoted(DISPATCHER)};",
        f"Arguments = {quoted('%s')};",
        f"JobGroup = {quoted(options.job_group)};",
        f"InputSandbox = {jdl_list(sandbox)};",
        f"StdOutput = {quoted(RETURNED_FILES[0])};",
        f"StdError = {quoted(RETURNED_FILES[1])};",
        f"OutputSandbox = {jdl_list(RETURNED_FILES)};",
    ]
    if options.destination:
        sites = options.destination
        lines.append(
            f"Site = {jdl_list(sites)};" if len(sites) > 1 else f"Site = {quoted(sites[0])};"
        )
    if options.cpu_time:
        lines.append(f"CPUTime = {options.cpu_time};")
    if options.vo:
        lines.append(f"VirtualOrganisation = {quoted(options.vo)};")
    return "\n".join(lines) + "\n"
