"""Jobs start with an allow-listed environment (DESIGN.md invariant 12): the
reconciler's MCPROD_DB* never reaches a running job, on the local backend and on the
real Slurm; the site's declared `env:` does. Read from /proc/<pid>/environ of the
job's own processes (the test Slurm runs them on this machine)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from reconciler.backends.environment import job_environment
from tests.services.slurm import SlurmCluster
from tests.site.cycle_support import git, make_site_repo, parsed, reconcile, run_forked

SECRETS = {"MCPROD_DB_USER": "bot", "MCPROD_DB_PASSWORD": "hunter2-secret"}


def job_environments(work: Path, wanted: int, timeout_s: float = 60) -> list[dict[str, str]]:
    """The environments of processes running in the attempt folders under `work`."""
    deadline = time.monotonic() + timeout_s
    while True:
        found: dict[int, dict[str, str]] = {}
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cwd = os.readlink(proc / "cwd")
                raw = (proc / "environ").read_bytes()
                again = (proc / "environ").read_bytes()
            except OSError:
                continue
            if raw != again or not raw.endswith(b"\0"):
                # A short-lived process (a `$(...)` of the env script) that exited while
                # it was read: what was read is cut short, not its environment.
                continue
            if cwd.startswith(str(work / "jobs")):
                pairs = (item.partition(b"=") for item in raw.split(b"\0") if item)
                found[int(proc.name)] = {k.decode(): v.decode() for k, _, v in pairs}
        if len(found) >= wanted:
            return list(found.values())
        assert time.monotonic() < deadline, f"{len(found)} job processes found"
        time.sleep(0.2)


def declare(repo: Path, backend: str, extra: str = "") -> None:
    site = repo / "sites" / "local.yaml"
    site.write_text(site.read_text().replace("backend: {type: local}", backend) + extra
                    + 'env: {STANDIN_RAT_SLEEP: "30", SITE_SCRATCH: /scratch/snoplus}\n')
    git(repo, "commit", "-qam", "a site with declared job variables")


def stop_all(repo: Path, env: dict[str, str]) -> None:
    cancel = run_forked(["cancel", "--repo", str(repo), "--label", "quickstart-demo",
                         "--status", "submitted", "--status", "running", "--yes"], env)
    assert cancel.returncode == 0, cancel.stderr
    reconcile(repo, env=env)


def check(environments: list[dict[str, str]]) -> None:
    for environment in environments:
        assert not [name for name in environment if name.startswith("MCPROD_")], environment
        assert "hunter2-secret" not in "".join(environment.values())
        assert environment["SITE_SCRATCH"] == "/scratch/snoplus"
        assert environment["PATH"]


def test_the_allow_list() -> None:
    source = {"PATH": "/bin", "HOME": "/h", "MCPROD_DB": "x", "MCPROD_DB_PASSWORD": "y",
              "AWS_SECRET": "z", "X509_USER_PROXY": "/tmp/x509up_u0"}
    assert job_environment(source, {"SITE": "1", "MCPROD_DB": "sneaky"}) == {
        "PATH": "/bin", "HOME": "/h", "X509_USER_PROXY": "/tmp/x509up_u0", "SITE": "1"
    }


def test_a_local_job_gets_no_database_secrets(tmp_path: Path) -> None:
    repo = make_site_repo(tmp_path / "repo")
    declare(repo, "backend: {type: local}")
    env = {"MCPROD_DB": f"sqlite://{repo / '.mcprod' / 'state.db'}", **SECRETS}
    try:
        assert parsed(reconcile(repo, env=env))["submitted"] == 4
        check(job_environments(repo / ".mcprod" / "sites" / "local", 4))
    finally:
        stop_all(repo, env)


@pytest.mark.slurm
def test_a_slurm_job_gets_no_database_secrets(
    slurm_cluster: SlurmCluster, tmp_path: Path
) -> None:
    repo = make_site_repo(tmp_path / "repo")
    declare(repo, f"backend: {{type: slurm, partition: {slurm_cluster.partition}}}",
            "store: embedded\n")
    env = {**slurm_cluster.env, "MCPROD_DB": f"sqlite://{repo / '.mcprod' / 'state.db'}",
           **SECRETS}
    try:
        assert parsed(reconcile(repo, env=env))["submitted"] == 4
        check(job_environments(repo / ".mcprod" / "sites" / "local", 4))
    finally:
        stop_all(repo, env)
