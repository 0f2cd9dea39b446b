"""The whole site cycle on the real single-node Slurm: submit, run the stand-in RAT,
verify outputs on storage, complete; every job exactly once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.services.slurm import SlurmCluster
from tests.site.cycle_support import git, jobs, make_site_repo, parsed, reconcile, store_of


@pytest.mark.slurm
def test_a_slurm_site_completes_its_campaign(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    repo = make_site_repo(tmp_path / "repo")
    site = repo / "sites" / "local.yaml"
    site.write_text(site.read_text().replace(
        "backend: {type: local}", f"backend: {{type: slurm, partition: {slurm_cluster.partition}}}"
    ).replace("max_running: 4", "max_running: 8") + "store: embedded\n")
    git(repo, "commit", "-qam", "run local on Slurm")
    first = parsed(reconcile(repo, env=slurm_cluster.env))
    assert (first["enqueued"], first["submitted"], first["errors"]) == (12, 8, [])
    deadline = time.monotonic() + 90
    while True:
        report = parsed(reconcile(repo, env=slurm_cluster.env))
        assert report["errors"] == [] and report["failed"] == 0, report
        statuses = sorted(j["status"] for j in jobs(store_of(repo)))
        if statuses == ["completed"] * 12:
            break
        assert time.monotonic() < deadline, statuses
        time.sleep(1)
    store = store_of(repo)
    for job in jobs(store):
        assert [a["status"] for a in job["attempts"]] == ["completed"]
        data = store.get(
            f"data:{job['outputs'][0]}:{job['module']}:r{job['run']}:s0:p{job['pass']}"
        )
        assert data is not None and data["files"][0]["url"].startswith("file://")
