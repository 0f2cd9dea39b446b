"""`jobs --reasons`, `job ID`, `jobs` and `status --site` on the finished production."""

from __future__ import annotations

import json
import socket

from tests.helpers import run_mcprod
from tests.overview.production import Production
from tests.site.cycle_support import git

REASON = ("failed in the batch system (exit code 3); stderr: stand-in rat: failing as asked"
          " (exit 3)")


def test_jobs_reasons_groups_the_two_injected_failures(production: Production) -> None:
    done = run_mcprod(["jobs", "--reasons", "--repo", str(production.root)])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "2 failed attempts in 1 groups of reasons"
    assert lines[2].startswith("2 attempts, 2 jobs (0 failed now) at local; last 20")
    assert lines[3] == ("  reason:  failed in the batch system (exit code N); stderr: stand-in"
                        " rat: failing as asked (exit N)")
    assert lines[4] == f"  e.g.:    {REASON}"
    assert lines[5] == "  jobs:    " + " ".join(production.failed_twice)
    as_json = json.loads(run_mcprod(["jobs", "--reasons", "--format", "json",
                                     "--repo", str(production.root)]).stdout)
    assert [(g["attempts"], g["jobs"], g["examples"]) for g in as_json] == [
        (2, 2, list(production.failed_twice))
    ]


def test_jobs_reasons_filters_by_module(production: Production) -> None:
    done = run_mcprod(["jobs", "--reasons", "--module", "WaterBi214", "--repo",
                       str(production.root)])
    assert done.stdout == "no failed attempts\n"


def test_job_shows_both_attempts_and_outputs(production: Production) -> None:
    job_id = production.failed_twice[0]
    done = run_mcprod(["job", job_id, "--repo", str(production.root)])
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith(f"job {job_id}\n")
    assert "  attempts: 2\n" in text
    assert "    #1 failed at local, backend id " in text
    assert f"       reason: {REASON}\n" in text
    assert "    #2 completed at local, backend id " in text
    work = production.root / ".mcprod" / "sites" / "local" / "jobs"
    assert f"       log: local:{work}/WaterBi214Run/" in text
    assert "  outputs: 1\n" in text  # run mode: one ratds file
    as_json = json.loads(run_mcprod(["job", job_id, "--format", "json", "--repo",
                                     str(production.root)]).stdout)
    assert [a["status"] for a in as_json["job"]["attempts"]] == ["failed", "completed"]
    assert as_json["outputs"][0]["url"].startswith(f"file://{production.root}/storage/")


def test_job_that_does_not_exist(production: Production) -> None:
    done = run_mcprod(["job", "job:Nope:r1:s0:p1", "--repo", str(production.root)])
    assert (done.returncode, done.stderr) == (
        1, f"error: job: no document job:Nope:r1:s0:p1 in sqlite://{production.root}/.mcprod/state.db\n"
    )


def test_jobs_lists_by_module_glob_and_runs(production: Production) -> None:
    done = run_mcprod(["jobs", "--module", "Water*Run", "--runs", "100151-100151",
                       "--repo", str(production.root), "--format", "json"])
    listed = json.loads(done.stdout)
    assert [(j["id"], j["status"], j["attempt"]) for j in listed] == [
        (production.failed_twice[0], "completed", 2)
    ]
    text = run_mcprod(["jobs", "--status", "completed", "--limit", "3",
                       "--repo", str(production.root)]).stdout.splitlines()
    assert text[0].split() == ["job", "status", "site", "attempt", "reason"]
    assert text[-2:] == ["... and 9 more (--limit 0 shows every job)", "12 jobs"]


def test_status_site_shows_heartbeat_and_counts(production: Production) -> None:
    done = run_mcprod(["status", "--site", "local", "--repo", str(production.root)])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "site local"
    assert lines[1].startswith("  heartbeat: 20") and " ago) from " in lines[1]
    assert lines[3].startswith(f"  lease: held by {socket.gethostname()}:{production.root}/")
    assert lines[4] == "  jobs now: running 0, queued 0 (reserved 0, submitted 0), failed 0"
    assert lines[5] == "  last 24 h: completed 12, failed 2"
    assert "  errors of the last cycle: none" in lines
    as_json = json.loads(run_mcprod(["status", "--site", "local", "--format", "json",
                                     "--repo", str(production.root)]).stdout)
    assert as_json["last_24h"] == {"completed": 12, "failed": 2}
    assert as_json["heartbeat_age_s"] < 600


def test_status_counts_orphans_apart_after_an_ev_per_run_change(fresh_copy: Production) -> None:
    campaign = fresh_copy.root / "campaigns" / "quickstart-demo.yaml"
    campaign.write_text(campaign.read_text().replace(
        "{module: WaterBi214, n_ev: 5000, ev_per_run: 1000}",
        "{module: WaterBi214, n_ev: 5000, ev_per_run: 2500}",
    ))
    git(fresh_copy.root, "commit", "-qam", "bigger WaterBi214 jobs")
    enqueued = run_mcprod(["reconcile", "--once", "--repo", str(fresh_copy.root)])
    assert enqueued.returncode == 0, enqueued.stderr
    assert "orphans 5" in enqueued.stdout
    lines = run_mcprod(["status", "--repo", str(fresh_copy.root)]).stdout.splitlines()
    assert lines[0] == "quickstart-demo: active, Progressing: 2 jobs waiting or active"
    assert lines[3].split() == ["WaterBi214", "2", "0", "0", "0", "0", "0", "0", "2", "0.0%"]
    assert lines[6].split() == ["total", "2", "0", "0", "0", "7", "0", "0", "9", "77.8%"]
    assert lines[7] == ("  orphans: 5 jobs of entries no longer declared, not in the total"
                        " (completed 5); see `mcprod plan`")
    as_json = json.loads(run_mcprod(["status", "--format", "json", "--repo",
                                     str(fresh_copy.root)]).stdout)
    assert as_json[0]["declared_jobs"] == 9
    assert as_json[0]["total"]["total"] == 9
    assert as_json[0]["orphans"]["jobs"] == 5
