"""Checks between campaigns, RAT versions and sites about RATDB (pure).

- A campaign's `ratdb_tag` reaches RAT only in the form its RAT version's file
  declares (`ratdb: {tag_args: [...]}`): mcprod never guesses an option.
- Run-by-run jobs (`run`, `run_number` modes) simulate real run conditions read from
  RATDB, so every site that would run them must declare its RATDB server.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.config.crosscheck import Located, site_refusal
from reconciler.errors import DiagnosticSink
from reconciler.model import TAG_PLACEHOLDER, Campaign, RatVersion, Site


def check_tag_args(where: Located, rat: RatVersion, sink: DiagnosticSink) -> None:
    args = rat.ratdb_tag_args
    if args is not None and not any(TAG_PLACEHOLDER in arg for arg in args):
        where.error(
            sink,
            ("ratdb", "tag_args"),
            f"no argument holds the {TAG_PLACEHOLDER} placeholder, so the tag would never"
            " reach RAT",
        )


def check_ratdb_tag(
    where: Located, campaign: Campaign, rat_versions: Mapping[str, RatVersion],
    sink: DiagnosticSink,
) -> None:
    rat = rat_versions.get(campaign.rat_version)
    if campaign.ratdb_tag is None or rat is None or rat.ratdb_tag_args is not None:
        return
    where.error(
        sink,
        ("ratdb_tag",),
        f"{rat.source.file} declares no way to give RAT {rat.version} a RATDB tag: add"
        f" `ratdb: {{tag_args: [...]}}` there (the release's option, with {TAG_PLACEHOLDER}),"
        " or remove ratdb_tag",
    )


def check_run_mode_ratdb(
    where: Located, campaign: Campaign, sites: Mapping[str, Site], sink: DiagnosticSink
) -> None:
    """Every site that would take the campaign's run-by-run jobs must declare RATDB."""
    if campaign.state == "cancelled":
        return
    names = [n for n in campaign.sites if n in sites] if campaign.sites else sorted(sites)
    without = [
        sites[n] for n in names
        if site_refusal(sites[n], campaign) is None
        and not (sites[n].ratdb or sites[n].ratdb_url_file)
    ]
    if not without:
        return
    for index, entry in enumerate(campaign.modules):
        if entry.run_numbers is None:
            continue  # generic MC: no run conditions to read
        for site in without:
            where.error(
                sink,
                ("modules", index),
                f"run-by-run jobs need RATDB: site {site.name} declares none (add ratdb: to"
                f" {site.source.file}, or leave the site out with the campaign's sites:)",
            )
