"""dirac: grid submission through the DIRAC client commands (sites such as liverpool).

It talks to DIRAC only through the `dirac-*` commands on PATH, the ones a site
admin runs by hand (and what the test double under tests/doubles/dirac/
replaces), never through DIRAC's Python API: the reconciler stays installable
without DIRAC, and the site's DIRAC client (its own Python, its own proxy) is
used exactly as the admin uses it. Parsing lives in `dirac_parse`, the JDL in
`dirac_jdl`.

- Submission in bulk: attempts are grouped into parametric JDLs of `bulk_size`
  jobs (DIRAC's default limit, 20) and several JDLs go to one
  `dirac-wms-job-submit` call; `parallel` calls run at once. Each job's JobName
  is its attempt name, and every job of the site is in JobGroup `job_group`
  (default `mcprod.<site>`).
- Recovery by name: `dirac-wms-select-jobs` cannot select by name (it knows
  Status, MinorStatus, ApplicationStatus, Site, Owner, JobGroup, Date), so it
  selects the site's JobGroup over the last `lookback_days`, and
  `dirac-wms-job-attributes` tells each id's JobName.
- The return card and the log tail come back in the output sandbox, fetched
  with `dirac-wms-job-get-output` when the job ends and moved into the
  attempt's folder. Chosen over writing them next to the outputs on storage
  because the sandbox also comes back when the job failed before stage-out
  (the stderr is what `retry.on` matches), it needs no storage credentials on
  the reconciler's side, and it keeps one code path for the card: the monitor
  reads it from the attempt's folder whichever backend ran the job.
- Proxy: before a cycle submits, `dirac-proxy-info` must report at least
  `proxy_min_hours` (default 24) left; otherwise nothing is submitted (the
  monitor still runs) and the cycle reports why.

Options (site file `backend:`): destination (DIRAC site names), cpu_time
(seconds), vo, group (the proxy's DIRAC group, chosen with `dirac-proxy-init
-g`; recorded for the admin, not sent), job_group, bulk_size, parallel,
proxy_min_hours, lookback_days.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from reconciler.backends.backend_options import option_int, option_str, option_str_list
from reconciler.backends.base import (
    UNKNOWN,
    BackendContext,
    BackendState,
    SubmitResult,
    SubmitSpec,
)
from reconciler.backends.commands import run_command
from reconciler.backends.dirac_jdl import (
    DISPATCHER,
    RETURNED_FILES,
    JdlOptions,
    render_bunch_jdl,
    render_dispatcher,
    script_name,
)
from reconciler.backends.dirac_parse import (
    parse_job_attributes,
    parse_output_errors,
    parse_proxy_seconds,
    parse_selected_ids,
    parse_status_output,
    parse_submit_output,
)
from reconciler.errors import BackendError

IDS_PER_CALL = 500  # job ids on one command line (well under the kernel's argument limit)
JDLS_PER_CALL = 50  # parametric JDLs per dirac-wms-job-submit call
SUBMIT_TIMEOUT_S = 1800.0


def chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


class DiracBackend:
    kind = "dirac"

    def __init__(self, options: Mapping[str, object], context: BackendContext) -> None:
        self.context = context
        self.jdl_options = JdlOptions(
            job_group=option_str(options, "job_group") or f"mcprod.{context.site}",
            destination=option_str_list(options, "destination"),
            cpu_time=option_int(options, "cpu_time", 0, 0) or None,
            vo=option_str(options, "vo"),
        )
        self.group = option_str(options, "group")
        self.bulk_size = option_int(options, "bulk_size", 20, 1)
        self.parallel = option_int(options, "parallel", 4, 1)
        self.proxy_min_hours = option_int(options, "proxy_min_hours", 24, 0)
        self.lookback_days = option_int(options, "lookback_days", 7, 1)
        self.root = context.work_dir / "dirac"

    # -- submission -------------------------------------------------------------------

    def submit(self, spec: SubmitSpec) -> str:
        return self.submit_many([spec])[0].backend_id_or_raise()

    def submit_many(self, specs: Sequence[SubmitSpec]) -> list[SubmitResult]:
        """Every spec in parametric bunches; several `dirac-wms-job-submit` calls at once.

        A call whose answer cannot be matched to its JDLs raises BackendError after
        the others finished: its jobs may exist, so their reservations are left for
        recovery by name rather than released."""
        if not specs:
            return []
        folder = self.root / "submit" / time.strftime("%Y%m%dT%H%M%S") / f"{time.monotonic_ns()}"
        bunches = [specs[i : i + self.bulk_size] for i in range(0, len(specs), self.bulk_size)]
        jdls = [self._write_bunch(folder / f"bunch{n}", bunch) for n, bunch in enumerate(bunches)]
        calls = chunks([str(p) for p in jdls], self._jdls_per_call(len(jdls)))
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            answers = list(pool.map(self._submit_call, calls))
        answer_of = {jdl: answer for call, answer in zip(calls, answers, strict=True)
                     for jdl in call}
        by_name: dict[str, SubmitResult] = {}
        unmatched: list[str] = []
        failures: list[BackendError] = []
        for jdl, bunch in zip(jdls, bunches, strict=True):
            ids, errors, failure = answer_of[str(jdl)]
            if failure is not None:
                failures.append(failure)
                unmatched.extend(s.name for s in bunch)
                continue
            for spec, result in zip(bunch, _bunch_results(bunch, ids, errors, str(jdl)),
                                    strict=True):
                by_name[spec.name] = result
        if unmatched:
            raise BackendError(f"{failures[0]} ({len(unmatched)} attempts left to find by name)")
        return [by_name[spec.name] for spec in specs]

    def _jdls_per_call(self, count: int) -> int:
        # Spread the JDLs over the parallel calls, at most JDLS_PER_CALL in one.
        return max(1, min(JDLS_PER_CALL, -(-count // self.parallel)))

    def _write_bunch(self, folder: Path, bunch: Sequence[SubmitSpec]) -> Path:
        folder.mkdir(parents=True)
        sandbox: list[str] = []
        for index, spec in enumerate(bunch):
            target = folder / script_name(index)
            shutil.copyfile(spec.script, target)
            sandbox.append(str(target))
        dispatcher = folder / DISPATCHER
        dispatcher.write_text(render_dispatcher([s.name for s in bunch]))
        dispatcher.chmod(0o755)
        jdl = folder / "bunch.jdl"
        jdl.write_text(
            render_bunch_jdl([s.name for s in bunch], [str(dispatcher), *sandbox],
                             self.jdl_options)
        )
        return jdl

    def _submit_call(
        self, jdls: Sequence[str]
    ) -> tuple[dict[str, list[str]], dict[str, str], BackendError | None]:
        try:
            done = run_command(["dirac-wms-job-submit", *jdls], env=self.context.env,
                               ok_codes=(0, 2), timeout=SUBMIT_TIMEOUT_S)
            ids, errors = parse_submit_output(done.stdout, jdls)
        except BackendError as error:
            return {}, {}, error
        return ids, errors, None

    # -- state ------------------------------------------------------------------------

    def states(self, backend_ids: Sequence[str]) -> dict[str, BackendState]:
        known: dict[str, BackendState] = {}
        for part in chunks(list(backend_ids), IDS_PER_CALL):
            done = run_command(["dirac-wms-job-status", *part], env=self.context.env)
            known.update(parse_status_output(done.stdout))
        return {i: known.get(i, UNKNOWN) for i in backend_ids}

    def find_by_names(self, names: Sequence[str]) -> dict[str, str]:
        if not names:
            return {}
        since = (dt.date.today() - dt.timedelta(days=self.lookback_days)).isoformat()
        done = run_command(
            ["dirac-wms-select-jobs", f"--JobGroup={self.jdl_options.job_group}",
             f"--Date={since}", "--Maximum=0"],
            env=self.context.env,
        )
        wanted = set(names)
        found: dict[str, str] = {}
        for part in chunks(parse_selected_ids(done.stdout), IDS_PER_CALL):
            listed = run_command(["dirac-wms-job-attributes", *part], env=self.context.env,
                                 ok_codes=(0, 2))
            for backend_id, attributes in parse_job_attributes(listed.stdout).items():
                name = attributes.get("JobName", "")
                if name in wanted and int(backend_id) > int(found.get(name, "0")):
                    found[name] = backend_id
        return found

    def find_by_name(self, name: str) -> str | None:
        return self.find_by_names([name]).get(name)

    def cancel(self, backend_id: str) -> None:
        # dirac_wms_job_kill.py: exit code 2 with "ERROR ..." when DIRAC refused; a job
        # that already finished is refused too, which is not an error here.
        run_command(["dirac-wms-job-kill", backend_id], env=self.context.env, ok_codes=(0, 2))

    # -- what comes back --------------------------------------------------------------

    def fetch_outputs(self, wanted: Sequence[tuple[str, Path]]) -> dict[str, str]:
        """`dirac-wms-job-get-output -D <staging> ids...`, then each `<staging>/<id>/`
        moved into the attempt's folder. An attempt whose folder already has its
        files is not fetched again."""
        todo = {i: folder for i, folder in wanted if not (folder / RETURNED_FILES[1]).exists()}
        if not todo:
            return {}
        staging = self.root / "sandboxes"
        staging.mkdir(parents=True, exist_ok=True)
        problems: dict[str, str] = {}
        for part in chunks(list(todo), IDS_PER_CALL):
            for backend_id in part:  # the script skips ids whose folder exists: start clean
                shutil.rmtree(staging / backend_id, ignore_errors=True)
            done = run_command(["dirac-wms-job-get-output", "-D", str(staging), *part],
                               env=self.context.env, ok_codes=(0, 2), cwd=staging)
            problems.update(parse_output_errors(done.stdout))
            for backend_id in part:
                _move_sandbox(staging / backend_id, todo[backend_id])
        return problems

    def submission_blocker(self) -> str | None:
        try:
            done = run_command(["dirac-proxy-info"], env=self.context.env)
        except BackendError as error:
            return f"no usable grid proxy ({error}): run dirac-proxy-init; nothing submitted"
        seconds = parse_proxy_seconds(done.stdout)
        if seconds is None:
            return "dirac-proxy-info shows no proxy: run dirac-proxy-init; nothing submitted"
        if seconds < self.proxy_min_hours * 3600:
            return (
                f"grid proxy has {seconds / 3600:.1f} h left, below the site's "
                f"{self.proxy_min_hours} h (proxy_min_hours): renew it with dirac-proxy-init; "
                "nothing submitted"
            )
        return None


def _bunch_results(
    bunch: Sequence[SubmitSpec], answered: Mapping[str, list[str]],
    errors: Mapping[str, str], jdl: str,
) -> list[SubmitResult]:
    if jdl in errors:
        refused = BackendError(f"dirac-wms-job-submit refused the bunch: {errors[jdl]}")
        return [SubmitResult(spec.name, error=refused) for spec in bunch]
    ids = answered.get(jdl, [])
    if len(ids) != len(bunch):
        raise BackendError(
            f"dirac-wms-job-submit: {len(ids)} JobIDs for a bunch of {len(bunch)} ({jdl})"
        )
    return [SubmitResult(spec.name, backend_id=i) for spec, i in zip(bunch, ids, strict=True)]


def _move_sandbox(source: Path, target: Path) -> None:
    if not source.is_dir():
        return
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        item.replace(target / item.name)
    shutil.rmtree(source, ignore_errors=True)


def create(options: Mapping[str, object], context: BackendContext) -> DiracBackend:
    return DiracBackend(options, context)
