"""Cycle modes through the CLI: the loop and SIGTERM, --dry-run, a drained site,
and an operator's cancel reaching the batch system."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reconciler.errors import StoreError
from reconciler.site.decisions import reserve
from reconciler.store.cas import bulk_cas
from tests.helpers import REPO_ROOT, run_mcprod
from tests.site.cycle_support import (
    backend_names,
    git,
    jobs,
    make_site_repo,
    parsed,
    reconcile,
    run_forked,
    store_of,
    unstamped,
    wait_until_backend_idle,
)
from tests.site.support import NOW

WORK = Path(".mcprod") / "sites" / "local"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_site_repo(tmp_path / "repo")


def statuses(repo: Path) -> list[str]:
    try:
        store = store_of(repo)
    except StoreError:
        return []  # the loop's first cycle has not created the database yet
    try:
        return sorted(j["status"] for j in jobs(store))
    except StoreError:
        return []  # ... or not its views yet
    finally:
        store.close()


def test_the_loop_runs_until_done_and_stops_on_sigterm(repo: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("MCPROD_DB", None)
    loop = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "reconcile", "--site", "local", "--repo", str(repo),
         "--interval", "0.2s"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while statuses(repo) != ["completed"] * 12:
        assert loop.poll() is None, loop.communicate()
        assert time.monotonic() < deadline, statuses(repo)
        time.sleep(0.2)
    loop.send_signal(signal.SIGTERM)
    out, err = loop.communicate(timeout=30)
    assert loop.returncode == 0, err
    assert out.splitlines()[-1] == "reconcile: stopped by SIGTERM after the current cycle"
    assert "] site local at " in out


def test_dry_run_changes_nothing(repo: Path) -> None:
    assert parsed(reconcile(repo))["submitted"] == 4
    wait_until_backend_idle(repo / WORK)
    before = statuses(repo)
    report = parsed(reconcile(repo, "--dry-run"))
    assert report["dry_run"] is True
    assert report["completed"] == 4  # would complete: outputs verified, nothing written
    assert statuses(repo) == before
    assert len(backend_names(repo / WORK)) == 4
    text = run_mcprod(["reconcile", "--site", "local", "--repo", str(repo), "--dry-run"])
    assert text.returncode == 0, text.stderr
    assert "  enqueued 0, would submit 0 (lost to another reconciler: 0)" in text.stdout


def test_a_drained_site_monitors_but_submits_nothing(repo: Path) -> None:
    site = repo / "sites" / "local.yaml"
    text = site.read_text()
    site.write_text(text.replace("enabled: true", "enabled: false"))
    # Another site keeps the campaign runnable (validation refuses a campaign no site runs).
    (repo / "sites" / "spare.yaml").write_text(
        text.replace("name: local", "name: spare").replace("{type: local}", "{type: slurm}")
    )
    git(repo, "add", "sites")
    git(repo, "commit", "-qm", "drain local, add spare")
    result = reconcile(repo)
    assert result.returncode == 0, result.stderr
    report = parsed(result)
    assert (report["enqueued"], report["submitted"]) == (12, 0)
    assert "site local is disabled: monitoring only, nothing submitted" in report["notes"]


def test_cancel_reaches_the_batch_system_at_the_next_cycle(repo: Path) -> None:
    # Jobs see only the allow-list and the site's `env:`: the stand-in's knob goes there.
    site_file = repo / "sites" / "local.yaml"
    declared = site_file.read_text()
    site_file.write_text(declared + 'env: {STANDIN_RAT_SLEEP: "60"}\n')
    assert parsed(reconcile(repo))["submitted"] == 4
    site_file.write_text(declared)  # the jobs submitted from here on are quick
    cancel = run_forked(["cancel", "--repo", str(repo), "--label", "quickstart-demo",
                         "--status", "submitted", "--status", "running"], {})
    assert cancel.returncode == 0, cancel.stderr
    report = parsed(reconcile(repo))
    assert report["cancelled"] == 4
    cancelled = sorted((repo / WORK / "local-backend" / "jobs").glob("*/cancelled"))
    assert len(cancelled) == 4
    wait_until_backend_idle(repo / WORK)
    store = store_of(repo)
    stopped = [j for j in jobs(store) if j["status"] == "cancelled"]
    assert len(stopped) == 4
    assert all(j["attempts"][-1]["status"] == "cancelled" for j in stopped)
    assert parsed(reconcile(repo))["cancelled"] == 0  # done once


def test_jobs_of_a_stale_site_on_another_host_are_released(repo: Path) -> None:
    text = (repo / "sites" / "local.yaml").read_text()
    (repo / "sites" / "spare.yaml").write_text(
        text.replace("name: local", "name: spare").replace("{type: local}", "{type: slurm}")
    )
    git(repo, "add", "sites")
    git(repo, "commit", "-qm", "a second site")
    assert run_forked(["reconcile", "--once", "--repo", str(repo)], {}).returncode == 0
    store = store_of(repo)
    held = sorted((j for j in jobs(store) if j["status"] == "waiting"), key=lambda j: j["_id"])[:2]
    bulk_cas(store, [reserve(job, "spare", NOW) for job in held])
    store.create({"_id": "site:spare", "type": "site", "name": "spare",
                  "heartbeat_at": "2020-01-01T00:00:00.000000Z", "host": "elsewhere.example"})
    report = parsed(reconcile(repo))
    assert report["stale_released"] == 2
    released = store.get(held[0]["_id"])
    assert released is not None
    assert released["attempts"][0] == {
        **released["attempts"][0],
        "status": "released",
        "reason": "released from stale site spare (last heartbeat 2020-01-01T00:00:00.000000Z):"
        " its backend cannot be asked: its slurm backend answers only on host"
        " elsewhere.example, not here",
    }
    assert f"{held[0]['_id']}: {released['attempts'][0]['reason']}" in report["notes"]


def test_an_undeclared_site_is_a_one_line_error(repo: Path) -> None:
    result = run_mcprod(["reconcile", "--site", "nowhere", "--once", "--repo", str(repo)])
    assert result.returncode == 1
    assert unstamped(result.stderr) == [
        "error: site 'nowhere' is not declared in sites/ (declared: local)"
    ]


def test_text_output_and_errors_on_stderr(repo: Path) -> None:
    campaign = repo / "campaigns" / "quickstart-demo.yaml"
    campaign.write_text(campaign.read_text().replace("priority: 100", "priority: high"))
    result = run_forked(["reconcile", "--site", "local", "--once", "--repo", str(repo)], {})
    assert result.returncode == 1
    assert unstamped(result.stdout)[0] == "site local at no commit (monitor only):"
    assert unstamped(result.stderr) == [
        "error: campaigns/quickstart-demo.yaml:6:1: priority: expected an integer, got 'high'",
        "error: no last good commit to fall back to",
        "error: no valid commit to work from: nothing done",
    ]
