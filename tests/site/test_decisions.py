"""The site cycle's pure decisions: eligibility and order, transitions, retry, stale sites."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from reconciler.model import BackendConfig, Campaign, Site
from reconciler.site.decisions import (
    MAX_BACKOFF_S,
    RetryDecision,
    StaleVerdict,
    attempts_run,
    backoff_seconds,
    eligible_campaigns,
    heartbeat_is_stale,
    mark_completed,
    mark_failed,
    mark_running,
    mark_submitted,
    recovery_action,
    release,
    requeue,
    reserve,
    retry_decision,
    select_for_submission,
    skip_reason,
    stale_verdict,
)
from tests.site.support import campaign
from tests.site.support import site as support_site

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def site(**changes: Any) -> Site:
    return support_site("cedar", **changes)


def job(run: int = 1, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_id": f"job:WaterBi214:r{run}:s0:p1",
        "_rev": "1-a",
        "type": "job",
        "status": "waiting",
        "campaign": "water",
        "rat_version": "7.0.8",
        "priority": 100,
        "paused": False,
        "created_at": f"2026-01-01T00:00:{run:02d}.000000Z",
        "attempt": 0,
        "attempts": [],
    }
    doc.update(changes)
    return doc


CAMPAIGNS = {"water": campaign()}


def test_order_is_priority_then_age_and_fills_up_to_max_running() -> None:
    jobs = [job(1), job(2, priority=200), job(3), job(4, priority=200), job(5)]
    selection = select_for_submission(jobs, site(), CAMPAIGNS, active_at_site=0, now=NOW)
    assert [j["_id"] for j in selection.chosen] == [
        "job:WaterBi214:r2:s0:p1",
        "job:WaterBi214:r4:s0:p1",
        "job:WaterBi214:r1:s0:p1",
    ]


def test_running_jobs_take_slots() -> None:
    selection = select_for_submission([job(1), job(2)], site(), CAMPAIGNS, 2, NOW)
    assert [j["_id"] for j in selection.chosen] == ["job:WaterBi214:r1:s0:p1"]
    assert select_for_submission([job(1)], site(), CAMPAIGNS, 5, NOW).chosen == ()


@pytest.mark.parametrize(
    ("the_site", "campaigns", "the_job", "reason"),
    [
        (site(), CAMPAIGNS, job(status="reserved"), "status is reserved"),
        (site(), {}, job(), "campaign water is not declared at this commit"),
        (site(), {"water": campaign(state="paused")}, job(), "campaign paused"),
        (site(), {"water": campaign(state="cancelled")}, job(), "campaign cancelled"),
        (site(enabled=False), CAMPAIGNS, job(), "site cedar is disabled (draining)"),
        (site(), {"water": campaign(sites=("liverpool",))}, job(),
         "campaign does not allow site cedar"),
        (site(accepts=("solar-*",)), CAMPAIGNS, job(), "site cedar does not accept campaign water"),
        (site(rat_locations={"6.18.7": "CVMFS"}), CAMPAIGNS, job(),
         "RAT 7.0.8 is not in rat_locations of site cedar"),
        (site(), CAMPAIGNS, job(not_before="2026-01-01T12:00:01.000000Z"), "retry back-off"),
    ],
)
def test_skip_reasons(
    the_site: Site, campaigns: dict[str, Campaign], the_job: dict[str, Any], reason: str
) -> None:
    assert skip_reason(the_job, the_site, campaigns, NOW) == reason
    selection = select_for_submission([the_job], the_site, campaigns, 0, NOW)
    assert selection.chosen == ()
    assert selection.skipped == {reason: 1}


def test_an_old_paused_flag_does_not_hold_a_job_of_an_active_campaign() -> None:
    """Earlier releases wrote `paused: true` on jobs; the campaign's state decides now."""
    assert skip_reason(job(paused=True), site(), CAMPAIGNS, NOW) is None
    paused = {"water": campaign(state="paused")}
    assert skip_reason(job(paused=False), site(), paused, NOW) == "campaign paused"


def test_eligible_campaigns_are_the_ones_this_site_may_run() -> None:
    campaigns = {
        "water": campaign(),
        "held": campaign("held", state="paused"),
        "gone": campaign("gone", state="cancelled"),
        "elsewhere": campaign("elsewhere", sites=("liverpool",)),
        "solar-1": campaign("solar-1"),
    }
    assert eligible_campaigns(site(), campaigns) == ["solar-1", "water"]
    assert eligible_campaigns(site(accepts=("solar-*",)), campaigns) == ["solar-1"]
    assert eligible_campaigns(site(enabled=False), campaigns) == []


def test_accepts_globs_and_allow_list_let_jobs_through() -> None:
    the_site = site(accepts=("solar-*", "wat?r"))
    allowed = {"water": campaign(sites=("cedar",))}
    earlier = job(not_before="2026-01-01T11:59:59.000000Z")
    assert skip_reason(earlier, the_site, allowed, NOW) is None


def test_reserve_then_submit_then_complete_records_the_attempt() -> None:
    original = job()
    reserved = reserve(original, "cedar", NOW)
    assert original["status"] == "waiting" and original["attempts"] == []  # input untouched
    assert reserved["status"] == "reserved"
    assert reserved["attempt"] == 1
    assert reserved["backend_name"] == "job:WaterBi214:r1:s0:p1.a1"
    assert reserved["site"] == "cedar"
    submitted = mark_submitted(reserved, "4711", NOW)
    assert submitted["backend_id"] == "4711"
    assert submitted["attempts"][-1]["backend_id"] == "4711"
    assert submitted["attempts"][-1]["status"] == "submitted"
    done = mark_completed(mark_running(submitted, NOW), NOW)
    assert done["status"] == "completed"
    assert done["attempts"][-1]["status"] == "completed"
    assert len(done["attempts"]) == 1


def test_release_keeps_the_attempt_number_growing() -> None:
    released = release(reserve(job(), "cedar", NOW), "never submitted", NOW)
    assert released["status"] == "waiting"
    assert released["site"] is None
    assert attempts_run(released) == 0
    again = reserve(released, "cedar", NOW)
    assert again["backend_name"] == "job:WaterBi214:r1:s0:p1.a2"
    assert [a["status"] for a in again["attempts"]] == ["released", "reserved"]


def failed(reason: str, attempts: int = 1, produced_output: bool = True) -> dict[str, Any]:
    doc = job()
    for _ in range(attempts):
        doc = mark_failed(
            mark_submitted(reserve(doc, "cedar", NOW), "1", NOW),
            reason,
            NOW,
            produced_output=produced_output,
        )
    return doc


def test_retry_on_listed_reason_with_exponential_backoff() -> None:
    first = retry_decision(failed("copy: gfal-copy error: 70 (timeout)"), CAMPAIGNS["water"],
                             NOW, base_backoff_s=60)
    assert first == RetryDecision(
        True, "reason matches retry.on 'gfal-copy error: 70'", "2026-01-01T12:01:00.000000Z"
    )
    second = retry_decision(failed("gfal-copy error: 70", attempts=2), CAMPAIGNS["water"],
                              NOW, base_backoff_s=60)
    assert second.not_before == "2026-01-01T12:02:00.000000Z"
    requeued = requeue(failed("gfal-copy error: 70"), first, NOW)
    assert requeued["status"] == "waiting"
    assert requeued["not_before"] == "2026-01-01T12:01:00.000000Z"
    assert skip_reason(requeued, site(), CAMPAIGNS, NOW) == "retry back-off"


def test_no_output_is_retried_even_when_not_listed() -> None:
    decision = retry_decision(failed("no return card", produced_output=False),
                                CAMPAIGNS["water"], NOW)
    assert decision.retry
    assert decision.why == "the attempt produced no output"


def test_unlisted_reason_and_exhausted_attempts_are_not_retried() -> None:
    assert retry_decision(failed("segfault"), CAMPAIGNS["water"], NOW) == RetryDecision(
        False, "reason not listed in retry.on"
    )
    assert retry_decision(
        failed("gfal-copy error: 70", attempts=3), CAMPAIGNS["water"], NOW
    ) == RetryDecision(False, "gave up after 3 of 3 attempts")
    assert not retry_decision(failed("gfal-copy error: 70"), None, NOW).retry


def test_backoff_is_capped() -> None:
    assert backoff_seconds(1, 60) == 60
    assert backoff_seconds(4, 60) == 480
    assert backoff_seconds(30, 60) == MAX_BACKOFF_S
    assert backoff_seconds(3, 0) == 0


def test_stale_heartbeat() -> None:
    beat = {"heartbeat_at": "2026-01-01T09:59:00.000000Z"}
    assert heartbeat_is_stale(beat, NOW, 7200)
    assert not heartbeat_is_stale({"heartbeat_at": "2026-01-01T10:01:00.000000Z"}, NOW, 7200)
    assert heartbeat_is_stale(None, NOW, 7200)


def test_stale_verdict_says_which_case_it_was() -> None:
    held = reserve(job(), "liverpool", NOW)
    at = "2026-01-01T09:00:00.000000Z"
    assert stale_verdict(held, None, "dirac-wms-job-status: command not found", at) == (
        StaleVerdict(
            True,
            "released from stale site liverpool (last heartbeat 2026-01-01T09:00:00.000000Z): "
            "its backend cannot be asked: dirac-wms-job-status: command not found",
        )
    )
    assert stale_verdict(held, False, None, None) == StaleVerdict(
        True,
        "released from stale site liverpool (no heartbeat): "
        "job:WaterBi214:r1:s0:p1.a1 is not in its backend",
    )
    assert not stale_verdict(held, True, None, at).release


def test_recovery_adopts_or_releases() -> None:
    assert recovery_action(job(), "17") == "adopt"
    assert recovery_action(job(), None) == "release"


def test_work_dir_choice() -> None:
    from pathlib import Path

    from reconciler.site.cycle import site_work_dir

    repo = Path("/srv/mcprod-config")
    assert site_work_dir(site(), repo, None) == repo / ".mcprod" / "sites" / "cedar"
    relative = site(backend=BackendConfig("local", {"work_dir": "jobs"}))
    assert site_work_dir(relative, repo, None) == repo / "jobs"
    absolute = site(backend=BackendConfig("slurm", {"work_dir": "/scratch/mc"}))
    assert site_work_dir(absolute, repo, None) == Path("/scratch/mc")
    assert site_work_dir(absolute, repo, Path("/tmp/w")) == Path("/tmp/w")


def test_no_transition_changes_the_document_it_was_given() -> None:
    """Transitions copy only the containers they change (documents.copy_for_change);
    the document passed in, nested attempts included, must come out as it went in."""
    import copy

    from reconciler.operator import cancelled, retried
    from reconciler.site.decisions import cancel_done

    job: dict[str, Any] = {
        "_id": "job:M:r1:s0:p0", "type": "job", "status": "running", "site": "cedar",
        "attempt": 1, "template": {"RUNNUMBER": 1, "nested": [1, {"x": 2}]},
        "attempts": [{"n": 1, "site": "cedar", "status": "running", "files": [{"a": 1}]}],
        "operator_actions": [{"action": "retry"}],
    }
    before = copy.deepcopy(job)
    decision = RetryDecision(True, "retry", "2026-01-01T12:05:00.000000Z")
    outputs = [
        reserve(job, "cedar", NOW, {"host": "h", "work_dir": "/w"}),
        mark_submitted(job, "7", NOW),
        mark_running(job, NOW),
        release(job, "why", NOW),
        mark_failed(job, "why", NOW, exit_code=3),
        mark_completed(job, NOW),
        requeue(job, decision, NOW),
        cancel_done(job, NOW, "stopped"),
        cancelled(job, NOW, "someone"),
        retried(job, NOW, "someone"),
    ]
    assert job == before
    assert all(out != before for out in outputs)
