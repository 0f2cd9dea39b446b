"""RATDB access: `rat -b <url>` built at run time from the password on the worker.

The stand-in RAT (tests/bin/rat, a test double) records the arguments it was given
and its environment, so these tests can see the URL arrive and the password stay
out of everything else: the job script, the job document, the environment the
batch system started the job with, and every log.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.backends.base import BackendContext, BackendState
from reconciler.backends.registry import create_backend
from reconciler.job.script import JobScriptError, prepare_attempt, rat_arguments
from reconciler.model import BackendConfig, RatdbAccess, Site
from tests.backends.release import make_job, make_release, make_site
from tests.backends.support import is_finished, wait_for_state
from tests.services.slurm import SlurmCluster

TAG_ARGS = ("--standin-ratdb-tag", "{tag}")


def _ratdb_site(storage: Path, password_file: Path, backend: str = "local") -> Site:
    ratdb = RatdbAccess("postgres", "ratdb.example.org", "ratdb", "snoprod", port=5432,
                        password_file=str(password_file))
    return replace(make_site(storage, backend=backend), ratdb=ratdb)


def _password(folder: Path) -> tuple[str, Path]:
    password = "pw-" + secrets.token_hex(12)
    path = folder / "ratdb-password"
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password, path


def _files_holding(root: Path, text: str) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != "standin-rat-args.json":
            try:
                if text.encode() in path.read_bytes():
                    found.append(str(path))
            except OSError:
                continue
    return found


def test_the_rat_command_line_comes_from_the_table() -> None:
    job = make_job(event_mode="run_number", run=100151, events=35000, ratdb_tag="frozen-1")
    assert rat_arguments(job, TAG_ARGS) == [
        "-n", "100151", "-N", "35000", "--standin-ratdb-tag", "frozen-1"
    ]
    assert rat_arguments(make_job(ratdb_tag=None)) == ["-N", "25"]
    with pytest.raises(JobScriptError) as refused:
        rat_arguments(make_job())
    assert str(refused.value) == (
        "job:WaterBi214:r101:s0:p1: RAT 7.0.8 declares no ratdb tag_args, so ratdb_tag"
        " water-v2-tag cannot reach RAT"
    )


def test_a_local_job_gets_the_url_and_the_password_appears_nowhere_else(
    tmp_path: Path,
) -> None:
    password, password_file = _password(tmp_path)
    env = make_release(tmp_path / "release")
    job = make_job()
    site = _ratdb_site(tmp_path / "storage", password_file)
    work = tmp_path / "work"
    files = prepare_attempt(job, site=site, version_env=str(env), work_root=work,
                            tag_args=TAG_ARGS)
    script = files.script.read_text()
    assert ("echo 'mcprod: running rat -l rat.log -b postgres://snoprod:***@ratdb.example.org"
            ":5432/ratdb -N 25 --standin-ratdb-tag water-v2-tag job.mac'\n") in script
    backend = create_backend(BackendConfig("local"), BackendContext("here", work))
    backend_id = backend.submit(files.spec(f"{job['_id']}.a1"))
    state = wait_for_state(backend, backend_id, is_finished)
    assert state == BackendState("completed", 0), files.stderr.read_text()
    given = json.loads((files.work_dir / "standin-rat-args.json").read_text())
    assert given == [
        "-l", "rat.log",
        "-b", f"postgres://snoprod:{password}@ratdb.example.org:5432/ratdb",
        "-N", "25", "--standin-ratdb-tag", "water-v2-tag", "job.mac",
    ]
    assert password not in json.dumps(job)
    environment = json.loads((files.work_dir / "standin-rat-env.json").read_text())
    assert password not in json.dumps(environment)
    # The script, its logs, rat.log, the return card, the outputs: nowhere.
    assert _files_holding(work, password) == []
    assert _files_holding(tmp_path / "storage", password) == []


def test_a_missing_password_file_fails_the_job_with_a_clear_reason(tmp_path: Path) -> None:
    env = make_release(tmp_path / "release")
    site = _ratdb_site(tmp_path / "storage", tmp_path / "nowhere" / "ratdb-password")
    files = prepare_attempt(make_job(), site=site, version_env=str(env),
                            work_root=tmp_path / "work", tag_args=TAG_ARGS)
    done = subprocess.run([str(files.script)], cwd=files.work_dir, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 3
    assert done.stderr.splitlines()[-1] == (
        f"mcprod: RATDB password file {tmp_path}/nowhere/ratdb-password is missing or"
        " unreadable here (sites/here.yaml ratdb.auth)"
    )
    assert not (files.work_dir / "standin-rat-args.json").exists()


def test_a_password_variable_from_the_site_setup_is_used(tmp_path: Path) -> None:
    env = make_release(tmp_path / "release")
    env.write_text(env.read_text() + "RATDB_PASSWORD=from-setup\n")  # not exported
    ratdb = RatdbAccess("postgres", "db.example.org", "ratdb", "snoprod",
                        password_env="RATDB_PASSWORD")
    site = replace(make_site(tmp_path / "storage"), ratdb=ratdb)
    files = prepare_attempt(make_job(ratdb_tag=None), site=site, version_env=str(env),
                            work_root=tmp_path / "work")
    done = subprocess.run([str(files.script)], cwd=files.work_dir, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    given = json.loads((files.work_dir / "standin-rat-args.json").read_text())
    assert given[:4] == [
        "-l", "rat.log", "-b", "postgres://snoprod:from-setup@db.example.org/ratdb"
    ]
    assert "from-setup" not in done.stdout + done.stderr


def test_on_slurm_the_password_is_in_no_log_and_no_recorded_environment(
    slurm_cluster: SlurmCluster, tmp_path: Path
) -> None:
    password, password_file = _password(tmp_path)
    env = make_release(tmp_path / "release")
    job = make_job(run=301)
    site = _ratdb_site(tmp_path / "storage", password_file, backend="slurm")
    work = tmp_path / "work"
    files = prepare_attempt(job, site=site, version_env=str(env), work_root=work,
                            tag_args=TAG_ARGS)
    config = BackendConfig("slurm", {"partition": slurm_cluster.partition})
    backend = create_backend(config, BackendContext(site="test", work_dir=work))
    backend_id = backend.submit(files.spec(f"{job['_id']}.a1"))
    state = wait_for_state(backend, backend_id, is_finished)
    assert state == BackendState("completed", 0), files.stderr.read_text()
    given = json.loads((files.work_dir / "standin-rat-args.json").read_text())
    assert given[2:4] == ["-b", f"postgres://snoprod:{password}@ratdb.example.org:5432/ratdb"]
    environment = json.loads((files.work_dir / "standin-rat-env.json").read_text())
    assert environment.get("SLURM_JOB_ID") == backend_id  # it is Slurm's environment
    assert password not in json.dumps(environment)
    assert _files_holding(work, password) == []
    # Slurm's own records of the job: state (script, environment), spool, jobcomp, logs.
    assert _files_holding(slurm_cluster.root, password) == []
