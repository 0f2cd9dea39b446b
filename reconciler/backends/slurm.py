"""Slurm: sbatch, squeue and scancel, plus the record of finished jobs.

Slurm forgets a job `MinJobAge` seconds after it ends; until then `squeue`
has it (its exit codes are raw wait statuses). After that the state comes from
the cluster's record of finished jobs, found with `scontrol show config` the
first time it is needed: the job-completion text file (`JobCompType=jobcomp/filetxt`,
read at `JobCompLoc`, which must be readable where the reconciler runs) or `sacct`
(`AccountingStorageType=accounting_storage/slurmdbd`). The `jobcomp: PATH` and
`sacct: true` options override the detection. A job found in neither is `unknown`.

Live jobs are read with one `squeue` call per pass: by default its text form
(`-O JobArrayID,State,exit_code,Name`), which is ten times quicker than
`--json` on thousands of jobs (bench/submit.py); `squeue: json` uses `--json`.

`submit_many` sends batches as job arrays (slurm_array.py): one sbatch per up to
`array_size` jobs; a job's id is then `<array id>_<task>`. `array_size: 0` turns
that off, and batches go as concurrent single sbatch calls instead.

Options (site file `backend:`): partition, account, time_limit, qos, mem, jobcomp,
sacct, sacct_days (how far back sacct looks by name, default 30), squeue
(text|json), sbatch_args (extra arguments, a list), array_size (default 1000,
keep it below the cluster's MaxArraySize), submit_parallelism (concurrent
sbatch calls when not using arrays, default 8).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from reconciler.backends.backend_options import option_int, option_str, option_str_list
from reconciler.backends.base import UNKNOWN, BackendContext, BackendState, SubmitResult, SubmitSpec
from reconciler.backends.commands import run_command
from reconciler.backends.environment import job_environment
from reconciler.backends.slurm_array import (
    ARRAY_NAME_PREFIX,
    fits_manifest,
    manifests,
    record_array_id,
    write_batch,
)
from reconciler.backends.slurm_parse import (
    SQUEUE_TEXT_FORMAT,
    Records,
    parse_jobcomp_line,
    parse_sacct,
    parse_scontrol_config,
    parse_squeue_json,
    parse_squeue_text,
)
from reconciler.errors import BackendError


@dataclass
class JobCompReader:
    """Reads the jobcomp text file incrementally; the last line for an id wins."""

    path: Path
    offset: int = 0
    by_id: Records | None = None

    def records(self) -> Records:
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


SACCT_CHUNK = 100


class SlurmBackend:
    kind = "slurm"

    def __init__(self, options: Mapping[str, object], context: BackendContext) -> None:
        self.context = context
        # Exported by name only: values reach sbatch through its own environment, so a
        # value with a comma cannot break the list, and nothing else is exported.
        self.job_env = job_environment(os.environ, context.job_env)
        self.sbatch_env = {**context.env, **self.job_env}
        self.export = "--export=" + ",".join(sorted(self.job_env) or ["NIL"])
        self.partition = option_str(options, "partition")
        self.account = option_str(options, "account")
        self.time_limit = option_str(options, "time_limit")
        self.qos = option_str(options, "qos")
        self.extra_args = option_str_list(options, "sbatch_args")
        self.mem = option_str(options, "mem")
        jobcomp = option_str(options, "jobcomp")
        self.jobcomp = JobCompReader(Path(jobcomp)) if jobcomp else None
        self.use_sacct = bool(options.get("sacct", False))
        self._finished_source_known = self.jobcomp is not None or self.use_sacct
        self.sacct_days = option_int(options, "sacct_days", 30, 1)
        squeue = options.get("squeue", "text")
        if squeue not in ("text", "json"):
            raise BackendError(f"backend option 'squeue': expected text or json, got {squeue!r}")
        self.squeue_json = squeue == "json"
        self.parallelism = option_int(options, "submit_parallelism", 8, 1)
        self.array_size = option_int(options, "array_size", 1000, 0)

    def sbatch_argv(self, spec: SubmitSpec) -> list[str]:
        return self._sbatch(
            [f"--job-name={spec.name}", f"--chdir={spec.work_dir}",
             f"--output={spec.stdout}", f"--error={spec.stderr}"],
            spec.script,
        )

    def _sbatch(self, job_args: list[str], script: Path) -> list[str]:
        argv = ["sbatch", "--parsable", self.export, *job_args]
        for flag, value in (
            ("--partition", self.partition),
            ("--account", self.account),
            ("--time", self.time_limit),
            ("--qos", self.qos),
            ("--mem", self.mem),
        ):
            if value:
                argv.append(f"{flag}={value}")
        return [*argv, *self.extra_args, str(script)]

    def _run_sbatch(self, argv: list[str]) -> str:
        result = run_command(argv, env=self.sbatch_env)
        backend_id = result.stdout.strip().split(";")[0]
        if not backend_id.isdigit():
            raise BackendError(f"sbatch: unexpected answer {result.stdout.strip()!r}")
        return backend_id

    def submit(self, spec: SubmitSpec) -> str:
        return self._run_sbatch(self.sbatch_argv(spec))

    def submit_many(self, specs: Sequence[SubmitSpec]) -> list[SubmitResult]:
        if self.array_size < 2 or len(specs) < 2 or not all(fits_manifest(s) for s in specs):
            return self._submit_each(specs)
        results: list[SubmitResult] = []
        for start in range(0, len(specs), self.array_size):
            results.extend(self._submit_array(specs[start : start + self.array_size]))
        return results

    def _submit_array(self, specs: Sequence[SubmitSpec]) -> list[SubmitResult]:
        for spec in specs:
            spec.work_dir.mkdir(parents=True, exist_ok=True)
        batch = write_batch(self.context.work_dir, specs)
        argv = self._sbatch(
            [f"--array=0-{len(specs) - 1}", f"--job-name={batch.job_name}",
             f"--chdir={batch.folder}", f"--output={batch.folder}/%a.out",
             f"--error={batch.folder}/%a.err"],
            batch.dispatch,
        )
        try:
            array_id = self._run_sbatch(argv)
        except BackendError as error:
            return [SubmitResult(spec.name, error=error) for spec in specs]
        record_array_id(batch, array_id)
        return [
            SubmitResult(spec.name, backend_id=f"{array_id}_{task}")
            for task, spec in enumerate(specs)
        ]

    def _submit_each(self, specs: Sequence[SubmitSpec]) -> list[SubmitResult]:
        # slurmctld serves concurrent RPCs, so a few sbatch processes at once beat a loop.
        def one(spec: SubmitSpec) -> SubmitResult:
            try:
                return SubmitResult(spec.name, backend_id=self.submit(spec))
            except BackendError as error:
                return SubmitResult(spec.name, error=error)

        with ThreadPoolExecutor(max_workers=self.parallelism) as pool:
            return list(pool.map(one, specs))

    def _squeue(self) -> Records:
        if self.squeue_json:
            answer = run_command(["squeue", "--json"], env=self.context.env)
            return parse_squeue_json(answer.stdout)
        argv = ["squeue", "--noheader", "--states=all", f"--Format={SQUEUE_TEXT_FORMAT}"]
        return parse_squeue_text(run_command(argv, env=self.context.env).stdout)

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

    def _detect_finished_source(self) -> None:
        """Where this cluster records finished jobs, from its own configuration."""
        if self._finished_source_known:
            return
        config = parse_scontrol_config(
            run_command(["scontrol", "show", "config"], env=self.context.env).stdout
        )
        if config.get("JobCompType") == "jobcomp/filetxt" and config.get("JobCompLoc"):
            self.jobcomp = JobCompReader(Path(config["JobCompLoc"]))
        self.use_sacct = config.get("AccountingStorageType") == "accounting_storage/slurmdbd"
        self._finished_source_known = True

    def _finished_records(self, backend_ids: Sequence[str]) -> Records:
        self._detect_finished_source()
        if self.jobcomp is not None:
            return self.jobcomp.records()
        if self.use_sacct:
            return self._sacct(backend_ids)
        return {}

    def _sacct(
        self, backend_ids: Sequence[str] = (), names: Sequence[str] = ()
    ) -> Records:
        """Accounting records by id or by name (sites with slurmdbd; `sacct: true`)."""
        found: Records = {}
        selections = [f"--jobs={','.join(backend_ids[i : i + SACCT_CHUNK])}"
                      for i in range(0, len(backend_ids), SACCT_CHUNK)]
        selections += [f"--name={','.join(names[i : i + SACCT_CHUNK])}"
                       for i in range(0, len(names), SACCT_CHUNK)]
        for selection in selections:
            argv = ["sacct", "--noheader", "--parsable2", "--allocations",
                    "--format=JobID,JobName,State,ExitCode",
                    f"--starttime=now-{self.sacct_days}days", selection]
            found.update(parse_sacct(run_command(argv, env=self.context.env).stdout))
        return found

    def find_by_names(self, names: Sequence[str]) -> dict[str, str]:
        wanted = set(names)
        found: dict[str, str] = {}
        if not wanted:
            return found
        self._detect_finished_source()
        batches = [(b, n) for b, n in manifests(self.context.work_dir) if wanted.intersection(n)]
        # Finished jobs first, so that a live job with the same name wins below.
        records = list(self.jobcomp.records().items()) if self.jobcomp is not None else []
        if self.use_sacct:
            array_names = [ARRAY_NAME_PREFIX + batch for batch, _ in batches]
            sacct = self._sacct(names=sorted(wanted) + array_names)
            records += sorted(sacct.items(), key=lambda item: _id_order(item[0]))
        records += sorted(self._squeue().items(), key=lambda item: _id_order(item[0]))
        array_ids: dict[str, str] = {}  # array job name -> array id
        for backend_id, (name, _) in records:
            if name in wanted:
                found[name] = backend_id
            elif name.startswith(ARRAY_NAME_PREFIX):
                array_ids[name] = backend_id.split("_")[0]
        # Jobs sent in arrays: the manifest gives the task, the array's name its id.
        for batch, batch_names in batches:
            array_id = array_ids.get(ARRAY_NAME_PREFIX + batch)
            if array_id is None:
                continue
            for task, name in enumerate(batch_names):
                if name in wanted:
                    found[name] = f"{array_id}_{task}"
        return found

    def find_by_name(self, name: str) -> str | None:
        return self.find_by_names([name]).get(name)

    def cancel(self, backend_id: str) -> None:
        # scancel exits 0 for finished or unknown ids: cancelling is idempotent.
        run_command(["scancel", backend_id], env=self.context.env)


def _id_order(backend_id: str) -> tuple[int, int]:
    array_id, _, task = backend_id.partition("_")
    return int(array_id), int(task or -1)


def create(options: Mapping[str, object], context: BackendContext) -> SlurmBackend:
    return SlurmBackend(options, context)
