"""`reconcile --site --once --quiet`, the documented cron form: silent when healthy and
idle, timestamped lines and exit 1 when a person is needed (cron mails what is printed)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import REPO_ROOT, run_mcprod
from tests.overview.production import Production
from tests.site.cycle_support import git, make_site_repo, unstamped

CRON = ["reconcile", "--site", "local", "--once", "--quiet", "--retry-backoff", "0"]


def test_an_idle_healthy_cycle_prints_nothing(fresh_copy: Production) -> None:
    done = run_mcprod([*CRON, "--repo", str(fresh_copy.root)])
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    loud = run_mcprod([*CRON[:-3], "--repo", str(fresh_copy.root)])  # without --quiet
    assert loud.returncode == 0
    assert unstamped(loud.stdout)[0].startswith("site local at ")


def test_a_job_that_gives_up_exits_1_with_a_timestamped_line(fresh_copy: Production) -> None:
    root = fresh_copy.root
    campaign = root / "campaigns" / "quickstart-demo.yaml"
    campaign.write_text(campaign.read_text()
                        .replace("max_attempts: 3", "max_attempts: 1")
                        .replace("n_ev: 2000, ev_per_run: 1000", "n_ev: 3000, ev_per_run: 1000"))
    macro = root / "rat-release" / "mac" / "production" / "water" / "pmt" / "betagammas.mac"
    macro.write_text("# mcprod-standin: fail 7\n" + macro.read_text())
    git(root, "commit", "-qam", "one more job, which fails, and a single attempt")
    deadline = time.monotonic() + 60
    outputs = []
    while True:
        done = run_mcprod([*CRON, "--repo", str(root)])
        outputs.append(done)
        if done.returncode != 0 or time.monotonic() > deadline:
            break
        assert done.stderr == ""
        time.sleep(0.3)
    assert done.returncode == 1, outputs
    assert unstamped(done.stderr) == [
        "needs a person: job:WaterPmtBetagammas:r2:s0:p1 not retried (gave up after 1 of 1"
        " attempts); last reason: failed in the batch system (exit code 7); stderr: stand-in"
        " rat: failing as asked (exit 7)"
    ]
    assert "  needs a person: 1 (on stderr)" in unstamped(done.stdout)
    # Said once: the next cycle has nothing new to say.
    after = run_mcprod([*CRON, "--repo", str(root)])
    assert (after.returncode, after.stdout, after.stderr) == (0, "", "")


def _proxy(folder: Path, days: int) -> Path:
    """A self-signed certificate standing in for a grid proxy (only its end date is read)."""
    path = folder / "x509up_test"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
         str(folder / "key.pem"), "-out", str(path), "-days", str(days), "-subj", "/CN=proxy"],
        check=True, capture_output=True,
    )
    return path


def test_a_proxy_about_to_expire_needs_a_person(fresh_copy: Production, tmp_path: Path) -> None:
    proxy = _proxy(tmp_path, 1)
    done = run_mcprod([*CRON, "--repo", str(fresh_copy.root)],
                      env={"X509_USER_PROXY": str(proxy)})
    assert done.returncode == 1
    [line] = unstamped(done.stderr)
    assert line.startswith(f"needs a person: grid proxy {proxy} expires in 2")
    assert line.endswith("h; renew it (voms-proxy-init)") or "renew it" in line
    site = run_mcprod(["status", "--site", "local", "--repo", str(fresh_copy.root)])
    assert "  grid proxy: valid until 20" in site.stdout
    fine = _proxy(tmp_path, 30)
    quiet = run_mcprod([*CRON, "--repo", str(fresh_copy.root)],
                       env={"X509_USER_PROXY": str(fine)})
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_a_store_that_is_gone_is_one_timestamped_line(fresh_copy: Production) -> None:
    (fresh_copy.root / ".mcprod" / "state.db").unlink()
    done = run_mcprod([*CRON, "--repo", str(fresh_copy.root),
                       "--db", "http://127.0.0.1:9/nothing"])
    assert done.returncode == 1
    [line] = unstamped(done.stderr)
    assert line.startswith("error: http://127.0.0.1:9/nothing: cannot reach the server")


def test_the_documented_crontab_line_works_on_a_fresh_clone(tmp_path: Path) -> None:
    """The line from docs/site-admin.md, run by sh as cron would, in a clone without .mcprod/."""
    docs = (REPO_ROOT / "docs" / "site-admin.md").read_text()
    block = docs.split("```cron\n", 1)[1].split("```", 1)[0].splitlines()
    assert block[0] == "MAILTO=mcprod"
    command = block[1].split(None, 5)[5]  # after the five time fields
    repo = make_site_repo(tmp_path / "clone")
    wrapper = tmp_path / "mcprod"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} -m reconciler \"$@\"\n")
    wrapper.chmod(0o755)
    command = (command.replace("/home/mcprod/mcprod-config", str(repo))
               .replace("/home/mcprod/venv/bin/mcprod", str(wrapper))
               .replace("--site cedar", "--site local"))
    assert not (repo / ".mcprod" / "cron.lock").exists()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("MCPROD_DB", None)
    done = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    log = unstamped((repo / ".mcprod" / "reconcile.log").read_text())
    assert log[0].startswith("site local at ")
    assert log[1] == "  enqueued 12, submit 4 (lost to another reconciler: 0)"
