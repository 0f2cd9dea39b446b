"""Publish every RAT version's catalogue (production_information) to the store.

All catalogues are built and checked before anything is written, so a failing
version never leaves the store with half of a publication. A catalogue whose
content hash equals the published one is not rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reconciler.catalogue.generate import build_catalogue, find_release_root
from reconciler.catalogue.render import legacy_py, modules_as_dict
from reconciler.documents import catalogue_id, now_iso
from reconciler.errors import Diagnostic, DiagnosticSink, InvalidRepository
from reconciler.model import Catalogue, DeclaredRepo, RatVersion
from reconciler.store.interface import Store

PublishStatus = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class PublishOutcome:
    rat_version: str
    status: PublishStatus
    content_hash: str
    module_count: int


def legacy_file_name(rat_version: str) -> str:
    return "production_information_" + rat_version.replace(".", "_") + ".py"


def build_all(
    repo: DeclaredRepo, rat_roots: Mapping[str, Path]
) -> tuple[dict[str, Catalogue], list[Diagnostic]]:
    """Build the catalogue of every declared RAT version; diagnostics for those that fail."""
    sink = DiagnosticSink()
    catalogues: dict[str, Catalogue] = {}
    for version, rat in sorted(repo.rat_versions.items()):
        release = rat_roots.get(version) or find_release_root(rat)
        if release is None:
            sink.error(
                rat.source.file,
                rat.source.line,
                rat.source.column,
                f"RAT {version}: no release found at the env path {rat.env}; "
                f"pass --rat-root {version}=DIR",
            )
            continue
        catalogue, diagnostics = build_catalogue(rat, release, repo.root)
        sink.items.extend(diagnostics)
        if catalogue is not None:
            catalogues[version] = catalogue
    return catalogues, sink.items


def dropped_modules(repo: DeclaredRepo, catalogues: Mapping[str, Catalogue]) -> list[Diagnostic]:
    """Modules that campaigns still use (any campaign not cancelled) but a new catalogue lacks."""
    sink = DiagnosticSink()
    for campaign in sorted(repo.campaigns.values(), key=lambda c: c.label):
        if campaign.state == "cancelled" or campaign.rat_version not in catalogues:
            continue
        modules = catalogues[campaign.rat_version].modules
        for entry in campaign.modules:
            if entry.module not in modules:
                rat: RatVersion = repo.rat_versions[campaign.rat_version]
                sink.error(
                    rat.source.file,
                    rat.source.line,
                    rat.source.column,
                    f"RAT {campaign.rat_version}: the new catalogue has no module {entry.module}, "
                    f"which {campaign.state} campaign {campaign.label} still uses "
                    f"({entry.source}); refusing to publish: keep the macro or cancel "
                    "the campaign",
                )
    return sink.items


def catalogue_document(catalogue: Catalogue, commit: str | None) -> dict[str, object]:
    return {
        "_id": catalogue_id(catalogue.rat_version),
        "type": "production_information",
        "rat_version": catalogue.rat_version,
        "modules": modules_as_dict(catalogue),
        "content_hash": catalogue.content_hash,
        "commit": commit,
        "generated_at": now_iso(),
    }


def write_catalogues(
    store: Store, catalogues: Mapping[str, Catalogue], commit: str | None
) -> list[PublishOutcome]:
    outcomes: list[PublishOutcome] = []
    for version, catalogue in sorted(catalogues.items()):
        document = catalogue_document(catalogue, commit)
        result = store.create(document)
        status: PublishStatus = "created"
        if not result.created:
            existing = result.doc
            if existing.get("content_hash") == catalogue.content_hash:
                status = "unchanged"
            else:
                store.update({**document, "_rev": existing["_rev"]})
                status = "updated"
        outcomes.append(
            PublishOutcome(version, status, catalogue.content_hash, len(catalogue.modules))
        )
    return outcomes


def write_legacy_files(catalogues: Mapping[str, Catalogue], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for version, catalogue in sorted(catalogues.items()):
        path = out_dir / legacy_file_name(version)
        path.write_text(legacy_py(catalogue), encoding="utf-8")
        written.append(path)
    return written


def prepare(repo: DeclaredRepo, rat_roots: Mapping[str, Path]) -> dict[str, Catalogue]:
    """Build and check every catalogue; raise with every problem when any fails."""
    catalogues, diagnostics = build_all(repo, rat_roots)
    diagnostics += dropped_modules(repo, catalogues)
    if any(d.severity == "error" for d in diagnostics):
        raise InvalidRepository(diagnostics)
    return catalogues
