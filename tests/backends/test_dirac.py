"""The dirac adapter. No DIRAC client exists here: its commands are played by small
scripts in tmp_path that log their arguments and answer as the DIRAC commands do."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest

from reconciler.backends.base import BackendContext, BackendState
from reconciler.backends.dirac import DiracBackend
from reconciler.backends.dirac_jdl import JdlOptions, render_bunch_jdl, render_dispatcher
from reconciler.backends.dirac_parse import (
    parse_job_attributes,
    parse_output_errors,
    parse_proxy_seconds,
    parse_selected_ids,
    parse_status_output,
    parse_submit_output,
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


def test_submit_answers_map_to_their_jdls_in_order() -> None:
    # dirac_wms_job_submit.py: one JobID line per accepted JDL, a list for a parametric
    # one, then ERROR lines naming the refused JDLs.
    text = "JobID = [11, 12, 13]\nJobID = 14\nERROR /b.jdl: Failed to upload sandbox\n"
    assert parse_submit_output(text, ["/a.jdl", "/b.jdl", "/c.jdl"]) == (
        {"/a.jdl": ["11", "12", "13"], "/c.jdl": ["14"]},
        {"/b.jdl": "Failed to upload sandbox"},
    )
    with pytest.raises(BackendError) as bad:
        parse_submit_output("ERROR: no proxy\n", ["/a.jdl"])
    assert str(bad.value) == (
        "dirac-wms-job-submit: 0 JobID lines for 1 accepted JDLs in its answer 'ERROR: no proxy'"
    )


def test_select_attributes_output_and_proxy_answers() -> None:
    assert parse_selected_ids(
        "==> Selected 2 jobs with conditions: JobGroup = g, Date = 2026-01-01\n11,12\n"
    ) == ["11", "12"]
    assert parse_selected_ids("No jobs were selected with conditions: JobGroup = g\n") == []
    attributes = (
        "{'JobGroup': 'mcprod.liverpool',\n 'JobID': '11',\n 'JobName': 'job:M:r1:s0:p1.a1'}\n"
        "{'JobID': '12', 'JobName': \"it's {odd}\"}\nERROR 13: Job 13 not found\n"
    )
    assert {k: v["JobName"] for k, v in parse_job_attributes(attributes).items()} == {
        "11": "job:M:r1:s0:p1.a1", "12": "it's {odd}",
    }
    assert parse_output_errors("Job output sandbox retrieved in /x/11/\nERROR 12: gone\n") == {
        "12": "gone"
    }
    assert parse_proxy_seconds("subject : /CN=x\ntimeleft     : 167:05:09\n") == 601509
    assert parse_proxy_seconds("Error: Can't find a valid proxy\n") is None


def test_done_with_a_failed_application_status_is_a_failure() -> None:
    assert parse_status_output(
        "JobID=7 Status=Done; MinorStatus=Execution Complete; ApplicationStatus=Failed "
        "with errors; Site=X;\nJobID=8 Status=Stalled; MinorStatus=Job stalled: pilot not "
        "running; Site=X;\n"
    ) == {
        "7": BackendState("failed", None, "DIRAC Done, application status: Failed with errors"),
        "8": BackendState("failed", None, "DIRAC Stalled: Job stalled: pilot not running",
                          lingering=True),
    }


def test_a_bunch_is_one_parametric_jdl() -> None:
    options = JdlOptions("mcprod.liverpool", ("LCG.Liverpool.uk",), 86400, "snoplus.snolab.ca")
    assert render_bunch_jdl(["job:A:r1:s0:p1.a1", "job:A:r2:s0:p1.a1"],
                            ["/w/mcprod-dispatch.sh", "/w/0.sh", "/w/1.sh"], options) == (
        'JobName = "%s";\n'
        'Parameters = {"job:A:r1:s0:p1.a1", "job:A:r2:s0:p1.a1"};\n'
        'Executable = "mcprod-dispatch.sh";\n'
        'Arguments = "%s";\n'
        'JobGroup = "mcprod.liverpool";\n'
        'InputSandbox = {"/w/mcprod-dispatch.sh", "/w/0.sh", "/w/1.sh"};\n'
        'StdOutput = "job.out";\n'
        'StdError = "job.err";\n'
        'OutputSandbox = {"job.out", "job.err", "return-card.json"};\n'
        'Site = "LCG.Liverpool.uk";\n'
        "CPUTime = 86400;\n"
        'VirtualOrganisation = "snoplus.snolab.ca";\n'
    )


def test_the_dispatcher_runs_the_named_attempt(tmp_path: Path) -> None:
    (tmp_path / "0.sh").write_text("echo first\n")
    (tmp_path / "1.sh").write_text("echo second\n")
    dispatcher = tmp_path / "d.sh"
    dispatcher.write_text(render_dispatcher(["job:A:r1:s0:p1.a1", "job:A:r2:s0:p1.a1"]))
    run = [("job:A:r2:s0:p1.a1", 0, "second\n"), ("job:A:r9:s0:p1.a1", 2, "")]
    for name, code, out in run:
        done = subprocess.run(["bash", str(dispatcher), name], cwd=tmp_path,
                              capture_output=True, text=True, check=False)
        assert (done.returncode, done.stdout) == (code, out)


def fake_dirac(bin_dir: Path, log: Path) -> None:
    answers = {
        "dirac-wms-job-submit": 'echo "JobID = [777]"',
        "dirac-wms-job-status": (
            'for id in "$@"; do [ "$id" = 777 ] && '
            'echo "JobID=777 Status=Done; MinorStatus=Execution Complete; Site=X;"; done; true'
        ),
        "dirac-wms-select-jobs": 'printf "==> Selected 2 jobs with conditions: x\\n776,777\\n"',
        "dirac-wms-job-attributes": (
            "echo \"{'JobID': '776', 'JobName': 'other'}\"; "
            "echo \"{'JobID': '777', 'JobName': 'job:M:r1:s0:p1.a1'}\""
        ),
        "dirac-wms-job-kill": 'echo "ERROR: 777: job is in a final state" >&2; exit 3',
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
    spec = write_script(tmp_path / "job", "job:M:r1:s0:p1.a1", "true")
    assert backend.submit(spec) == "777"
    assert backend.states(["777", "778"]) == {
        "777": BackendState("completed"),
        "778": BackendState("unknown", reason="the backend does not know this job"),
    }
    assert backend.find_by_names(["job:M:r1:s0:p1.a1", "job:M:r2:s0:p1.a1"]) == {
        "job:M:r1:s0:p1.a1": "777"
    }
    with pytest.raises(BackendError) as refused:
        backend.cancel("777")
    assert str(refused.value) == (
        "dirac-wms-job-kill 777: exit code 3: ERROR: 777: job is in a final state"
    )
    calls = log.read_text().splitlines()
    assert calls[0].startswith(f"dirac-wms-job-submit {tmp_path}/dirac/submit/")
    assert calls[0].endswith("/bunch0/bunch.jdl")
    since = (dt.date.today() - dt.timedelta(days=7)).isoformat()
    assert calls[1:] == [
        "dirac-wms-job-status 777 778",
        f"dirac-wms-select-jobs --JobGroup=mcprod.liverpool --Date={since} --Maximum=0",
        "dirac-wms-job-attributes 776 777",
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
        create_backend(BackendConfig("htcondor"), context)  # type: ignore[arg-type]
    assert str(unknown.value) == (
        "unknown backend type 'htcondor' (known: condor, dirac, local, slurm)"
    )
    with pytest.raises(BackendError) as bad:
        create_backend(BackendConfig("slurm", {"sbatch_args": "--hold"}), context)
    assert str(bad.value) == (
        "backend option 'sbatch_args': expected a list of strings, got '--hold'"
    )


def test_dirac_itself_parses_and_expands_the_bunch_jdl() -> None:
    """DIRAC's own ClassAd parser and parametric expansion (DIRACCommon, the part of
    DIRAC that installs here) read the generated JDL as the job manager will."""
    from DIRACCommon.Core.Utilities.ClassAd.ClassAdLight import ClassAd
    from DIRACCommon.WorkloadManagementSystem.Utilities.ParametricJob import (
        generateParametricJobs,
    )

    names = [f"job:WaterBi214:r{run}:s0:p1.a2" for run in range(1, 21)]
    jdl = render_bunch_jdl(
        names, ["/w/mcprod-dispatch.sh", *(f"/w/{i}.sh" for i in range(20))],
        JdlOptions("mcprod.liverpool", ("A.b.uk", "C.d.ca"), 86400, "snoplus.snolab.ca"),
    )
    bunch = ClassAd(f"[{jdl}]")
    assert bunch.isOK()
    assert bunch.getListFromExpression("OutputSandbox") == ["job.out", "job.err",
                                                            "return-card.json"]
    assert bunch.getListFromExpression("Site") == ["A.b.uk", "C.d.ca"]
    assert bunch.getAttributeInt("CPUTime") == 86400
    expanded = generateParametricJobs(bunch)
    assert expanded["OK"], expanded
    jobs = [ClassAd(text) for text in expanded["Value"]]
    assert [job.getAttributeString("JobName") for job in jobs] == names
    assert [job.getAttributeString("Arguments") for job in jobs] == names
    assert {job.getAttributeString("JobGroup") for job in jobs} == {"mcprod.liverpool"}
