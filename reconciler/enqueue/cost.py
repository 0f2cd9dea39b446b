"""Cost estimates of desired jobs from a RAT version's benchmarks (pure).

Benchmarks are per event, so only jobs with an event count (number and run_number
mode) can be costed; time and run mode jobs are counted separately and shown as such.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.enqueue.expand import DesiredJob
from reconciler.model import RatVersion

SECONDS_PER_HOUR = 3600


@dataclass(frozen=True, slots=True)
class Cost:
    jobs: int
    events: int
    jobs_without_events: int
    cpu_hours: float | None
    output_bytes: float | None
    benchmark: str | None  # "module", "default", or None when the version has none


def estimate(module: str, jobs: Iterable[DesiredJob], rat: RatVersion | None) -> Cost:
    count = 0
    events = 0
    without = 0
    for job in jobs:
        count += 1
        if job.events is None:
            without += 1
        else:
            events += job.events
    bench, used_default = rat.benchmark_for(module) if rat is not None else (None, False)
    if bench is None:
        return Cost(count, events, without, None, None, None)
    return Cost(
        jobs=count,
        events=events,
        jobs_without_events=without,
        cpu_hours=events * bench.cpu_s_per_event / SECONDS_PER_HOUR,
        output_bytes=events * bench.bytes_per_event,
        benchmark="default" if used_default else "module",
    )
