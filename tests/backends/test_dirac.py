"""The dirac adapter. No DIRAC client exists here: its commands are played by small
scripts in tmp_path that log their arguments and answer as the DIRAC commands do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.backends.base import BackendContext, BackendState
from reconciler.backends.dirac import (
    DiracBackend,
    parse_selected_ids,
    parse_status_output,
    parse_submit_output,
    render_jdl,
)
from reconciler.backends.registry import create_backend
from reconciler.errors import BackendError
from reconciler.model import BackendConfig
from tests.backends.support import write_script

STATUS_OUTPUT = """\
JobID=101 Status=Running; MinorStatus=Application; Site=LCG.Liverpool.uk;
JobID=102 Status=Done; MinorStatus=Execution Complete; Site=LCG.Liverpool.uk;
JobID=103 Status=Failed; MinorStatus=Application Finished With Errors; Site=LCG.Liverpool.uk;
JobID=104 Status=Waiting; MinorStatus=Pilot Agent Submission; Site=ANY;
JobID=105 Status=Killed; MinorStatus=Marked for termination; Site=ANY;
"""


def test_status_lines_map_to_backend_states() -> None:
    assert parse_status_output(STATUS_OUTPUT) == {
        "101": BackendState("running"),
        "102": BackendState("completed"),
        "103": BackendState("failed", None, "DIRAC Failed: Application Finished With Errors"),
        "104": BackendState("pending"),
        "105": BackendState("cancelled", None, "DIRAC Killed: Marked for termination"),
    }


def test_submit_and_select_answers() -> None:
    assert parse_submit_output("JobID = 4242\n") == "4242"
    with pytest.raises(BackendError) as bad:
        parse_submit_output("ERROR: no proxy\n")
    assert str(bad.value) == "dirac-wms-job-submit: no JobID in its answer 'ERROR: no proxy'"
    assert parse_selected_ids("==> Selected 2 jobs with conditions: JobName=x\n11,12\n") == [
        "11", "12"
    ]
    assert parse_selected_ids("==> No jobs selected with conditions: JobName=x\n") == []


def test_jdl_ships_the_script(tmp_path: Path) -> None:
    spec = write_script(tmp_path, "job:M:r1:p1.a1", "true")
    assert render_jdl(spec, destination=["LCG.Liverpool.uk"], cpu_time=86400, vo=None) == (
        'JobName = "job:M:r1:p1.a1";\n'
        'Executable = "job:M:r1:p1.a1.sh";\n'
        f'InputSandbox = {{"{spec.script}"}};\n'
        'StdOutput = "std.out";\n'
        'StdError = "std.err";\n'
        'OutputSandbox = {"std.out", "std.err"};\n'
        'Site = "LCG.Liverpool.uk";\n'
        "CPUTime = 86400;\n"
    )
    assert render_jdl(spec, destination=["A.b.uk", "C.d.ca"], cpu_time=None, vo="snoplus").endswith(
        'Site = {"A.b.uk", "C.d.ca"};\nVirtualOrganisation = "snoplus";\n'
    )


def fake_dirac(bin_dir: Path, log: Path) -> None:
    answers = {
        "dirac-wms-job-submit": 'echo "JobID = 777"',
        "dirac-wms-job-status": (
            'for id in "$@"; do [ "$id" = 777 ] && '
            'echo "JobID=777 Status=Done; MinorStatus=Execution Complete; Site=X;"; done; true'
        ),
        "dirac-wms-select-jobs": (
            'case "$1" in --JobName=job:M:r1:p1.a1) '
            'printf "==> Selected 1 jobs with conditions: x\\n777\\n";; '
            '*) echo "==> No jobs selected with conditions: x";; esac'
        ),
        "dirac-wms-job-kill": 'echo "ERROR: 777: job is in a final state" >&2; exit 2',
    }
    bin_dir.mkdir()
    for command, body in answers.items():
        path = bin_dir / command
        path.write_text(f'#!/bin/bash\necho "{command} $*" >> "{log}"\n{body}\n')
        path.chmod(0o755)


def dirac_backend(tmp_path: Path, bin_dir: Path) -> DiracBackend:
    config = BackendConfig("dirac", {"destination": ["LCG.Liverpool.uk"], "cpu_time": 86400})
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    backend = create_backend(config, BackendContext("liverpool", tmp_path, env=env))
    assert isinstance(backend, DiracBackend)
    return backend


def test_the_adapter_drives_the_dirac_commands(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    fake_dirac(tmp_path / "bin", log)
    backend = dirac_backend(tmp_path, tmp_path / "bin")
    spec = write_script(tmp_path / "job", "job:M:r1:p1.a1", "true")
    assert backend.submit(spec) == "777"
    assert backend.states(["777", "778"]) == {
        "777": BackendState("completed"),
        "778": BackendState("unknown", reason="the backend does not know this job"),
    }
    assert backend.find_by_names(["job:M:r1:p1.a1", "job:M:r2:p1.a1"]) == {
        "job:M:r1:p1.a1": "777"
    }
    with pytest.raises(BackendError) as refused:
        backend.cancel("777")
    assert str(refused.value) == (
        "dirac-wms-job-kill 777: exit code 2: ERROR: 777: job is in a final state"
    )
    assert log.read_text().splitlines() == [
        f"dirac-wms-job-submit {tmp_path}/job/job:M:r1:p1.a1.jdl",
        "dirac-wms-job-status 777 778",
        "dirac-wms-select-jobs --JobName=job:M:r1:p1.a1",
        "dirac-wms-select-jobs --JobName=job:M:r2:p1.a1",
        "dirac-wms-job-kill 777",
    ]


def test_missing_dirac_commands_are_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    backend = dirac_backend(tmp_path, tmp_path / "empty")
    backend.context = BackendContext("liverpool", tmp_path, env={"PATH": str(tmp_path / "empty")})
    with pytest.raises(BackendError) as missing:
        backend.states(["1"])
    assert str(missing.value) == (
        "dirac-wms-job-status 1: command not found (dirac-wms-job-status is not on PATH)"
    )


def test_unknown_backend_type_and_bad_options(tmp_path: Path) -> None:
    context = BackendContext("x", tmp_path)
    with pytest.raises(BackendError) as unknown:
        create_backend(BackendConfig("condor"), context)  # type: ignore[arg-type]
    assert str(unknown.value) == "unknown backend type 'condor' (known: dirac, local, slurm)"
    with pytest.raises(BackendError) as bad:
        create_backend(BackendConfig("slurm", {"sbatch_args": "--hold"}), context)
    assert str(bad.value) == (
        "backend option 'sbatch_args': expected a list of strings, got '--hold'"
    )
