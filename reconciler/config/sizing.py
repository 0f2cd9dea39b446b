"""Job sizing, as the legacy request form did it (pure arithmetic).

A job should write at most 1 GB and need at most 20 h of CPU (and fit the time limit
of every site that would run it). With the RAT version's benchmarks (CPU seconds and
output bytes per event), the events per job that fit are
min(1 GB / bytes per event, time / CPU per event), floored to a multiple of 10,000
when above 10,000.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.model import Benchmark, Site

MAX_OUTPUT_BYTES = 1_000_000_000
MAX_CPU_S = 20 * 3600
ROUNDING = 10_000
_SLURM_TIME = re.compile(r"(?:(\d+)-)?(\d+):(\d\d):(\d\d)")


def time_limit_s(site: Site) -> int | None:
    """A site's per-job time limit in seconds, when its backend declares one."""
    options = site.backend.options
    if site.backend.type == "slurm" and isinstance(options.get("time_limit"), str):
        match = _SLURM_TIME.fullmatch(str(options["time_limit"]))
        if match:
            days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
            return ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    cpu_time = options.get("cpu_time")
    if site.backend.type == "dirac" and isinstance(cpu_time, int):
        return cpu_time
    return None


def fitting_events(benchmark: Benchmark, limit_s: float = MAX_CPU_S) -> int:
    """The events per job that fit 1 GB and `limit_s` of CPU, rounded as the form did."""
    fits = int(min(MAX_OUTPUT_BYTES / benchmark.bytes_per_event,
                   min(limit_s, MAX_CPU_S) / benchmark.cpu_s_per_event))
    if fits > ROUNDING:
        fits -= fits % ROUNDING
    return max(fits, 1)


@dataclass(frozen=True)
class Oversize:
    """Why a job of `events` events is too big, and the events per job that fit."""

    events: int
    reasons: tuple[str, ...]
    suggested: int

    def describe(self) -> str:
        return (f"a job of {self.events:,} events {'; '.join(self.reasons)}:"
                f" ev_per_run {self.suggested:,} fits")


def oversize(
    events: int, benchmark: Benchmark, limits: Mapping[str, int] | None = None
) -> Oversize | None:
    """None when a job of `events` fits; `limits` are site name -> time limit in seconds."""
    reasons = []
    output = events * benchmark.bytes_per_event
    cpu = events * benchmark.cpu_s_per_event
    if output > MAX_OUTPUT_BYTES:
        reasons.append(f"writes ~{output / 1e9:.1f} GB (over 1 GB)")
    if cpu > MAX_CPU_S:
        reasons.append(f"needs ~{cpu / 3600:.1f} h of CPU (over 20 h)")
    tightest = MAX_CPU_S
    for name, limit in sorted((limits or {}).items()):
        tightest = min(tightest, limit)
        if cpu > limit and limit < MAX_CPU_S:
            reasons.append(f"needs ~{cpu / 3600:.1f} h, over site {name}'s time limit"
                           f" of {limit / 3600:.1f} h")
    if not reasons:
        return None
    return Oversize(events, tuple(reasons), fitting_events(benchmark, tightest))
