"""Hand-built declared records for the pure expand/plan tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.documents import job_id
from reconciler.enqueue.expand import DesiredCampaign, expand_campaign
from reconciler.enqueue.plan import ObservedJob
from reconciler.model import (
    Campaign,
    CampaignState,
    Catalogue,
    Entry,
    EventMode,
    ModuleInfo,
    SourceRef,
    TemplateValue,
)

MODES: dict[str, EventMode] = {
    "Gen": "number",
    "GenTime": "time",
    "WaterRun": "run",
    "WaterN16Run": "run_number",
    "Templated": "number",
}


def catalogue(version: str = "6.18.7") -> Catalogue:
    modules = {
        name: ModuleInfo(
            event_mode=mode,
            path=f"mac/production/{name}.mac",
            outputs=("ratds", "ntuple"),
            template=("z",) if name == "Templated" else (),
        )
        for name, mode in MODES.items()
    }
    return Catalogue(rat_version=version, modules=modules, content_hash="0" * 64)


def entry(module: str, index: int = 0, *, template: Mapping[str, TemplateValue] | None = None,
          **counts: object) -> Entry:
    return Entry(
        module=module,
        index=index,
        source=SourceRef("campaigns/c.yaml", 5 + index, 5),
        template=template or {},
        **counts,  # type: ignore[arg-type]
    )


def campaign(label: str, entries: Iterable[Entry], *, state: CampaignState = "active",
             priority: int = 100, ratdb_tag: str | None = None) -> Campaign:
    return Campaign(
        label=label,
        rat_version="6.18.7",
        source=SourceRef(f"campaigns/{label}.yaml", 1, 1),
        modules=tuple(entries),
        state=state,
        priority=priority,
        ratdb_tag=ratdb_tag,
    )


def desired(camp: Campaign, commit: str | None = "c0ffee") -> DesiredCampaign:
    return expand_campaign(camp, catalogue(), commit)


def applied(campaigns: Iterable[DesiredCampaign], status: str = "waiting") -> list[ObservedJob]:
    """What the store holds after an apply of these campaigns, every job at pass 1..n."""
    passes: dict[tuple[str, int], int] = {}
    jobs = []
    for camp in campaigns:
        for want in camp.jobs:
            p = passes.get((want.module, want.run), 0) + 1
            passes[(want.module, want.run)] = p
            jobs.append(
                ObservedJob(
                    id=job_id(want.module, want.run, want.subrun, p),
                    campaign=want.campaign,
                    entry_key=want.entry.entry_key,
                    index=want.index,
                    module=want.module,
                    run=want.run,
                    pass_=p,
                    status=status,
                    priority=want.entry.priority,
                    events=want.events,
                )
            )
    return jobs
