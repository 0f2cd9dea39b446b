"""The local backend: real detached processes, found again by a fresh instance."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from reconciler.backends.base import BackendContext, BackendState
from reconciler.backends.local import LocalBackend
from reconciler.backends.registry import create_backend
from reconciler.model import BackendConfig
from tests.backends.support import is_finished, is_running, wait_for_state, write_script


@pytest.fixture(autouse=True)
def release_held_jobs(tmp_path: Path) -> Iterator[None]:
    """Lets every `hold` job end when the test does, passed or failed."""
    yield
    (tmp_path / "release").touch()


def make_backend(work_dir: Path, max_running: int = 4) -> LocalBackend:
    backend = create_backend(
        BackendConfig("local"), BackendContext("here", work_dir, max_running=max_running)
    )
    assert isinstance(backend, LocalBackend)
    return backend


def hold(folder: Path) -> str:
    """Runs until the test creates `release` (at the latest when it ends); writes its
    child's pid first."""
    return (f'sleep 300 & echo $! > "{folder}/child.pid"\n'
            f'while [ ! -e "{folder}/release" ]; do sleep 0.05; done\nkill %1')


def test_a_job_runs_and_completes_with_its_logs(tmp_path: Path) -> None:
    backend = make_backend(tmp_path / "work")
    spec = write_script(tmp_path / "a", "job:M:r1:s0:p1.a1",
                        f"echo hello; echo oops >&2; {hold(tmp_path)}")
    backend_id = backend.submit(spec)
    assert backend_id == "1"
    wait_for_state(backend, backend_id, is_running)
    (tmp_path / "release").touch()
    assert wait_for_state(backend, backend_id, is_finished) == BackendState("completed", 0)
    assert spec.stdout.read_text() == "hello\n"
    assert spec.stderr.read_text() == "oops\n"


def test_exit_3_is_failed_with_the_exit_code(tmp_path: Path) -> None:
    backend = make_backend(tmp_path / "work")
    backend_id = backend.submit(write_script(tmp_path, "job:M:r2:s0:p1.a1", "exit 3"))
    assert wait_for_state(backend, backend_id, is_finished) == BackendState(
        "failed", 3, "exit code 3"
    )


def test_cancel_stops_the_whole_process_group(tmp_path: Path) -> None:
    backend = make_backend(tmp_path / "work")
    backend_id = backend.submit(write_script(tmp_path, "job:M:r3:s0:p1.a1", hold(tmp_path)))
    wait_for_state(backend, backend_id, is_running)
    child = wait_for_file(tmp_path / "child.pid")
    backend.cancel(backend_id)
    assert wait_for_state(backend, backend_id, is_finished) == BackendState(
        "cancelled", reason="cancelled"
    )
    assert wait_until_gone(int(child)), "the job's child process survived the cancel"
    backend.cancel(backend_id)  # again: not an error


def test_at_most_max_running_at_once(tmp_path: Path) -> None:
    backend = make_backend(tmp_path / "work", max_running=1)
    ids = [backend.submit(write_script(tmp_path / str(i), f"job:M:r{i}:s0:p1.a1", hold(tmp_path)))
           for i in range(3)]
    wait_for_state(backend, ids[0], is_running)
    assert [s.state for s in backend.states(ids).values()] == ["running", "pending", "pending"]
    backend.cancel(ids[2])
    (tmp_path / "release").touch()
    wait_for_state(backend, ids[1], is_finished)  # started by a later `states` call
    assert backend.states(ids) == {
        ids[0]: BackendState("completed", 0),
        ids[1]: BackendState("completed", 0),
        ids[2]: BackendState("cancelled", reason="cancelled"),
    }


def test_a_restarted_reconciler_finds_its_jobs(tmp_path: Path) -> None:
    first = make_backend(tmp_path / "work")
    running = first.submit(write_script(tmp_path / "a", "job:M:r4:s0:p1.a1", hold(tmp_path)))
    done = first.submit(write_script(tmp_path / "b", "job:M:r5:s0:p1.a1", "exit 0"))
    wait_for_state(first, running, is_running)
    wait_for_state(first, done, is_finished)
    del first

    again = make_backend(tmp_path / "work")
    assert again.find_by_names(["job:M:r4:s0:p1.a1", "job:M:r5:s0:p1.a1", "job:M:r6:s0:p1.a1"]) == {
        "job:M:r4:s0:p1.a1": running,
        "job:M:r5:s0:p1.a1": done,
    }
    assert again.find_by_name("job:M:r6:s0:p1.a1") is None
    assert again.states([running, done, "99"]) == {
        running: BackendState("running"),
        done: BackendState("completed", 0),
        "99": BackendState("unknown", reason="the backend does not know this job"),
    }
    (tmp_path / "release").touch()
    assert wait_for_state(again, running, is_finished) == BackendState("completed", 0)


def test_a_job_killed_outright_is_failed_not_running(tmp_path: Path) -> None:
    backend = make_backend(tmp_path / "work")
    backend_id = backend.submit(write_script(tmp_path, "job:M:r7:s0:p1.a1", hold(tmp_path)))
    wait_for_state(backend, backend_id, is_running)
    pid = int((tmp_path / "work/local-backend/jobs" / backend_id / "pid").read_text().split()[0])
    os.killpg(pid, signal.SIGKILL)  # wrapper included: nobody writes an exit code
    assert wait_for_state(backend, backend_id, is_finished) == BackendState(
        "failed", None, "process ended without an exit code (killed, or the machine restarted)"
    )


def test_two_reconcilers_submitting_at_once_get_distinct_ids(tmp_path: Path) -> None:
    specs = [write_script(tmp_path / str(i), f"job:M:r{i}:s0:p1.a1", "true") for i in range(20)]

    def submit_half(half: int) -> list[str]:
        backend = make_backend(tmp_path / "work", max_running=20)
        results = backend.submit_many(specs[half::2])
        return [str(r.backend_id) for r in results]

    with ThreadPoolExecutor(2) as pool:
        ids = [i for half in pool.map(submit_half, (0, 1)) for i in half]
    assert sorted(ids, key=int) == [str(i) for i in range(1, 21)]
    backend = make_backend(tmp_path / "work")
    for backend_id in ids:
        assert wait_for_state(backend, backend_id, is_finished).state == "completed"


def test_a_script_that_cannot_run_is_refused_at_submit(tmp_path: Path) -> None:
    backend = make_backend(tmp_path / "work")
    spec = write_script(tmp_path, "job:M:r8:s0:p1.a1", "true")
    spec.script.chmod(0o644)
    [result] = backend.submit_many([spec])
    assert result.backend_id is None
    assert str(result.error) == f"{spec.script}: job script missing or not executable"


def wait_for_file(path: Path, timeout_s: float = 10) -> str:
    deadline = time.monotonic() + timeout_s
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)
    return path.read_text().strip()


def wait_until_gone(pid: int, timeout_s: float = 10) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):  # gone before, or while, it was read
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def test_max_parallel_lowers_the_limit_for_this_machine(tmp_path: Path) -> None:
    backend = create_backend(
        BackendConfig("local", {"max_parallel": 1}), BackendContext("here", tmp_path, 10)
    )
    assert isinstance(backend, LocalBackend)
    assert backend.max_running == 1


def test_a_queued_job_whose_folder_was_removed_is_dropped_not_a_crash(tmp_path: Path) -> None:
    """A site admin cleaning the backend's folder by hand must not stop every later
    cycle: the queued job without a folder is dropped and reported unknown."""
    import shutil

    backend = make_backend(tmp_path / "work", max_running=1)
    ids = [backend.submit(write_script(tmp_path / str(i), f"job:M:r{i}:s0:p1.a1", hold(tmp_path)))
           for i in range(2)]
    wait_for_state(backend, ids[0], is_running)
    shutil.rmtree(backend.root / "jobs" / ids[1])
    (tmp_path / "release").touch()
    wait_for_state(backend, ids[0], is_finished)
    assert backend.states(ids)[ids[1]].state == "unknown"
    assert not (backend.root / "queued" / ids[1]).exists()


def test_a_queued_job_with_a_damaged_spec_fails_alone(tmp_path: Path) -> None:
    """A spec.json someone truncated fails that job with the reason; the cycle and the
    jobs queued behind it go on."""
    backend = make_backend(tmp_path / "work", max_running=1)
    ids = [backend.submit(write_script(tmp_path / str(i), f"job:M:r{i}:s0:p1.a1", hold(tmp_path)))
           for i in range(3)]
    wait_for_state(backend, ids[0], is_running)
    (backend.root / "jobs" / ids[1] / "spec.json").write_text('{"name": "job:M:r1:s0:p1.a1"')
    assert backend.states(ids[1:]) == {
        ids[1]: BackendState("pending"), ids[2]: BackendState("pending"),
    }
    (tmp_path / "release").touch()
    wait_for_state(backend, ids[0], is_finished)
    damaged = wait_for_state(backend, ids[1], is_finished)
    assert damaged.state == "failed" and damaged.exit_code == 127
    assert damaged.reason is not None and "cannot read its spec.json" in damaged.reason
    assert wait_for_state(backend, ids[2], is_finished) == BackendState("completed", 0)
