"""Slurm: sbatch / squeue --json / scancel, plus the record of finished jobs.

Slurm forgets a job `MinJobAge` seconds after it ends; until then `squeue --json`
has it (its exit codes are raw wait statuses). After that the state comes from
the job-completion text file (`jobcomp` option: the `JobCompLoc` of a
`jobcomp/filetxt` cluster) or from `sacct` (`sacct: true`, where the site runs
slurmdbd). A job found in neither is `unknown`.

Options (site file `backend:`): partition, account, time_limit, qos, jobcomp,
sacct, sbatch_args (extra arguments, a list), submit_parallelism (concurrent
sbatch calls in `submit_many`, default 8).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from reconciler.backends.base import (
    UNKNOWN,
    BackendContext,
    BackendState,
    State,
    SubmitResult,
    SubmitSpec,
    option_str,
    option_str_list,
    register,
)
from reconciler.backends.commands import run_command
from reconciler.errors import BackendError

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


def parse_squeue_json(text: str) -> dict[str, tuple[str, BackendState]]:
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
    found: dict[str, tuple[str, BackendState]] = {}
    for job in jobs:
        raw_state = job.get("job_state")
        # Slurm 22.05 gives a string, newer releases a list of flags.
        slurm_state = raw_state[0] if isinstance(raw_state, list) and raw_state else raw_state
        raw_exit = job.get("exit_code")
        if isinstance(raw_exit, dict):  # newer releases: {"return_code": {...}, "signal": ...}
            exit_code, signal = _structured_exit(raw_exit)
        else:
            exit_code, signal = decode_wait_status(int(raw_exit or 0))
        found[str(job["job_id"])] = (
            str(job.get("name", "")),
            to_backend_state(str(slurm_state), exit_code, signal),
        )
    return found


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
    return fields["JobId"], fields.get("Name", ""), to_backend_state(
        fields["JobState"], exit_code, signal
    )


@dataclass
class JobCompReader:
    """Reads the jobcomp text file incrementally; the last line for an id wins."""

    path: Path
    offset: int = 0
    by_id: dict[str, tuple[str, BackendState]] | None = None

    def records(self) -> dict[str, tuple[str, BackendState]]:
        if self.by_id is None:
            self.by_id = {}
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return self.by_id
        if size < self.offset:  # rotated or truncated: read again from the start
            self.offset, self.by_id = 0, {}
        with self.path.open("rb") as stream:
            stream.seek(self.offset)
            chunk = stream.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a half-written last line waits
        self.offset += len(complete)
        for line in complete.decode("utf-8", "replace").splitlines():
            parsed = parse_jobcomp_line(line)
            if parsed:
                self.by_id[parsed[0]] = (parsed[1], parsed[2])
        return self.by_id


class SlurmBackend:
    kind = "slurm"

    def __init__(self, options: Mapping[str, object], context: BackendContext) -> None:
        self.context = context
        self.partition = option_str(options, "partition")
        self.account = option_str(options, "account")
        self.time_limit = option_str(options, "time_limit")
        self.qos = option_str(options, "qos")
        self.extra_args = option_str_list(options, "sbatch_args")
        jobcomp = option_str(options, "jobcomp")
        self.jobcomp = JobCompReader(Path(jobcomp)) if jobcomp else None
        self.use_sacct = bool(options.get("sacct", False))
        parallelism = options.get("submit_parallelism", 8)
        if not isinstance(parallelism, int) or isinstance(parallelism, bool) or parallelism < 1:
            raise BackendError(
                f"backend option 'submit_parallelism': expected a positive integer, "
                f"got {parallelism!r}"
            )
        self.parallelism = parallelism

    def sbatch_argv(self, spec: SubmitSpec) -> list[str]:
        argv = [
            "sbatch",
            "--parsable",
            f"--job-name={spec.name}",
            f"--chdir={spec.work_dir}",
            f"--output={spec.stdout}",
            f"--error={spec.stderr}",
        ]
        for flag, value in (
            ("--partition", self.partition),
            ("--account", self.account),
            ("--time", self.time_limit),
            ("--qos", self.qos),
        ):
            if value:
                argv.append(f"{flag}={value}")
        return [*argv, *self.extra_args, str(spec.script)]

    def submit(self, spec: SubmitSpec) -> str:
        result = run_command(self.sbatch_argv(spec), env=self.context.env)
        backend_id = result.stdout.strip().split(";")[0]
        if not backend_id.isdigit():
            raise BackendError(f"sbatch: unexpected answer {result.stdout.strip()!r}")
        return backend_id

    def submit_many(self, specs: Sequence[SubmitSpec]) -> list[SubmitResult]:
        # slurmctld serves concurrent RPCs, so a few sbatch processes at once beat a loop.
        def one(spec: SubmitSpec) -> SubmitResult:
            try:
                return SubmitResult(spec.name, backend_id=self.submit(spec))
            except BackendError as error:
                return SubmitResult(spec.name, error=error)

        with ThreadPoolExecutor(max_workers=self.parallelism) as pool:
            return list(pool.map(one, specs))

    def _squeue(self) -> dict[str, tuple[str, BackendState]]:
        return parse_squeue_json(run_command(["squeue", "--json"], env=self.context.env).stdout)

    def states(self, backend_ids: Sequence[str]) -> dict[str, BackendState]:
        live = self._squeue()
        answer = {i: live[i][1] for i in backend_ids if i in live}
        missing = [i for i in backend_ids if i not in answer]
        if missing:
            finished = self._finished_records(missing)
            for backend_id in missing:
                record = finished.get(backend_id)
                answer[backend_id] = record[1] if record else UNKNOWN
        return answer

    def _finished_records(self, backend_ids: Sequence[str]) -> dict[str, tuple[str, BackendState]]:
        if self.jobcomp is not None:
            return self.jobcomp.records()
        if self.use_sacct:
            return self._sacct(backend_ids)
        return {}

    def _sacct(self, backend_ids: Sequence[str]) -> dict[str, tuple[str, BackendState]]:
        argv = [
            "sacct",
            "--noheader",
            "--parsable2",
            "--allocations",
            "--format=JobID,JobName,State,ExitCode",
            f"--jobs={','.join(backend_ids)}",
        ]
        found: dict[str, tuple[str, BackendState]] = {}
        for line in run_command(argv, env=self.context.env).stdout.splitlines():
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

    def find_by_names(self, names: Sequence[str]) -> dict[str, str]:
        wanted = set(names)
        found: dict[str, str] = {}
        if not wanted:
            return found
        # Finished jobs first, so that a live job with the same name wins below.
        if self.jobcomp is not None:
            for backend_id, (name, _) in self.jobcomp.records().items():
                if name in wanted:
                    found[name] = backend_id
        for backend_id, (name, _) in sorted(self._squeue().items(), key=lambda i: int(i[0])):
            if name in wanted:
                found[name] = backend_id
        return found

    def find_by_name(self, name: str) -> str | None:
        return self.find_by_names([name]).get(name)

    def cancel(self, backend_id: str) -> None:
        # scancel exits 0 for finished or unknown ids: cancelling is idempotent.
        run_command(["scancel", backend_id], env=self.context.env)


@register("slurm")
def create(options: Mapping[str, object], context: BackendContext) -> SlurmBackend:
    return SlurmBackend(options, context)
