"""Shared parts of the grid test doubles (DIRAC, HTCondor): a job queue in a folder,
and "worker nodes" that run each job in a fresh folder of their own.

TEST DOUBLE: neither DIRAC nor HTCondor can run on these machines. The stand-in
commands keep their queue in a folder named by an environment variable
(DIRAC_DOUBLE_HOME, CONDOR_DOUBLE_HOME), so jobs survive between calls as they do
in the real services. A job runs in `<home>/worker-nodes/<id>-XXXX/`, outside the
reconciler's work folder, with only its input files copied in and a minimal
environment; afterwards only the files the job description asks for are kept,
and the worker folder is removed: no shared filesystem, as on the grid.

Jobs start lazily: every command that looks at the queue first collects finished
jobs and starts waiting ones (up to DOUBLE_SLOTS at once, default 4), as detached
processes, so a submission returns at once however many jobs it made.

Faults (`<home>/faults.json`): {"fail": [globs], "stall": [globs], "lose": [globs]}
matched against the job's name when it would start: `fail` ends it as failed
without running it, `stall` leaves it stalled (DIRAC) or held (HTCondor), `lose`
makes the service forget it.

Standard library only: the doubles run on any python3 on PATH.
"""

import contextlib
import fcntl
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

SLOTS = int(os.environ.get("DOUBLE_SLOTS", "4"))
WORKER_PATH = "/usr/local/bin:/usr/bin:/bin"


class Queue:
    def __init__(self, env_var):
        home = os.environ.get(env_var)
        if not home:
            sys.exit(f"test double: set {env_var} to the folder that holds its queue")
        self.home = home
        for sub in ("jobs", "inputs", "outputs", "worker-nodes"):
            os.makedirs(os.path.join(home, sub), exist_ok=True)

    def path(self, *parts):
        return os.path.join(self.home, *parts)

    @contextlib.contextmanager
    def locked(self):
        with open(self.path("lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def log_call(self, command, argv):
        with open(self.path("calls.log"), "a") as stream:
            stream.write(f"{command} {len(argv)}\n")

    def next_ids(self, count):
        counter = self.path("next_id")
        first = int(read_text(counter) or "1")
        write_atomic(counter, str(first + count))
        return list(range(first, first + count))

    def job_path(self, job_id):
        return self.path("jobs", f"{job_id}.json")

    def read(self, job_id):
        try:
            with open(self.job_path(job_id)) as stream:
                return json.load(stream)
        except (OSError, ValueError):
            return None

    def write(self, job):
        job["updated"] = time.time()
        write_atomic(self.job_path(job["id"]), json.dumps(job, indent=1, sort_keys=True))

    def forget(self, job_id):
        with contextlib.suppress(OSError):
            os.remove(self.job_path(job_id))

    def all_jobs(self):
        jobs = []
        for name in os.listdir(self.path("jobs")):
            if name.endswith(".json"):
                job = self.read(name[: -len(".json")])
                if job is not None:
                    jobs.append(job)
        return sorted(jobs, key=lambda j: j["number"])

    def faults(self):
        try:
            with open(self.path("faults.json")) as stream:
                return json.load(stream)
        except (OSError, ValueError):
            return {}

    def fault_for(self, name):
        for kind, patterns in sorted(self.faults().items()):
            if isinstance(patterns, list) and any(fnmatch.fnmatchcase(name, p) for p in patterns):
                return kind
        return None

    def schedule(self, script, on_fault):
        """Collect finished runners, start waiting jobs; `on_fault(job, kind)` marks
        a job that a fault keeps from running. Call with the lock held."""
        running = 0
        for job in self.all_jobs():
            if job["phase"] == "running":
                done = self.path("outputs", str(job["id"]), ".exit_code")
                if os.path.exists(done):
                    job["exit_code"] = int(read_text(done) or "1")
                    job["phase"] = "done"
                    self.write(job)
                else:
                    running += 1
        for job in self.all_jobs():
            if job["phase"] != "waiting":
                continue
            fault = self.fault_for(job["name"])
            if fault is not None:
                on_fault(job, fault)
                continue
            if running >= SLOTS:
                continue
            runner = subprocess.Popen(
                [sys.executable, script, "_run", str(job["id"])],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True,
            )
            job["phase"], job["pid"] = "running", runner.pid
            self.write(job)
            running += 1

    def run_on_worker(self, job):
        """The job on a fresh worker node: inputs in, command run, listed outputs out."""
        node = tempfile.mkdtemp(prefix=f"{job['id']}-", dir=self.path("worker-nodes"))
        for source in job["inputs"]:
            target = os.path.join(node, os.path.basename(source))
            shutil.copyfile(source, target)
            os.chmod(target, 0o755)
        env = {"PATH": WORKER_PATH, "HOME": node, "TMPDIR": node, "LANG": "C.UTF-8"}
        env.update(job.get("environment") or {})
        with open(os.path.join(node, job["stdout"]), "w") as out, \
                open(os.path.join(node, job["stderr"]), "w") as err:
            code = subprocess.call(job["command"], cwd=node, env=env, stdout=out, stderr=err,
                                   stdin=subprocess.DEVNULL)
        outputs = self.path("outputs", str(job["id"]))
        os.makedirs(outputs, exist_ok=True)
        for name in job["returned"]:
            if os.path.isfile(os.path.join(node, name)):
                shutil.copyfile(os.path.join(node, name), os.path.join(outputs, name))
        shutil.rmtree(node, ignore_errors=True)
        write_atomic(os.path.join(outputs, ".exit_code"), str(code))


def stop(job):
    """Kills a running job's whole process group (the runner leads its own session)."""
    if job.get("phase") == "running" and job.get("pid"):
        with contextlib.suppress(OSError):
            os.killpg(int(job["pid"]), 9)


def read_text(path):
    """The stripped content of a file, "" when there is none."""
    try:
        with open(path) as stream:
            return stream.read().strip()
    except OSError:
        return ""


def write_atomic(path, text):
    partial = f"{path}.{os.getpid()}.tmp"
    with open(partial, "w") as stream:
        stream.write(text)
    os.replace(partial, path)


def store_inputs(queue, files):
    """Copies a job's input files into the service (the real ones upload them)."""
    folder = tempfile.mkdtemp(dir=queue.path("inputs"))
    stored = []
    for source in files:
        target = os.path.join(folder, os.path.basename(source))
        shutil.copyfile(source, target)
        stored.append(target)
    return stored
