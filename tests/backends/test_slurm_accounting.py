"""The slurm backend on a site with accounting (slurmdbd), where finished jobs come from sacct.

The test Slurm has no slurmdbd, so `sacct` and `squeue` are played by scripts in
tmp_path that log their arguments and print what the real commands print in
`--parsable2` form (Slurm has forgotten the jobs: squeue lists nothing).
"""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.backends.base import BackendContext, BackendState
from reconciler.backends.slurm import SlurmBackend
from reconciler.backends.slurm_array import write_batch
from reconciler.backends.slurm_parse import parse_jobcomp_line, parse_sacct, parse_squeue_text
from tests.backends.support import write_script


def fake_commands(tmp_path: Path, sacct_lines: list[str]) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    answer = tmp_path / "sacct.txt"
    answer.write_text("\n".join(sacct_lines) + "\n")
    log = tmp_path / "calls.log"
    for command, body in (("sacct", f'cat "{answer}"'), ("squeue", "true")):
        path = bin_dir / command
        path.write_text(f'#!/bin/bash\necho "{command} $*" >> "{log}"\n{body}\n')
        path.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}


def test_sacct_lines() -> None:
    text = "12|job:M:r1:s0:p1.a1|CANCELLED by 0|0:15\n12.batch|batch|CANCELLED|0:15\n"
    assert parse_sacct(text) == {
        "12": ("job:M:r1:s0:p1.a1", BackendState("cancelled", 0, "slurm CANCELLED")),
        "12.batch": ("batch", BackendState("cancelled", 0, "slurm CANCELLED")),
    }


def test_forgotten_jobs_are_found_in_accounting(tmp_path: Path) -> None:
    specs = [write_script(tmp_path / str(i), f"job:S:r{i}:s0:p1.a1", "true") for i in range(3)]
    batch = write_batch(tmp_path / "work", specs[1:])  # r1 -> task 0, r2 -> task 1
    env = fake_commands(tmp_path, [
        "55|job:S:r0:s0:p1.a1|COMPLETED|0:0",
        f"56_1|{batch.job_name}|FAILED|3:0",
    ])
    backend = SlurmBackend({"sacct": True}, BackendContext("s", tmp_path / "work", env=env))
    assert backend.states(["55", "56_1", "57"]) == {
        "55": BackendState("completed", 0),
        "56_1": BackendState("failed", 3, "slurm FAILED, exit code 3"),
        "57": BackendState("unknown", reason="the backend does not know this job"),
    }
    names = ["job:S:r0:s0:p1.a1", "job:S:r2:s0:p1.a1", "job:S:r9:s0:p1.a1"]
    assert backend.find_by_names(names) == {
        "job:S:r0:s0:p1.a1": "55",
        "job:S:r2:s0:p1.a1": "56_1",
    }
    calls = (tmp_path / "calls.log").read_text().splitlines()
    sacct = ("sacct --noheader --parsable2 --allocations --format=JobID,JobName,State,ExitCode "
             "--starttime=now-30days")
    assert calls == [
        "squeue --noheader --states=all --Format=JobArrayID:40,State:24,exit_code:12,Name:1000",
        f"{sacct} --jobs=55,56_1,57",
        f"{sacct} --name=job:S:r0:s0:p1.a1,job:S:r2:s0:p1.a1,job:S:r9:s0:p1.a1,{batch.job_name}",
        "squeue --noheader --states=all --Format=JobArrayID:40,State:24,exit_code:12,Name:1000",
    ]


def test_time_limit_records_carry_the_legacy_retry_phrase() -> None:
    # A real TIMEOUT takes 75-90 s on the test Slurm; these are the lines it writes then.
    jobcomp = ("JobId=9 UserId=root(0) GroupId=root(0) Name=job:M:r1:s0:p1.a1 JobState=TIMEOUT "
               "Partition=debug TimeLimit=1 ExitCode=0:15 ")
    assert parse_jobcomp_line(jobcomp) == (
        "9", "job:M:r1:s0:p1.a1",
        BackendState("timeout", 0, "slurm TIMEOUT: cancelled DUE TO TIME LIMIT"),
    )
    squeue = f"{'9':<40}{'TIMEOUT':<24}{'15':<12}job:M:r1:s0:p1.a1"
    assert parse_squeue_text(squeue) == {
        "9": ("job:M:r1:s0:p1.a1",
              BackendState("timeout", None, "slurm TIMEOUT: cancelled DUE TO TIME LIMIT")),
    }
