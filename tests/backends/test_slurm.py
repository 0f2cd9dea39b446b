"""The slurm backend against the real single-node Slurm of the test session."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.backends.base import BackendContext, BackendState
from reconciler.backends.registry import create_backend
from reconciler.backends.slurm import JobCompReader, SlurmBackend
from reconciler.backends.slurm_parse import expand_task_string
from reconciler.errors import BackendError
from reconciler.job.returncard import read_return_card
from reconciler.job.script import prepare_attempt
from reconciler.job.storage import verify_output
from reconciler.model import BackendConfig
from tests.backends.release import TAG_ARGS, make_job, make_release, make_site
from tests.backends.support import is_finished, is_running, wait_for_state, write_script
from tests.services.slurm import SlurmCluster

pytestmark = pytest.mark.slurm



@pytest.fixture(autouse=True)
def release_held_jobs(tmp_path: Path) -> Iterator[None]:
    """Lets every `hold` job end when the test does, passed or failed."""
    yield
    (tmp_path / "release").touch()


def hold(folder: Path) -> str:
    """A job body that runs until the test creates `release`: no guessing at timings."""
    return f'while [ ! -e "{folder}/release" ]; do sleep 0.1; done'


def make_backend(cluster: SlurmCluster, tmp_path: Path, **options: object) -> SlurmBackend:
    config = BackendConfig("slurm", {"partition": cluster.partition, **options})
    backend = create_backend(config, BackendContext(site="test", work_dir=tmp_path))
    assert isinstance(backend, SlurmBackend)
    return backend


def test_a_job_runs_and_completes_with_its_logs(
    slurm_cluster: SlurmCluster, tmp_path: Path
) -> None:
    backend = make_backend(slurm_cluster, tmp_path)
    spec = write_script(
        tmp_path, "job:M:r1:s0:p1.a1", f"echo hello; echo oops >&2; {hold(tmp_path)}"
    )
    backend_id = backend.submit(spec)
    wait_for_state(backend, backend_id, is_running)
    (tmp_path / "release").touch()
    state = wait_for_state(backend, backend_id, is_finished)
    assert state == BackendState("completed", 0)
    assert spec.stdout.read_text() == "hello\n"
    assert spec.stderr.read_text() == "oops\n"


def test_exit_3_is_failed_with_the_exit_code(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    backend = make_backend(slurm_cluster, tmp_path)
    backend_id = backend.submit(write_script(tmp_path, "job:M:r2:s0:p1.a1", "exit 3"))
    state = wait_for_state(backend, backend_id, is_finished)
    assert state == BackendState("failed", 3, "slurm FAILED, exit code 3")


def test_cancel_a_running_job(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    backend = make_backend(slurm_cluster, tmp_path)
    backend_id = backend.submit(write_script(tmp_path, "job:M:r3:s0:p1.a1", hold(tmp_path)))
    wait_for_state(backend, backend_id, is_running)
    backend.cancel(backend_id)
    state = wait_for_state(backend, backend_id, is_finished)
    assert state.state == "cancelled"
    assert state.reason == "slurm CANCELLED"
    backend.cancel(backend_id)  # cancelling again is not an error


def test_find_by_name_for_recovery(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    backend = make_backend(slurm_cluster, tmp_path)
    backend_id = backend.submit(write_script(tmp_path, "job:M:r4:s0:p1.a1", "true"))
    assert backend.find_by_name("job:M:r4:s0:p1.a1") == backend_id
    assert backend.find_by_name("job:M:r4:s0:p1.a2") is None
    assert backend.find_by_names(["job:M:r4:s0:p1.a1", "nothing"]) == {
        "job:M:r4:s0:p1.a1": backend_id
    }


def test_unknown_ids_are_unknown(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    backend = make_backend(slurm_cluster, tmp_path)
    assert backend.states(["987654"])["987654"].state == "unknown"


def test_the_record_of_finished_jobs_is_found_in_the_cluster_config(
    slurm_cluster: SlurmCluster, tmp_path: Path
) -> None:
    backend = make_backend(slurm_cluster, tmp_path)
    assert backend.jobcomp is None
    backend.states(["987654"])  # not in squeue: the finished-job record is looked up
    assert backend.jobcomp is not None
    assert backend.jobcomp.path == slurm_cluster.jobcomp
    assert backend.use_sacct is False


def test_finished_jobs_slurm_forgot_come_from_the_jobcomp_file(
    slurm_cluster: SlurmCluster, tmp_path: Path
) -> None:
    backend = make_backend(slurm_cluster, tmp_path)
    backend_id = backend.submit(write_script(tmp_path, "job:M:r5:s0:p1.a1", "exit 7"))
    live = wait_for_state(backend, backend_id, is_finished)
    line = wait_for_jobcomp_line(slurm_cluster.jobcomp, backend_id)
    # Slurm keeps jobs for MinJobAge (an hour here): give the real line an id it never had.
    forgotten = tmp_path / "jobcomp.txt"
    forgotten.write_text(line.replace(f"JobId={backend_id} ", "JobId=900001 ") + "\n")
    reader = make_backend(slurm_cluster, tmp_path, jobcomp=str(forgotten))
    assert reader.states(["900001"]) == {"900001": live}
    assert live == BackendState("failed", 7, "slurm FAILED, exit code 7")
    assert reader.find_by_name("job:M:r5:s0:p1.a1") == backend_id  # squeue still has it


def wait_for_jobcomp_line(path: Path, backend_id: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in path.read_text().splitlines():
            if re.match(rf"JobId={backend_id} ", line):
                return line
        time.sleep(0.1)
    raise AssertionError(f"no jobcomp line for {backend_id}")


@pytest.mark.parametrize(
    ("squeue", "message"),
    [
        (
            "json",
            "squeue --json: slurm_load_jobs: Failed while looking for jobs (Unspecified error)",
        ),
        (
            "text",
            "squeue --noheader --states=all "
            "--Format=JobArrayID:40,State:24,exit_code:12,Name:1000: exit code 1: "
            "slurm_load_jobs error: Unable to contact slurm controller (connect failure)",
        ),
    ],
    ids=["json", "text"],
)
def test_controller_restart_in_the_middle(
    slurm_cluster: SlurmCluster, tmp_path: Path, squeue: str, message: str
) -> None:
    backend = make_backend(slurm_cluster, tmp_path, squeue=squeue)
    backend_id = backend.submit(write_script(tmp_path, "job:M:r6:s0:p1.a1", hold(tmp_path)))
    wait_for_state(backend, backend_id, is_running)
    slurm_cluster.stop_controller()
    try:
        with pytest.raises(BackendError) as down:
            backend.states([backend_id])
        # The caller must not mistake "cannot ask" for "job gone".
        assert str(down.value) == message
        (tmp_path / "release").touch()
    finally:
        slurm_cluster.start_controller()
    state = wait_for_state(backend, backend_id, is_finished)
    assert state == BackendState("completed", 0)


def test_squeue_text_and_json_agree(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    text = make_backend(slurm_cluster, tmp_path, squeue="text")
    json_backend = make_backend(slurm_cluster, tmp_path, squeue="json")
    held = make_backend(slurm_cluster, tmp_path, sbatch_args=["--hold"])
    single = [text.submit(write_script(tmp_path / n, f"job:Q:{n}.a1", body))
              for n, body in (("ok", "true"), ("bad", "exit 3"), ("run", hold(tmp_path)))]
    arrays = held.submit_many(
        [write_script(tmp_path / f"h{i}", f"job:Q:h{i}.a1", "true") for i in range(4)]
    )
    ids = [*single, *(str(r.backend_id) for r in arrays)]
    wait_for_state(text, single[2], is_running)
    wait_for_state(text, single[1], is_finished)
    wait_for_state(text, single[0], is_finished)
    from_text, from_json = text.states(ids), json_backend.states(ids)
    assert from_text == from_json
    assert [s.state for s in from_text.values()] == [
        "completed", "failed", "running", "pending", "pending", "pending", "pending"
    ]
    names = [f"job:Q:{n}.a1" for n in ("ok", "bad", "run", "h0", "h3")]
    assert text.find_by_names(names) == json_backend.find_by_names(names)
    for backend_id in arrays:
        text.cancel(str(backend_id.backend_id))
    (tmp_path / "release").touch()


def test_a_refused_submission_names_command_exit_code_and_stderr(
    slurm_cluster: SlurmCluster, tmp_path: Path
) -> None:
    backend = make_backend(slurm_cluster, tmp_path, partition="nosuchpartition")
    spec = write_script(tmp_path, "job:M:r7:s0:p1.a1", "true")
    with pytest.raises(BackendError) as refused:
        backend.submit(spec)
    assert str(refused.value) == (
        f"sbatch --parsable {backend.export} --job-name=job:M:r7:s0:p1.a1 --chdir={tmp_path} "
        f"--output={spec.stdout} --error={spec.stderr} --partition=nosuchpartition "
        f"{spec.script}: exit code 1: "
        "sbatch: error: invalid partition specified: nosuchpartition | "
        "sbatch: error: Batch job submission failed: Invalid partition name specified"
    )


def test_submit_many_one_by_one_gives_one_id_per_job_in_order(
    slurm_cluster: SlurmCluster, tmp_path: Path
) -> None:
    backend = make_backend(slurm_cluster, tmp_path, array_size=0)
    specs = [
        write_script(tmp_path / str(i), f"job:M:r{100 + i}:s0:p1.a1", "true") for i in range(20)
    ]
    results = backend.submit_many(specs)
    assert [r.name for r in results] == [s.name for s in specs]
    assert all(r.error is None for r in results)
    ids = [r.backend_id for r in results]
    assert len(set(ids)) == 20
    found = backend.find_by_names([s.name for s in specs])
    assert [found[s.name] for s in specs] == ids
    assert all(i is not None and i.isdigit() for i in ids)


def test_array_range_strings() -> None:
    assert expand_task_string("0-3,7") == [0, 1, 2, 3, 7]
    assert expand_task_string("[5-6,9%2]") == [5, 6, 9]
    assert expand_task_string("") == []


def test_submit_many_as_job_arrays(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    backend = make_backend(slurm_cluster, tmp_path, array_size=5)
    bodies = ["echo $((6 * 7))", "exit 3", hold(tmp_path), "true", "true", "true", "true"]
    specs = [write_script(tmp_path / str(i), f"job:A:r{i}:s0:p1.a1", body)
             for i, body in enumerate(bodies)]
    results = backend.submit_many(specs)
    ids = [str(r.backend_id) for r in results]
    assert all(r.error is None for r in results)
    first, second = ids[0].split("_")[0], ids[5].split("_")[0]
    assert ids == [f"{first}_{t}" for t in range(5)] + [f"{second}_0", f"{second}_1"]
    assert backend.find_by_names([s.name for s in specs] + ["job:A:r9:s0:p1.a1"]) == {
        s.name: i for s, i in zip(specs, ids, strict=True)
    }
    wait_for_state(backend, ids[2], is_running)
    backend.cancel(ids[2])
    states = {i: wait_for_state(backend, i, is_finished) for i in ids}
    assert states[ids[0]] == BackendState("completed", 0)
    assert states[ids[1]] == BackendState("failed", 3, "slurm FAILED, exit code 3")
    assert states[ids[2]].state == "cancelled"
    assert all(states[i] == BackendState("completed", 0) for i in ids[3:])
    assert specs[0].stdout.read_text() == "42\n"  # each task keeps its own job's logs
    # What the jobcomp file says about array tasks matches squeue.
    reader = make_backend(slurm_cluster, tmp_path / "other")
    for backend_id in (ids[0], ids[1]):
        line = wait_for_jobcomp_line_matching(slurm_cluster.jobcomp, backend_id)
        forgotten = tmp_path / "jobcomp-copy.txt"
        forgotten.write_text(line + "\n")
        reader.jobcomp = JobCompReader(forgotten)
        assert reader.jobcomp.records()[backend_id][1] == states[backend_id]


def wait_for_jobcomp_line_matching(path: Path, backend_id: str) -> str:
    array_id, task = backend_id.split("_")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in path.read_text().splitlines():
            if f" ArrayJobId={array_id} ArrayTaskId={task} " in line:
                return line
        time.sleep(0.1)
    raise AssertionError(f"no jobcomp line for {backend_id}")


def test_a_refused_array_reports_the_error_for_each_job(
    slurm_cluster: SlurmCluster, tmp_path: Path
) -> None:
    backend = make_backend(slurm_cluster, tmp_path, partition="nosuchpartition")
    specs = [write_script(tmp_path / str(i), f"job:A:r{i}:s0:p2.a1", "true") for i in range(3)]
    results = backend.submit_many(specs)
    assert [r.backend_id for r in results] == [None, None, None]
    assert all(str(r.error).endswith(
        ": exit code 1: sbatch: error: invalid partition specified: nosuchpartition | "
        "sbatch: error: Batch job submission failed: Invalid partition name specified"
    ) for r in results)
    assert backend.find_by_names([s.name for s in specs]) == {}


def test_rendered_job_scripts_run_on_slurm_and_their_outputs_verify(
    slurm_cluster: SlurmCluster, tmp_path: Path
) -> None:
    env = make_release(tmp_path / "release")
    storage = tmp_path / "storage"
    site = make_site(storage, backend="slurm")
    jobs = [make_job(run=run) for run in (201, 202, 203)]
    files = [prepare_attempt(job, site=site, version_env=str(env), work_root=tmp_path / "work",
                            tag_args=TAG_ARGS)
             for job in jobs]
    backend = make_backend(slurm_cluster, tmp_path / "work")
    specs = [f.spec(f"{job['_id']}.a1") for f, job in zip(files, jobs, strict=True)]
    results = backend.submit_many(specs)
    for result, attempt in zip(results, files, strict=True):
        assert wait_for_state(backend, str(result.backend_id), is_finished) == BackendState(
            "completed", 0
        ), attempt.stderr.read_text()
        card = read_return_card(attempt.return_card)
        assert len(card.files) == 2
        assert all(verify_output(f.url, f.size, f.adler32) is None for f in card.files)
    assert sorted(p.name for p in (storage / "water-v2" / "WaterBi214").iterdir()) == [
        f"WaterBi214_r{run}_s0_p1{suffix}"
        for run in (201, 202, 203)
        for suffix in (".ntuple.root", ".root")
    ]
