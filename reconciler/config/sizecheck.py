"""Validate warnings for jobs too big for the legacy sizing rules (see sizing.py)."""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.config.crosscheck import Located, site_refusal
from reconciler.config.sizing import oversize, time_limit_s
from reconciler.errors import DiagnosticSink
from reconciler.model import Campaign, RatVersion, Site


def site_limits(campaign: Campaign, sites: Mapping[str, Site]) -> dict[str, int]:
    """Time limits (seconds) of the sites that would run the campaign's jobs."""
    names = [n for n in campaign.sites if n in sites] if campaign.sites else sorted(sites)
    limits = {}
    for name in names:
        limit = time_limit_s(sites[name])
        if limit is not None and site_refusal(sites[name], campaign) is None:
            limits[name] = limit
    return limits


def check_job_sizes(
    where: Located, campaign: Campaign, rat: RatVersion | None, sites: Mapping[str, Site],
    sink: DiagnosticSink,
) -> None:
    """Warn, with the events per job that fit, when a job would be too big."""
    if rat is None or campaign.state == "cancelled":
        return
    limits = site_limits(campaign, sites)
    for index, entry in enumerate(campaign.modules):
        benchmark, _ = rat.benchmark_for(entry.module)
        if entry.ev_per_run is None or benchmark is None:
            continue
        found = oversize(entry.ev_per_run, benchmark, limits)
        if found is not None:
            where.warning(sink, ("modules", index, "ev_per_run"), found.describe())
