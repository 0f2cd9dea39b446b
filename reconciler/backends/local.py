"""local: job scripts as detached processes on this machine (the embedded default).

Everything lives in a folder (`<site work dir>/local-backend/`) so that a
reconciler restarted from cron finds its jobs again:

    jobs/<id>/spec.json     what to run (script, work dir, log paths) and the name
    jobs/<id>/starting      written before the launch: a job is launched once, ever
    jobs/<id>/launches      one line per launch (time, reconciler pid)
    jobs/<id>/pid           "<pid> <start time>" once started (the start time
                            guards against a recycled pid)
    jobs/<id>/self_pid      written by the wrapper itself as it begins, so a job
                            launched by a reconciler that died before writing
                            `pid` is still found
    jobs/<id>/exit_code     written by the wrapper when the script ends
    jobs/<id>/cancelled     written by `cancel`
    names/<name>            the id holding that name
    queued/<id>, running/<id>   markers, so a pass looks only at unfinished jobs

Each job runs in its own session and process group (`setsid`), detached from the
reconciler, so `cancel` can stop the whole tree and the reconciler may exit while
jobs run. At most `max_running` run at once; the rest wait in `queued/` and are
started by the next `submit` or `states` call (`max_parallel` in the site file
lowers that limit for this machine). A lock file serialises starts so
two reconcilers never start one queued job twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from reconciler.backends.backend_options import option_int
from reconciler.backends.base import UNKNOWN, BackendContext, BackendState, SubmitResult, SubmitSpec
from reconciler.backends.environment import job_environment
from reconciler.errors import BackendError
from reconciler.faults import crash_point

# Records its own pid, runs the job script with its logs, then records the exit
# code atomically.
WRAPPER = """\
echo "$$" >"$4/self_pid"
"$1" >"$2" 2>"$3" </dev/null
code=$?
echo "$code" >"$4/exit_code.tmp" && mv "$4/exit_code.tmp" "$4/exit_code"
"""
# Starts the wrapper in a new session in the background and prints its pid (= its
# process group id); the launcher exits at once, so no zombie stays with us.
LAUNCHER = 'setsid "$@" </dev/null >/dev/null 2>&1 & echo $!'


def process_start_time(pid: int) -> str | None:
    """The start time of a live (non-zombie) process, or None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces: split after its closing paren.
    fields = stat[stat.rfind(")") + 2 :].split()
    if fields[0] == "Z":
        return None
    return fields[19]


_PENDING = BackendState("pending")
# Marker files of a job that is no longer only waiting to be started.
_PAST_PENDING = frozenset(("pid", "starting", "cancelled", "exit_code"))

class LocalBackend:
    kind = "local"

    def __init__(self, options: Mapping[str, object], context: BackendContext) -> None:
        self.root = context.work_dir / "local-backend"
        self._jobs_root = str(self.root / "jobs")
        self.job_env = job_environment(os.environ, context.job_env)
        # `max_parallel` (site file) caps this machine below the site's max_running.
        self.max_running = min(
            context.max_running, option_int(options, "max_parallel", context.max_running, 1)
        )
        for sub in ("jobs", "names", "queued", "running"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with (self.root / "lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _job_dir(self, backend_id: str) -> Path:
        return self.root / "jobs" / backend_id


    def submit(self, spec: SubmitSpec) -> str:
        with self._locked():
            backend_id = self._enqueue(spec)
            self._start_queued()
        return backend_id

    def submit_many(self, specs: Sequence[SubmitSpec]) -> list[SubmitResult]:
        results: list[SubmitResult] = []
        with self._locked():
            # One counter write for the whole batch: ids are reserved before any job
            # folder exists, so a crash half-way leaves a gap, never a reused id.
            first = self._reserve_ids(len(specs))
            for number, spec in enumerate(specs, start=first):
                try:
                    results.append(
                        SubmitResult(spec.name, backend_id=self._enqueue(spec, str(number)))
                    )
                except (OSError, BackendError) as error:
                    results.append(SubmitResult(spec.name, error=_as_backend_error(error)))
            self._start_queued()
        return results

    def _enqueue(self, spec: SubmitSpec, backend_id: str | None = None) -> str:
        if not os.access(spec.script, os.X_OK):
            raise BackendError(f"{spec.script}: job script missing or not executable")
        backend_id = backend_id or str(self._reserve_ids(1))
        job_dir = self._job_dir(backend_id)
        job_dir.mkdir()
        record = {
            "name": spec.name,
            "script": str(spec.script),
            "work_dir": str(spec.work_dir),
            "stdout": str(spec.stdout),
            "stderr": str(spec.stderr),
        }
        _write_atomic(job_dir / "spec.json", json.dumps(record, indent=1))
        _write_atomic(self.root / "names" / _name_file(spec.name), backend_id)
        (self.root / "queued" / backend_id).touch()
        return backend_id

    def _reserve_ids(self, count: int) -> int:
        """The first of `count` new ids. Ids count up from 1; the counter file is read
        and written under the lock."""
        counter = self.root / "next_id"
        try:
            number = int(counter.read_text())
        except (FileNotFoundError, ValueError):
            existing = [int(p.name) for p in (self.root / "jobs").iterdir() if p.name.isdigit()]
            number = max(existing, default=0) + 1
        _write_atomic(counter, str(number + count))
        return number

    def _running_ids(self) -> list[str]:
        """Ids marked running; markers of jobs that ended are removed on the way."""
        still: list[str] = []
        for marker in (self.root / "running").iterdir():
            if self._alive(marker.name):
                still.append(marker.name)
            else:
                marker.unlink(missing_ok=True)
        return still

    def _start_queued(self) -> None:
        free = self.max_running - len(self._running_ids())
        queued = sorted((self.root / "queued").iterdir(), key=lambda p: int(p.name))
        for marker in queued[: max(free, 0)]:
            job_dir = self._job_dir(marker.name)
            if not job_dir.is_dir():  # its folder was removed by hand: nothing to launch
                marker.unlink(missing_ok=True)
                continue
            # Marked before the launch and out of the queue: a crash anywhere from here
            # on leaves a job that is never launched again (at most one copy runs).
            (job_dir / "starting").touch()
            marker.unlink()
            (self.root / "running" / marker.name).touch()
            self._start(marker.name)

    def _start(self, backend_id: str) -> None:
        job_dir = self._job_dir(backend_id)
        try:
            spec = json.loads((job_dir / "spec.json").read_text())
            if not isinstance(spec, dict) or not all(
                isinstance(spec.get(k), str) for k in ("name", "script", "work_dir", "stdout",
                                                       "stderr")
            ):
                raise ValueError("it lacks the name, script, folder or log paths")
            Path(spec["work_dir"]).mkdir(parents=True, exist_ok=True)
        except (OSError, ValueError) as exc:  # a damaged folder fails this job, not the cycle
            _write_atomic(job_dir / "exit_code", "127")
            _write_atomic(job_dir / "start_error", f"cannot read its spec.json: {exc}")
            return
        with (job_dir / "launches").open("a") as log:  # one line per launch, for people
            log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} by pid {os.getpid()}\n")
        launched = subprocess.run(
            ["/bin/sh", "-c", LAUNCHER, "launch", "/bin/sh", "-c", WRAPPER, spec["name"],
             spec["script"], spec["stdout"], spec["stderr"], str(job_dir)],
            cwd=spec["work_dir"],
            env=self.job_env,
            capture_output=True,
            text=True,
            check=False,
        )
        crash_point("local-after-launch")
        pid = launched.stdout.strip()
        if launched.returncode != 0 or not pid.isdigit():
            _write_atomic(job_dir / "exit_code", "127")
            _write_atomic(job_dir / "start_error", launched.stderr.strip() or "launch failed")
            return
        _wait_for_own_group(int(pid))
        started = process_start_time(int(pid)) or "gone"
        _write_atomic(job_dir / "pid", f"{pid} {started}")

    def _alive(self, backend_id: str) -> bool:
        job_dir = self._job_dir(backend_id)
        try:
            pid, started = (job_dir / "pid").read_text().split()
        except (OSError, ValueError):
            return self._adopt_self_pid(job_dir)
        return process_start_time(int(pid)) == started

    def _adopt_self_pid(self, job_dir: Path) -> bool:
        """A launch whose launcher died before writing `pid`: the wrapper's own record."""
        if not (job_dir / "starting").exists():
            return False
        try:
            pid = int((job_dir / "self_pid").read_text().strip())
        except (OSError, ValueError):
            return False
        started = process_start_time(pid)
        if started is None:
            return False
        _write_atomic(job_dir / "pid", f"{pid} {started}")
        return True

    def _state(self, backend_id: str) -> BackendState:
        try:
            # One call instead of a stat per marker file, on a plain string path: a site
            # with 10,000 jobs queued asks this for each of them every cycle.
            present = set(os.listdir(f"{self._jobs_root}/{backend_id}"))
        except (FileNotFoundError, NotADirectoryError):
            return UNKNOWN
        if "spec.json" not in present:
            return UNKNOWN
        if present.isdisjoint(_PAST_PENDING):
            return _PENDING
        job_dir = self._job_dir(backend_id)
        if "cancelled" in present:
            return BackendState("cancelled", reason="cancelled")
        if "exit_code" in present:
            return self._finished(job_dir, present)
        if self._alive(backend_id):
            return BackendState("running")
        if (job_dir / "exit_code").exists():  # it ended between the two looks above
            return self._finished(job_dir, present | {"exit_code"})
        if "pid" not in present and "self_pid" not in present:
            return BackendState(
                "failed", None,
                "its start was interrupted (the reconciler died while launching it);"
                " not launched again, so that it never runs twice",
            )
        return BackendState(
            "failed", None, "process ended without an exit code (killed, or the machine restarted)"
        )

    def _finished(self, job_dir: Path, present: set[str]) -> BackendState:
        code = int((job_dir / "exit_code").read_text().strip())
        if code == 0:
            return BackendState("completed", 0)
        if "start_error" in present:
            reason = (job_dir / "start_error").read_text()
            return BackendState("failed", code, f"could not start: {reason}")
        return BackendState("failed", code, f"exit code {code}")

    def states(self, backend_ids: Sequence[str]) -> dict[str, BackendState]:
        # Under the lock: a job another reconciler is launching right now (marked
        # `starting`, no pid yet) must not be read as one whose launch was interrupted.
        with self._locked():
            self._start_queued()
            # A queued marker is made after the job's folder is complete and removed
            # (under this lock) when it starts or is cancelled: a job that has one is
            # pending, and a site with thousands in the queue needs one listdir for them
            # all instead of one per job.
            queued = set(os.listdir(self.root / "queued"))
            return {
                backend_id: _PENDING if backend_id in queued else self._state(backend_id)
                for backend_id in backend_ids
            }

    def find_by_names(self, names: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                found[name] = (self.root / "names" / _name_file(name)).read_text().strip()
        return found

    def find_by_name(self, name: str) -> str | None:
        return self.find_by_names([name]).get(name)

    def cancel(self, backend_id: str) -> None:
        job_dir = self._job_dir(backend_id)
        if not job_dir.exists() or (job_dir / "exit_code").exists():
            return
        with self._locked():
            (job_dir / "cancelled").touch()
            (self.root / "queued" / backend_id).unlink(missing_ok=True)
            if self._alive(backend_id):
                pid = int((job_dir / "pid").read_text().split()[0])
                try:
                    os.killpg(pid, signal.SIGTERM)
                except ProcessLookupError:  # not its own group (cannot happen after submit)
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGTERM)


def _wait_for_own_group(pid: int, timeout_s: float = 2.0) -> None:
    """Waits until the launched process has called setsid (it leads its own group), so
    that `cancel` can signal the whole group from the moment `submit` returns."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if os.getpgid(pid) == pid:
                return
        except ProcessLookupError:
            return  # already over: its exit code file tells the rest
        time.sleep(0.001)


def _name_file(name: str) -> str:
    return name.replace("%", "%25").replace("/", "%2F")


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _as_backend_error(error: Exception) -> BackendError:
    return error if isinstance(error, BackendError) else BackendError(str(error))


def create(options: Mapping[str, object], context: BackendContext) -> LocalBackend:
    return LocalBackend(options, context)
