"""condor: HTCondor batch clusters, through condor_submit / condor_q / condor_history /
condor_rm on PATH (what the site admin runs; tests/doubles/condor/ replaces them).

- One cluster per batch: a submit description with `queue folder, name from (...)`,
  one proc per attempt. Every job ad carries the attempt's name (`McprodName`)
  and the site (`McprodSite`), which is how recovery finds jobs by name.
- HTCondor transfers `job.sh` in and, when the job ends, `return-card.json` and the
  job's stdout/stderr back into the attempt's folder (its initialdir): the
  worker shares no filesystem with the reconciler, and the monitor reads the card
  where every backend leaves it. A job that ends without a card is put on hold
  by HTCondor; the hold reason becomes the failure reason, and the held job is
  removed once judged failed.
- States: `condor_q -json` for queued jobs, `condor_history -json` for the rest.
- Jobs start with `getenv = false` and only the allow-listed environment that
  makes sense on another machine (reconciler.backends.environment).

Options (site file `backend:`): universe, requirements, request_memory,
request_cpus, accounting_group.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence

from reconciler.backends.backend_options import option_int, option_str
from reconciler.backends.base import (
    UNKNOWN,
    BackendContext,
    BackendState,
    SubmitResult,
    SubmitSpec,
)
from reconciler.backends.commands import run_command
from reconciler.backends.condor_parse import (
    ATTRIBUTES,
    NAME_ATTRIBUTE,
    SITE_ATTRIBUTE,
    CondorJob,
    SubmitOptions,
    classad_string,
    condor_state,
    job_id,
    member_constraint,
    parse_ads,
    parse_submitted,
    render_submit,
)
from reconciler.backends.environment import job_environment
from reconciler.errors import BackendError

# Names that describe the submitting machine, not the worker the job lands on.
HOST_ONLY = frozenset({"PATH", "HOME", "TMPDIR", "SHELL", "USER", "LOGNAME"})
NAMES_PER_QUERY = 500


class CondorBackend:
    kind = "condor"

    def __init__(self, options: Mapping[str, object], context: BackendContext) -> None:
        self.context = context
        cpus = option_int(options, "request_cpus", 0, 0)
        self.options = SubmitOptions(
            site=context.site,
            universe=option_str(options, "universe") or "vanilla",
            requirements=option_str(options, "requirements"),
            request_memory=option_str(options, "request_memory"),
            request_cpus=cpus or None,
            accounting_group=option_str(options, "accounting_group"),
        )
        self.root = context.work_dir / "condor"

    def _job_env(self) -> dict[str, str]:
        env = job_environment(os.environ)
        return {k: v for k, v in env.items() if k not in HOST_ONLY}

    def submit(self, spec: SubmitSpec) -> str:
        return self.submit_many([spec])[0].backend_id_or_raise()

    def submit_many(self, specs: Sequence[SubmitSpec]) -> list[SubmitResult]:
        """All specs as one cluster (one condor_submit call)."""
        if not specs:
            return []
        for spec in specs:
            if spec.script.name != "job.sh":
                raise BackendError(f"{spec.script}: the condor backend ships job.sh")
        jobs = [CondorJob(spec.name, str(spec.work_dir)) for spec in specs]
        self.root.mkdir(parents=True, exist_ok=True)
        description = self.root / f"submit-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.sub"
        description.write_text(render_submit(jobs, self.options, self._job_env()))
        done = run_command(["condor_submit", str(description)], env=self.context.env)
        ids = parse_submitted(done.stdout, len(specs))
        return [SubmitResult(spec.name, backend_id=i) for spec, i in zip(specs, ids, strict=True)]

    def _query(self, command: str, constraint: str) -> list[dict[str, object]]:
        done = run_command([command, "-json", "-attributes", ",".join(ATTRIBUTES),
                            "-constraint", constraint], env=self.context.env)
        return parse_ads(done.stdout, command)

    def states(self, backend_ids: Sequence[str]) -> dict[str, BackendState]:
        if not backend_ids:
            return {}
        site = f"{SITE_ATTRIBUTE} == {classad_string(self.context.site)}"
        known = {job_id(ad): condor_state(ad) for ad in self._query("condor_q", site)}
        missing = sorted({i.split(".")[0] for i in backend_ids if i not in known})
        for start in range(0, len(missing), NAMES_PER_QUERY):
            clusters = ", ".join(missing[start : start + NAMES_PER_QUERY])
            for ad in self._query("condor_history", f"{site} && member(ClusterId, {{{clusters}}})"):
                known.setdefault(job_id(ad), condor_state(ad))
        return {i: known.get(i, UNKNOWN) for i in backend_ids}

    def find_by_names(self, names: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(names), NAMES_PER_QUERY):
            constraint = member_constraint(NAME_ATTRIBUTE, names[start : start + NAMES_PER_QUERY],
                                           self.context.site)
            # The queue first: a job that leaves it between the two queries is then
            # found in the history (the other order would miss it).
            for command in ("condor_q", "condor_history"):
                for ad in self._query(command, constraint):
                    name = ad.get(NAME_ATTRIBUTE)
                    if isinstance(name, str):
                        found[name] = job_id(ad)
        return found

    def find_by_name(self, name: str) -> str | None:
        return self.find_by_names([name]).get(name)

    def cancel(self, backend_id: str) -> None:
        # condor_rm exits 1 for a job that is no longer in the queue: nothing to stop.
        run_command(["condor_rm", backend_id], env=self.context.env, ok_codes=(0, 1))


def create(options: Mapping[str, object], context: BackendContext) -> CondorBackend:
    return CondorBackend(options, context)
