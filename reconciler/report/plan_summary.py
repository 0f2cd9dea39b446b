"""Summarise a plan per campaign and module, with cost and the sites that can run it (pure)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.config.sizecheck import site_limits
from reconciler.config.sizing import oversize
from reconciler.enqueue.cost import Cost, estimate
from reconciler.enqueue.expand import DesiredCampaign, DesiredJob
from reconciler.model import Campaign, DeclaredRepo

if TYPE_CHECKING:  # enqueue does I/O; this module only reads its result
    from reconciler.enqueue.step import PlanContext

BIG_CAMPAIGN_CPU_HOURS = 1000.0


@dataclass(frozen=True)
class ModuleRow:
    campaign: str
    module: str
    create: int
    update: int
    cancel: int
    withheld: int
    orphans: int
    cost: Cost  # of the jobs to create


@dataclass(frozen=True)
class CampaignSummary:
    label: str
    rat_version: str | None
    state: str
    declared: bool
    desired_jobs: int
    sites: tuple[str, ...]
    catalogue_origin: str | None
    rows: tuple[ModuleRow, ...]


@dataclass(frozen=True)
class PlanSummary:
    commit: str | None
    campaigns: tuple[CampaignSummary, ...]
    warnings: tuple[str, ...]
    refusal: str | None
    observed_jobs: int

    def total(self, field: str) -> int:
        return sum(getattr(row, field) for c in self.campaigns for row in c.rows)


def sites_for(campaign: Campaign, repo: DeclaredRepo) -> tuple[str, ...]:
    return tuple(
        name
        for name, site in sorted(repo.sites.items())
        if site.enabled
        and campaign.rat_version in site.rat_locations
        and (campaign.sites is None or name in campaign.sites)
        and site.accepts_campaign(campaign.label)
    )


def _costs(
    campaign: DesiredCampaign, jobs: Iterable[DesiredJob], repo: DeclaredRepo
) -> dict[str, Cost]:
    by_module: dict[str, list[DesiredJob]] = defaultdict(list)
    for job in jobs:
        by_module[job.module].append(job)
    rat = repo.rat_versions.get(campaign.rat_version)
    return {module: estimate(module, js, rat) for module, js in by_module.items()}


def _warnings(campaign: DesiredCampaign, repo: DeclaredRepo) -> list[str]:
    if campaign.ratdb_tag is not None or campaign.state == "cancelled":
        return []
    full = _costs(campaign, campaign.jobs, repo)
    hours = sum(cost.cpu_hours or 0.0 for cost in full.values())
    if hours <= BIG_CAMPAIGN_CPU_HOURS:
        return []
    return [
        f"{campaign.source}: warning: campaign {campaign.label} needs {hours:,.0f} CPU-hours "
        "without a ratdb_tag; set ratdb_tag so that a table uploaded mid-campaign does not "
        "change the physics"
    ]


def _sizing(campaign: DesiredCampaign, repo: DeclaredRepo) -> list[str]:
    """Entries whose jobs are too big for the legacy sizing rules, with the
    ev_per_run that fits (the same rule `validate` warns with)."""
    rat = repo.rat_versions.get(campaign.rat_version)
    declared = repo.campaigns.get(campaign.label)
    if rat is None or declared is None or campaign.state == "cancelled":
        return []
    limits = site_limits(declared, repo.sites)
    found = []
    for entry in campaign.entries:
        benchmark, _ = rat.benchmark_for(entry.module)
        if entry.events_per_job is None or benchmark is None:
            continue
        too_big = oversize(entry.events_per_job, benchmark, limits)
        if too_big is not None:
            found.append(f"{entry.source}: warning: campaign {campaign.label}: {entry.module}:"
                         f" {too_big.describe()}")
    return found


def summarise(context: PlanContext) -> PlanSummary:
    plan = context.plan
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for update in plan.updates:
        counts[(update.campaign, update.module)]["update"] += 1
    for cancel in plan.cancels:
        counts[(cancel.campaign, cancel.module)]["cancel"] += 1
    for cancel in plan.withheld:
        counts[(cancel.campaign, cancel.module)]["withheld"] += 1
    for orphan in plan.orphans:
        counts[(orphan.campaign, orphan.module)]["orphans"] += 1
    creates: dict[str, list[DesiredJob]] = defaultdict(list)
    for create in plan.creates:
        creates[create.campaign].append(create.job)
        counts[(create.campaign, create.module)]["create"] += 1
    summaries: list[CampaignSummary] = []
    warnings: list[str] = []
    desired = {c.label: c for c in context.desired}
    labels = sorted({label for label, _ in counts} | set(desired))
    for label in labels:
        campaign = desired.get(label)
        costs = _costs(campaign, creates[label], context.repo) if campaign else {}
        rows = tuple(
            ModuleRow(
                campaign=label,
                module=module,
                create=n["create"],
                update=n["update"],
                cancel=n["cancel"],
                withheld=n["withheld"],
                orphans=n["orphans"],
                cost=costs.get(module, Cost(0, 0, 0, None, None, None)),
            )
            for (c_label, module), n in sorted(counts.items())
            if c_label == label
        )
        if campaign is None:
            summaries.append(
                CampaignSummary(label, None, "not declared", False, 0, (), None, rows)
            )
            continue
        warnings += _warnings(campaign, context.repo)
        warnings += _sizing(campaign, context.repo)
        chosen = context.catalogues.get(campaign.rat_version)
        summaries.append(
            CampaignSummary(
                label=label,
                rat_version=campaign.rat_version,
                state=campaign.state,
                declared=True,
                desired_jobs=len(campaign.jobs),
                sites=sites_for(context.repo.campaigns[label], context.repo),
                catalogue_origin=chosen.origin if chosen else None,
                rows=rows,
            )
        )
    return PlanSummary(
        commit=context.repo.commit,
        campaigns=tuple(summaries),
        warnings=tuple(warnings),
        refusal=plan.refusal,
        observed_jobs=context.observed_jobs,
    )
