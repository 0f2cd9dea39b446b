"""The pure plan: desired vs observed -> actions, the prune guard, orphans."""

from __future__ import annotations

import dataclasses
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.enqueue.expand import DesiredCampaign
from reconciler.enqueue.plan import (
    ORPHAN_ENTRY,
    ORPHAN_SURPLUS,
    ORPHAN_UNDECLARED,
    FieldChange,
    plan,
)
from tests.enqueue.builders import applied, campaign, desired, entry


def _gen(n_ev: int = 100, per: int = 10, **kw: object) -> DesiredCampaign:
    return desired(campaign("c", [entry("Gen", n_ev=n_ev, ev_per_run=per)], **kw))  # type: ignore[arg-type]


def test_empty_store_creates_the_full_production() -> None:
    result = plan([_gen()], [])
    assert len(result.creates) == 10
    assert result.updates == result.cancels == result.orphans == ()


def test_apply_then_plan_is_empty() -> None:
    camp = _gen()
    assert plan([camp], applied([camp])).is_empty


def test_priority_change_updates_in_place() -> None:
    observed = applied([_gen()])
    result = plan([_gen(priority=300)], observed)
    assert result.creates == ()
    assert len(result.updates) == 10
    assert result.updates[0].changes == (FieldChange("priority", 100, 300),)


def test_pause_and_resume_change_no_job() -> None:
    """The campaign's declared state is the only truth for paused: the site cycle reads
    it, so pausing a campaign of any size writes nothing."""
    observed = applied([_gen()])
    assert plan([_gen(state="paused")], observed).is_empty
    assert plan([_gen()], applied([_gen(state="paused")])).is_empty


def test_count_increase_adds_at_the_end_and_fixes_the_old_remainder() -> None:
    observed = applied([_gen(n_ev=95)])
    result = plan([_gen(n_ev=125)], observed)
    assert [(c.job.run, c.job.events) for c in result.creates] == [(10, 10), (11, 10), (12, 5)]
    assert [(u.job_id, u.changes) for u in result.updates] == [
        ("job:Gen:r9:s0:p1", (FieldChange("events", 5, 10),))
    ]


def test_count_decrease_reports_surplus_and_prunes_it() -> None:
    observed = applied([_gen(n_ev=100)])
    result = plan([_gen(n_ev=80)], observed)
    assert [(o.job_id, o.reason) for o in result.orphans] == [
        ("job:Gen:r8:s0:p1", ORPHAN_SURPLUS), ("job:Gen:r9:s0:p1", ORPHAN_SURPLUS)
    ]
    assert result.cancels == ()
    pruned = plan([_gen(n_ev=80)], observed, prune=True)
    assert [c.job_id for c in pruned.cancels] == ["job:Gen:r8:s0:p1", "job:Gen:r9:s0:p1"]
    assert pruned.orphans == ()


def test_changed_template_orphans_the_old_entry() -> None:
    old = desired(campaign("c", [entry("Templated", n_ev=20, ev_per_run=10, template={"z": 1})]))
    new = desired(campaign("c", [entry("Templated", n_ev=20, ev_per_run=10, template={"z": 2})]))
    result = plan([new], applied([old]))
    assert len(result.creates) == 2
    assert {(o.job_id, o.reason) for o in result.orphans} == {
        ("job:Templated:r0:s0:p1", ORPHAN_ENTRY), ("job:Templated:r1:s0:p1", ORPHAN_ENTRY)
    }
    assert result.cancels == ()
    pruned = plan([new], applied([old]), prune=True)
    assert len(pruned.cancels) == 2 and len(pruned.creates) == 2 and pruned.refusal is None


def test_prune_guard_refuses_over_budget_and_says_what() -> None:
    observed = applied([_gen(n_ev=100)])
    result = plan([_gen(n_ev=30)], observed, prune=True, max_cancel=5)
    assert result.cancels == ()
    assert len(result.withheld) == 7
    assert result.refusal == (
        "prune refused: it would cancel 7 jobs, more than --max-cancel 5; "
        "raise --max-cancel or set the campaign's state: cancelled"
    )


def test_prune_guard_refuses_to_empty_a_campaign() -> None:
    two = desired(campaign("c", [entry("Gen", n_ev=20, ev_per_run=10),
                                 entry("GenTime", 1, t_run=1, t_format="day", n_runs=2)]))
    observed = [j for j in applied([two]) if j.module == "GenTime"]
    only_gen = desired(campaign("c", [entry("Gen", n_ev=20, ev_per_run=10)]))
    # The GenTime jobs would be cancelled but Gen's are created: not emptied.
    assert plan([only_gen], observed, prune=True).refusal is None
    observed_gen_running = [dataclasses.replace(j, status="running") for j in applied([only_gen])]
    drop_all = desired(campaign("c", [entry("GenTime", t_run=2, t_format="day", n_runs=1)]))
    result = plan([drop_all], observed + observed_gen_running, prune=True)
    assert result.refusal is None  # the running Gen jobs stay: campaign not emptied
    result = plan([desired(campaign("c", [entry("GenTime", t_run=9, t_format="day", n_runs=0)]))],
                  observed, prune=True)
    assert result.refusal == (
        "prune refused: it would cancel every job of campaign c; "
        "set the campaign's state: cancelled instead"
    )


def test_cancelled_campaign_cancels_only_cancellable_jobs_without_prune() -> None:
    observed = applied([_gen()])
    statuses = ["waiting", "running", "completed", "failed", "submitted", "cancelled",
                "reserved", "reserved", "waiting", "waiting"]
    observed = [dataclasses.replace(j, status=s, backend_id="42" if i == 7 else None)
                for i, (j, s) in enumerate(zip(observed, statuses, strict=True))]
    result = plan([_gen(state="cancelled")], observed, max_cancel=0)
    assert [c.job_id for c in result.cancels] == [
        "job:Gen:r0:s0:p1", "job:Gen:r6:s0:p1", "job:Gen:r8:s0:p1", "job:Gen:r9:s0:p1"
    ]
    assert result.refusal is None


def test_undeclared_campaign_jobs_are_orphans_never_cancelled() -> None:
    old = desired(campaign("old", [entry("Gen", n_ev=20, ev_per_run=10)]))
    result = plan([], applied([old]), prune=True)
    assert [(o.job_id, o.reason) for o in result.orphans] == [
        ("job:Gen:r0:s0:p1", ORPHAN_UNDECLARED), ("job:Gen:r1:s0:p1", ORPHAN_UNDECLARED)
    ]
    assert result.is_empty


def test_cancelled_job_keeps_its_slot_and_is_not_recreated() -> None:
    observed = [dataclasses.replace(j, status="cancelled") for j in applied([_gen(n_ev=20)])]
    result = plan([_gen(n_ev=20, priority=5)], observed)
    assert result.is_empty and result.orphans == ()


def test_live_duplicate_of_a_slot_is_surplus() -> None:
    observed = applied([_gen(n_ev=20)])
    twin = dataclasses.replace(observed[0], id="job:Gen:r0:s0:p2", pass_=2)
    result = plan([_gen(n_ev=20)], [*observed, twin])
    assert [(o.job_id, o.reason) for o in result.orphans] == [("job:Gen:r0:s0:p2", ORPHAN_SURPLUS)]


# -- properties ----------------------------------------------------------------

entries = st.lists(
    st.one_of(
        st.builds(lambda n, p: ("Gen", {"n_ev": n, "ev_per_run": p}),
                  st.integers(1, 300), st.integers(1, 40)),
        st.builds(lambda n: ("GenTime", {"t_run": 1, "t_format": "day", "n_runs": n}),
                  st.integers(0, 12)),
        st.builds(lambda runs: ("WaterRun", {"run_numbers": tuple(runs)}),
                  st.lists(st.integers(1, 50), min_size=1, max_size=6, unique=True)),
    ),
    min_size=1, max_size=4,
)


def _campaigns(spec: list[list[tuple[str, dict[str, object]]]]) -> list[DesiredCampaign]:
    return [
        desired(campaign(f"c{i}", [entry(m, k, **kw) for k, (m, kw) in enumerate(items)]))
        for i, items in enumerate(spec)
    ]


@settings(max_examples=40, deadline=None)
@given(spec=st.lists(entries, min_size=1, max_size=3), seed=st.integers(0, 2**16))
def test_plan_is_independent_of_input_order(
    spec: list[list[tuple[str, dict[str, object]]]], seed: int
) -> None:
    camps = _campaigns(spec)
    half = applied(camps)[::2]
    shuffled_obs = list(half)
    random.Random(seed).shuffle(shuffled_obs)
    shuffled_camps = list(reversed(camps))
    assert plan(camps, half, prune=True) == plan(shuffled_camps, shuffled_obs, prune=True)


@settings(max_examples=40, deadline=None)
@given(before=st.lists(entries, min_size=1, max_size=2),
       after=st.lists(entries, min_size=1, max_size=2))
def test_create_counts_and_events_are_conserved_and_converge(
    before: list[list[tuple[str, dict[str, object]]]],
    after: list[list[tuple[str, dict[str, object]]]],
) -> None:
    old, new = _campaigns(before), _campaigns(after)
    first = plan(new, [])
    assert len(first.creates) == sum(len(c.jobs) for c in new)
    assert sum(c.job.events or 0 for c in first.creates) == sum(
        j.events or 0 for c in new for j in c.jobs
    )
    # Whatever was there before, applying the plan's creates and updates converges.
    observed = applied(old)
    result = plan(new, observed)
    by_slot = {(j.campaign, j.slot): j for j in observed}
    live = [j for j in observed]
    for create in result.creates:
        assert (create.campaign, create.job.slot) not in by_slot
    for update in result.updates:
        job = next(j for j in live if j.id == update.job_id)
        for change in update.changes:
            field = "pass_" if change.field == "pass" else change.field
            live[live.index(job)] = job = dataclasses.replace(job, **{field: change.new})
    created = applied([dataclasses.replace(c, jobs=tuple(x.job for x in result.creates
                                                           if x.campaign == c.label))
                       for c in new])
    taken = {(j.module, j.run) for j in live}
    created = [dataclasses.replace(j, pass_=j.pass_ + 1000, id=j.id + "x")
               if (j.module, j.run) in taken else j for j in created]
    assert plan(new, live + created).is_empty
