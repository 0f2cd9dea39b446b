"""Checks that need more than one file: names, versions, sites, duplicate entries.

Pure: works on the parsed documents and records, reports into a sink.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.config.paths import JsonPath, human_path, json_path
from reconciler.config.yamlsource import YamlDoc
from reconciler.errors import Diagnostic, DiagnosticSink, Severity
from reconciler.model import Campaign, Entry, Site


@dataclass(frozen=True)
class Located:
    """A parsed file: its path relative to the repo root and its document."""

    rel: str
    doc: YamlDoc

    def error(self, sink: DiagnosticSink, path: JsonPath, message: str) -> None:
        sink.items.append(self.diagnostic(path, message, "error"))

    def warning(self, sink: DiagnosticSink, path: JsonPath, message: str) -> None:
        sink.items.append(self.diagnostic(path, message, "warning"))

    def diagnostic(self, path: JsonPath, message: str, severity: Severity) -> Diagnostic:
        """At the key or item `path`, named as in `modules[2] (WaterBi214Run): template`."""
        line, column = self.doc.mark(path)
        where = human_path(path, self.doc.data)
        text = f"{where}: {message}" if where else message
        return Diagnostic(self.rel, line, column, text, json_path(path), severity)


def did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_file_name(where: Located, key: str, kind: str, sink: DiagnosticSink) -> None:
    """The file name (without .yaml) must equal the label / version / name."""
    stem = where.rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    value = where.doc.data.get(key)
    if isinstance(value, str) and value != stem:
        where.error(
            sink,
            (key,),
            f"{value!r} does not match the file name {where.rel.rsplit('/', 1)[-1]!r}:"
            f" rename the file or change the {kind}",
        )


def check_campaign_names(
    where: Located,
    rat_version: str | None,
    chosen_sites: Sequence[object],
    rat_versions: list[str],
    sites: list[str],
    sink: DiagnosticSink,
) -> None:
    """The campaign's RAT version and sites must be declared (None / non-strings: skipped,
    their schema errors say what is wrong with them)."""
    if rat_version is not None and rat_version not in rat_versions:
        known = ", ".join(sorted(rat_versions)) or "none"
        where.error(
            sink,
            ("rat_version",),
            f"no rat-versions/{rat_version}.yaml declares RAT {rat_version}"
            f" (declared: {known})",
        )
    for index, name in enumerate(chosen_sites):
        if isinstance(name, str) and name not in sites:
            where.error(sink, ("sites", index), f"unknown site {name!r}{did_you_mean(name, sites)}")


def site_refusal(site: Site, campaign: Campaign) -> str | None:
    """Why the site would not run the campaign's jobs, or None when it would."""
    if not site.enabled:
        return f"{site.name} is disabled"
    if campaign.rat_version not in site.rat_locations:
        return f"{site.name} lacks {campaign.rat_version} in rat_locations"
    if site.accepts is not None and not site.accepts_campaign(campaign.label):
        return (
            f"{site.name} does not accept {campaign.label!r} (accepts: {', '.join(site.accepts)})"
        )
    return None


def check_site_coverage(
    where: Located, campaign: Campaign, sites: Mapping[str, Site], sink: DiagnosticSink
) -> None:
    """Some enabled, allowed site must have the campaign's RAT version, or jobs wait forever."""
    if campaign.state == "cancelled":
        return
    names = [n for n in campaign.sites if n in sites] if campaign.sites else sorted(sites)
    if campaign.sites and not names:
        return  # every listed site is unknown: reported as such already
    reasons = []
    for name in names:
        reason = site_refusal(sites[name], campaign)
        if reason is None:
            return
        reasons.append(reason)
    who = "none of the campaign's sites" if campaign.sites else "no enabled site"
    detail = "; ".join(reasons) if reasons else "no site is declared in sites/"
    where.error(
        sink,
        ("rat_version",),
        f"{who} can run RAT {campaign.rat_version} for this campaign,"
        f" so its jobs would wait forever: {detail}",
    )


def _physics(entry: Mapping[str, Any]) -> tuple[object, ...]:
    template = entry.get("template") or {}
    return (
        entry.get("module"),
        tuple(sorted(template.items())),
        entry.get("ev_per_run"),
        entry.get("t_run"),
        entry.get("t_format"),
    )


def check_duplicate_entries(
    where: Located, sink: DiagnosticSink, only: Sequence[int] | None = None
) -> None:
    """Two entries with the same module and physics would be one entry counted twice.

    `only`: the indexes of the schema-valid entries when the file has errors elsewhere.
    """
    first: dict[tuple[object, ...], int] = {}
    entries = where.doc.data.get("modules") or ()
    for index in range(len(entries)) if only is None else only:
        entry = entries[index]
        key = _physics(entry)
        if key in first:
            where.error(
                sink,
                ("modules", index),
                f"same module and physics (template, events per job, time per job)"
                f" as modules[{first[key]}]: merge the two entries or change the physics",
            )
        else:
            first[key] = index


def check_site_versions(
    where: Located, site: Site, rat_versions: list[str], sink: DiagnosticSink
) -> None:
    for version in site.rat_locations:
        if version not in rat_versions:
            where.warning(
                sink,
                ("rat_locations", version),
                f"RAT {version} has no rat-versions/{version}.yaml: no campaign can use it here",
            )


def check_site_env(where: Located, site: Site, sink: DiagnosticSink) -> None:
    """The reconciler's own variables (the database URL and its credentials) never
    reach a job, so a site file may not hand them over either."""
    for name in site.env:
        if name.startswith("MCPROD_"):
            where.error(sink, ("env", name), "MCPROD_ variables belong to the"
                        " reconciler and never reach a job; remove it")


BIG_CAMPAIGN_JOBS = 1000


def entry_job_count(entry: Entry) -> int:
    """How many jobs one entry declares (the rules of DOMAIN.md); arithmetic only."""
    per_run = -(-entry.n_ev // entry.ev_per_run) if entry.n_ev and entry.ev_per_run else None
    if entry.run_numbers is not None:
        return len(entry.run_numbers) * (per_run or 1)
    if per_run is not None:
        return per_run
    return entry.n_runs or 0


def job_count(campaign: Campaign) -> int:
    """How many jobs the campaign declares."""
    return sum(entry_job_count(entry) for entry in campaign.modules)


def check_job_caps(where: Located, campaign: Campaign, sink: DiagnosticSink) -> None:
    """Counted before anything is expanded, so a typo cannot exhaust memory anywhere."""
    cap = campaign.max_jobs
    raise_it = f"lower the counts, or raise max_jobs (now {cap:,}) in the campaign on purpose"
    entry_over = False
    for index, entry in enumerate(campaign.modules):
        jobs = entry_job_count(entry)
        if jobs > cap:
            entry_over = True
            where.error(sink, ("modules", index), f"makes {jobs:,} jobs, more than the cap of"
                        f" {cap:,} jobs per entry: {raise_it}")
    total = job_count(campaign)
    if total > cap and not entry_over:  # one entry over the cap already says it
        where.error(sink, ("label",), f"the campaign makes {total:,} jobs, more than the cap of"
                    f" {cap:,}: {raise_it}")


def check_frozen_ratdb(where: Located, campaign: Campaign, sink: DiagnosticSink) -> None:
    """A big campaign without a frozen RATDB tag can change physics half-way."""
    jobs = job_count(campaign)
    if campaign.ratdb_tag is None and jobs > BIG_CAMPAIGN_JOBS and campaign.state != "cancelled":
        where.warning(
            sink,
            ("label",),
            f"no ratdb_tag for a campaign of {jobs:,} jobs: a RATDB table uploaded"
            " mid-campaign would change its physics; freeze one with ratdb_tag",
        )
