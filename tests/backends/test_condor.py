"""The condor adapter's pure parts: the submit description and HTCondor's answers."""

from __future__ import annotations

import pytest

from reconciler.backends.base import BackendState
from reconciler.backends.condor_parse import (
    CondorJob,
    SubmitOptions,
    condor_state,
    environment_value,
    member_constraint,
    parse_ads,
    parse_submitted,
    render_submit,
)
from reconciler.errors import BackendError


def test_one_cluster_per_batch_with_the_name_in_the_job_ad() -> None:
    text = render_submit(
        [CondorJob("job:A:r1:s0:p1.a1", "/w/jobs/A/r1_p1/a1"),
         CondorJob("job:A:r2:s0:p1.a1", "/w/jobs/A/r2_p1/a1")],
        SubmitOptions("cedar", request_memory="2GB", accounting_group="group_snoplus"),
        {"X509_USER_PROXY": "/tmp/x509up_u1", "NOTE": "it's here"},
    )
    assert text == (
        "universe = vanilla\n"
        "executable = /bin/bash\n"
        "transfer_executable = false\n"
        "arguments = job.sh\n"
        "initialdir = $(folder)\n"
        "transfer_input_files = job.sh\n"
        "should_transfer_files = YES\n"
        "when_to_transfer_output = ON_EXIT\n"
        "transfer_output_files = return-card.json\n"
        "output = job.out\n"
        "error = job.err\n"
        "getenv = false\n"
        "environment = \"NOTE='it''s here' X509_USER_PROXY=/tmp/x509up_u1\"\n"
        '+McprodName = "$(name)"\n'
        '+McprodSite = "cedar"\n'
        "request_memory = 2GB\n"
        "accounting_group = group_snoplus\n"
        "queue folder, name from (\n"
        "/w/jobs/A/r1_p1/a1, job:A:r1:s0:p1.a1\n"
        "/w/jobs/A/r2_p1/a1, job:A:r2:s0:p1.a1\n"
        ")\n"
    )
    with pytest.raises(BackendError):
        render_submit([CondorJob("x", "/a folder")], SubmitOptions("s"), {})


def test_submit_answer_and_job_ads() -> None:
    answer = "Submitting job(s)..\n2 job(s) submitted to cluster 42.\n"
    assert parse_submitted(answer, 2) == ["42.0", "42.1"]
    with pytest.raises(BackendError):
        parse_submitted(answer, 3)
    assert parse_ads("", "condor_q") == []
    assert parse_ads('[{"ClusterId": 1, "ProcId": 0}]', "condor_q") == [
        {"ClusterId": 1, "ProcId": 0}
    ]
    assert environment_value({}) == '""'
    assert member_constraint("McprodName", ["a", 'b"c'], "cedar") == (
        'McprodSite == "cedar" && member(McprodName, {"a", "b\\"c"})'
    )


@pytest.mark.parametrize(
    ("ad", "state"),
    [
        ({"JobStatus": 1}, BackendState("pending")),
        ({"JobStatus": 2}, BackendState("running")),
        ({"JobStatus": 4, "ExitCode": 0}, BackendState("completed", 0)),
        ({"JobStatus": 4, "ExitCode": 3}, BackendState("failed", 3, "exit code 3")),
        ({"JobStatus": 4, "ExitBySignal": True, "ExitSignal": 9},
         BackendState("failed", None, "killed by signal 9")),
        ({"JobStatus": 5, "HoldReason": "disk quota"},
         BackendState("failed", None, "HTCondor held it: disk quota", lingering=True)),
        ({"JobStatus": 3, "RemoveReason": "via condor_rm"},
         BackendState("cancelled", None, "HTCondor removed it: via condor_rm")),
    ],
)
def test_job_status_codes(ad: dict[str, object], state: BackendState) -> None:
    assert condor_state(ad) == state
