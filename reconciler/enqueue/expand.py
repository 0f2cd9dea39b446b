"""Expand declared campaigns into desired jobs (pure, deterministic).

A job's identity inside its campaign is its *slot*: (entry key, run, index).
For generic modes (number, time) the run is the job number 0..N-1 within the entry
and the index equals it (sub-run 0); for run-list modes (run, run_number) the run is
the listed detector run and the index counts the jobs of that run within the entry:
it is the job's sub-run (always 0 in run mode). The sub-runs of one run in one entry
share one pass (reconciler.enqueue.apply). So adding or removing a run touches only
that run's jobs, and changing a count adds or removes jobs at the end of the entry
(DESIGN.md invariant 3).

Everything an entry's jobs share lives once in an `EntrySpec`; a `DesiredJob` only
adds what differs per job, which keeps a million desired jobs well under 1 GB.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from reconciler.errors import McprodError
from reconciler.model import (
    SECONDS_PER,
    Campaign,
    CampaignState,
    Catalogue,
    Entry,
    EventMode,
    SourceRef,
    TemplateValue,
)


@dataclass(frozen=True, slots=True)
class EntrySpec:
    """What every job of one campaign entry shares."""

    campaign: str
    entry_key: str
    position: int
    source: SourceRef
    module: str
    rat_version: str
    ratdb_tag: str | None
    event_mode: EventMode
    macro_path: str
    outputs: tuple[str, ...]
    other_suffix: str | None
    template: tuple[tuple[str, TemplateValue], ...]
    priority: int
    commit: str | None
    events_per_job: int | None
    duration_s: int | None
    labels: tuple[str, ...] = ()
    """Every label the entry's documents carry: the campaign's own first."""


@dataclass(frozen=True, slots=True)
class DesiredJob:
    """One job the repository asks for; `events` is the -N argument (None in time/run mode)."""

    entry: EntrySpec
    run: int
    index: int
    events: int | None

    @property
    def slot(self) -> tuple[str, int, int]:
        return (self.entry.entry_key, self.run, self.index)

    @property
    def subrun(self) -> int:
        """Sub-run: the job's index among its run's jobs in run-list modes, else 0."""
        return self.index if self.entry.event_mode in RUN_LIST_MODES else 0

    @property
    def campaign(self) -> str:
        return self.entry.campaign

    @property
    def module(self) -> str:
        return self.entry.module


@dataclass(frozen=True, slots=True)
class DesiredCampaign:
    """A declared campaign with its desired jobs (none when it is cancelled)."""

    label: str
    state: CampaignState
    source: SourceRef
    rat_version: str
    ratdb_tag: str | None
    entries: tuple[EntrySpec, ...]
    jobs: tuple[DesiredJob, ...]
    commit: str | None
    labels: tuple[str, ...] = ()
    """The campaign's own label and its extra labels (see `campaign_labels`)."""


RUN_LIST_MODES = ("run", "run_number")


class ExpansionError(McprodError):
    """A campaign entry cannot be turned into jobs (unknown module, missing counts)."""


def entry_key(
    module: str,
    rat_version: str,
    ratdb_tag: str | None,
    template: Mapping[str, TemplateValue],
    events_per_job: int | None,
    duration_s: int | None,
) -> str:
    """Hash of an entry's physics; counts, priority and state are deliberately left out."""
    physics = {
        "module": module,
        "rat_version": rat_version,
        "ratdb_tag": ratdb_tag,
        "template": {name: template[name] for name in sorted(template)},
        "events_per_job": events_per_job,
        "duration_s": duration_s,
    }
    canonical = json.dumps(physics, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def campaign_labels(campaign: Campaign) -> tuple[str, ...]:
    """The campaign's own label, then its extra labels in declared order, once each."""
    return tuple(dict.fromkeys((campaign.label, *campaign.labels)))


def _where(entry: Entry) -> str:
    return f"{entry.source}: modules[{entry.index}] ({entry.module})"


def _chunks(total: int, per_job: int) -> Iterator[int]:
    """Events per job: full jobs, the last one taking the remainder."""
    full, remainder = divmod(total, per_job)
    for _ in range(full):
        yield per_job
    if remainder:
        yield remainder


def _duration_seconds(entry: Entry) -> int | None:
    if entry.t_run is None:
        return None
    return round(entry.t_run * SECONDS_PER[entry.t_format or "day"])


def _require(entry: Entry, mode: EventMode, **fields: object) -> None:
    missing = [name for name, value in fields.items() if value is None]
    if missing:
        raise ExpansionError(
            f"{_where(entry)}: {mode} mode needs {', '.join(missing)}"
        )


def _job_shapes(entry: Entry, mode: EventMode) -> Iterator[tuple[int, int, int | None]]:
    """(run, index, events) for each job of an entry, in slot order."""
    if mode == "number":
        _require(entry, mode, ev_per_run=entry.ev_per_run)
        assert entry.ev_per_run is not None
        if entry.n_ev is not None:
            sizes: Iterable[int] = _chunks(entry.n_ev, entry.ev_per_run)
        else:
            _require(entry, mode, n_ev_or_n_runs=entry.n_runs)
            sizes = [entry.ev_per_run] * (entry.n_runs or 0)
        for job_number, events in enumerate(sizes):
            yield job_number, job_number, events
    elif mode == "time":
        _require(entry, mode, t_run=entry.t_run, n_runs=entry.n_runs)
        for job_number in range(entry.n_runs or 0):
            yield job_number, job_number, None
    elif mode == "run":
        _require(entry, mode, run_numbers=entry.run_numbers)
        for run in dict.fromkeys(entry.run_numbers or ()):
            yield run, 0, None
    else:
        _require(
            entry, mode, run_numbers=entry.run_numbers, n_ev=entry.n_ev,
            ev_per_run=entry.ev_per_run,
        )
        assert entry.n_ev is not None and entry.ev_per_run is not None
        for run in dict.fromkeys(entry.run_numbers or ()):
            for index, events in enumerate(_chunks(entry.n_ev, entry.ev_per_run)):
                yield run, index, events


def expand_campaign(
    campaign: Campaign, catalogue: Catalogue, commit: str | None
) -> DesiredCampaign:
    """Desired jobs of one campaign; raises `ExpansionError` naming the YAML line."""
    entries: list[EntrySpec] = []
    jobs: list[DesiredJob] = []
    seen_keys: dict[str, int] = {}
    for entry in campaign.modules:
        info = catalogue.modules.get(entry.module)
        if info is None:
            raise ExpansionError(
                f"{_where(entry)}: module not in the catalogue of RAT {campaign.rat_version}"
            )
        missing = [name for name in info.template if name not in entry.template]
        if missing:
            names = ", ".join("${" + name + "}" for name in missing)
            raise ExpansionError(f"{_where(entry)}: template: missing value for {names}")
        mode = info.event_mode
        events_per_job = entry.ev_per_run if mode in ("number", "run_number") else None
        duration_s = _duration_seconds(entry) if mode == "time" else None
        key = entry_key(
            entry.module, campaign.rat_version, campaign.ratdb_tag, entry.template,
            events_per_job, duration_s,
        )
        # Two entries with the same physics in one campaign (say, two run lists of one
        # module) must still own distinct slots: later duplicates get an ordinal suffix.
        occurrence = seen_keys.get(key, 0)
        seen_keys[key] = occurrence + 1
        if occurrence:
            key = f"{key}.{occurrence}"
        spec = EntrySpec(
            campaign=campaign.label,
            entry_key=key,
            position=entry.index,
            source=entry.source,
            module=entry.module,
            rat_version=campaign.rat_version,
            ratdb_tag=campaign.ratdb_tag,
            event_mode=mode,
            macro_path=info.path,
            outputs=tuple(info.outputs),
            other_suffix=info.other_suffix,
            template=tuple(sorted(entry.template.items())),
            priority=entry.priority if entry.priority is not None else campaign.priority,
            commit=commit,
            events_per_job=events_per_job,
            duration_s=duration_s,
            labels=campaign_labels(campaign),
        )
        entries.append(spec)
        if campaign.state == "cancelled":
            continue
        jobs.extend(
            DesiredJob(spec, run, index, events)
            for run, index, events in _job_shapes(entry, mode)
        )
    return DesiredCampaign(
        label=campaign.label,
        state=campaign.state,
        source=campaign.source,
        rat_version=campaign.rat_version,
        ratdb_tag=campaign.ratdb_tag,
        entries=tuple(entries),
        jobs=tuple(jobs),
        commit=commit,
        labels=campaign_labels(campaign),
    )


def expand_all(
    campaigns: Iterable[Campaign], catalogues: Mapping[str, Catalogue], commit: str | None
) -> list[DesiredCampaign]:
    """Expand every campaign, sorted by label, with the catalogue of its RAT version."""
    result = []
    for campaign in sorted(campaigns, key=lambda c: c.label):
        catalogue = catalogues.get(campaign.rat_version)
        if catalogue is None:
            raise ExpansionError(
                f"{campaign.source}: rat_version {campaign.rat_version}: no catalogue"
            )
        result.append(expand_campaign(campaign, catalogue, commit))
    return result
