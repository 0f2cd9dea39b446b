"""Expansion of campaigns into desired jobs: counts, remainders, identity."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.enqueue.expand import ExpansionError, expand_campaign
from tests.enqueue.builders import campaign, catalogue, desired, entry


def test_number_mode_last_job_takes_the_remainder() -> None:
    camp = desired(campaign("c", [entry("Gen", n_ev=100, ev_per_run=30)]))
    assert [(j.run, j.index, j.events) for j in camp.jobs] == [
        (0, 0, 30), (1, 1, 30), (2, 2, 30), (3, 3, 10)
    ]


def test_number_mode_without_n_ev_makes_n_runs_full_jobs() -> None:
    camp = desired(campaign("c", [entry("Gen", ev_per_run=30, n_runs=2)]))
    assert [j.events for j in camp.jobs] == [30, 30]


def test_time_mode_converts_days_to_seconds() -> None:
    camp = desired(campaign("c", [entry("GenTime", t_run=2, t_format="day", n_runs=3)]))
    assert len(camp.jobs) == 3
    assert {j.entry.duration_s for j in camp.jobs} == {172800}
    assert {j.events for j in camp.jobs} == {None}


def test_run_mode_one_job_per_listed_run() -> None:
    camp = desired(campaign("c", [entry("WaterRun", run_numbers=(100151, 100152))]))
    assert [(j.run, j.index) for j in camp.jobs] == [(100151, 0), (100152, 0)]


def test_run_number_mode_splits_each_run() -> None:
    camp = desired(
        campaign("c", [entry("WaterN16Run", n_ev=210000, ev_per_run=100000,
                             run_numbers=(100151, 100152))])
    )
    assert [(j.run, j.index, j.events) for j in camp.jobs] == [
        (100151, 0, 100000), (100151, 1, 100000), (100151, 2, 10000),
        (100152, 0, 100000), (100152, 1, 100000), (100152, 2, 10000),
    ]


def test_entry_key_ignores_counts_and_priority_but_not_physics() -> None:
    base = desired(campaign("c", [entry("Templated", n_ev=10, ev_per_run=5, template={"z": 1})]))
    more = desired(campaign("c", [entry("Templated", n_ev=99, ev_per_run=5, template={"z": 1},
                                        priority=7)]))
    moved = desired(campaign("c", [entry("Templated", n_ev=10, ev_per_run=5, template={"z": 2})]))
    tagged = desired(campaign("c", [entry("Templated", n_ev=10, ev_per_run=5, template={"z": 1})],
                              ratdb_tag="frozen"))
    assert base.entries[0].entry_key == more.entries[0].entry_key
    assert base.entries[0].entry_key != moved.entries[0].entry_key
    assert base.entries[0].entry_key != tagged.entries[0].entry_key


def test_duplicate_physics_in_one_campaign_gets_distinct_keys() -> None:
    camp = desired(campaign("c", [entry("WaterRun", 0, run_numbers=(1,)),
                                  entry("WaterRun", 1, run_numbers=(2,))]))
    keys = [e.entry_key for e in camp.entries]
    assert keys[1] == keys[0] + ".1"


def test_priority_and_state_are_carried() -> None:
    camp = desired(campaign("c", [entry("Gen", n_ev=10, ev_per_run=5),
                                  entry("Gen", 1, n_ev=10, ev_per_run=6, priority=300)],
                            state="paused", priority=50))
    assert camp.state == "paused"
    assert [j.entry.priority for j in camp.jobs] == [50, 50, 300, 300]


def test_cancelled_campaign_desires_no_jobs() -> None:
    camp = desired(campaign("c", [entry("Gen", n_ev=10, ev_per_run=5)], state="cancelled"))
    assert camp.jobs == ()
    assert len(camp.entries) == 1


def test_unknown_module_names_the_entry() -> None:
    with pytest.raises(ExpansionError) as info:
        expand_campaign(campaign("c", [entry("Gen", n_ev=1, ev_per_run=1),
                                       entry("Nope", 1, n_ev=1, ev_per_run=1)]),
                        catalogue(), None)
    assert str(info.value) == (
        "campaigns/c.yaml:6:5: modules[1] (Nope): module not in the catalogue of RAT 6.18.7"
    )


def test_missing_template_value_is_an_error() -> None:
    with pytest.raises(ExpansionError) as info:
        expand_campaign(
            campaign("c", [entry("Templated", n_ev=1, ev_per_run=1)]), catalogue(), None
        )
    assert str(info.value) == (
        "campaigns/c.yaml:5:5: modules[0] (Templated): template: missing value for ${z}"
    )


def test_mode_needs_its_counts() -> None:
    with pytest.raises(ExpansionError) as info:
        expand_campaign(
            campaign("c", [entry("GenTime", t_run=1, t_format="day")]), catalogue(), None
        )
    assert str(info.value) == "campaigns/c.yaml:5:5: modules[0] (GenTime): time mode needs n_runs"


@settings(max_examples=60, deadline=None)
@given(per=st.integers(1, 10**6), jobs=st.integers(1, 300), remainder=st.integers(0, 10**6),
       runs=st.lists(st.integers(0, 10**6), min_size=1, max_size=5, unique=True))
def test_event_totals_and_job_counts_are_conserved(
    per: int, jobs: int, remainder: int, runs: list[int]
) -> None:
    n_ev = (jobs - 1) * per + remainder % per + 1
    generic = desired(campaign("c", [entry("Gen", n_ev=n_ev, ev_per_run=per)]))
    assert sum(j.events or 0 for j in generic.jobs) == n_ev
    assert len(generic.jobs) == -(-n_ev // per)
    assert all(0 < (j.events or 0) <= per for j in generic.jobs)
    per_run = desired(campaign("c", [entry("WaterN16Run", n_ev=n_ev, ev_per_run=per,
                                           run_numbers=tuple(runs))]))
    assert sum(j.events or 0 for j in per_run.jobs) == n_ev * len(runs)
    assert len({j.slot for j in per_run.jobs}) == len(per_run.jobs)


@settings(max_examples=40, deadline=None)
@given(small=st.integers(1, 200), extra=st.integers(0, 200), per=st.integers(1, 50))
def test_count_change_only_adds_or_removes_at_the_end(small: int, extra: int, per: int) -> None:
    before = desired(campaign("c", [entry("Gen", n_ev=small, ev_per_run=per)]))
    after = desired(campaign("c", [entry("Gen", n_ev=small + extra, ev_per_run=per)]))
    slots_before = [j.slot for j in before.jobs]
    assert [j.slot for j in after.jobs][: len(slots_before)] == slots_before
