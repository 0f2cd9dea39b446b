"""Choose the module catalogue of each RAT version that campaigns use.

In order: a release tree given with `--rat-root V=DIR`, the release implied by the
version's `env` path when it is on disk, the catalogue published in the store
(`production_information:<version>`). Only versions some campaign uses are looked up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.catalogue.generate import build_catalogue, find_release_root
from reconciler.catalogue.render import catalogue_from_json
from reconciler.documents import Doc, catalogue_id
from reconciler.errors import Diagnostic, InvalidRepository, McprodError
from reconciler.model import Catalogue, DeclaredRepo, RatVersion

PUBLISHED_FIELDS = ("rat_version", "modules", "content_hash")


@dataclass(frozen=True)
class ChosenCatalogue:
    catalogue: Catalogue
    origin: str  # shown in reports: where the module dictionary came from


def _from_release(rat: RatVersion, root: Path, repo_root: Path, origin: str) -> ChosenCatalogue:
    catalogue, diagnostics = build_catalogue(rat, root, repo_root)
    if catalogue is None:
        raise InvalidRepository(diagnostics)
    return ChosenCatalogue(catalogue, origin)


def choose_catalogues(
    repo: DeclaredRepo,
    rat_roots: Mapping[str, Path],
    published: Callable[[str], Doc | None],
) -> dict[str, ChosenCatalogue]:
    """`published(doc_id)` reads a document from the store (None when absent)."""
    chosen: dict[str, ChosenCatalogue] = {}
    missing: list[Diagnostic] = []
    used = sorted({campaign.rat_version for campaign in repo.campaigns.values()})
    for version in used:
        rat = repo.rat_versions.get(version)
        if rat is not None and version in rat_roots:
            chosen[version] = _from_release(
                rat, rat_roots[version], repo.root, f"--rat-root {rat_roots[version]}"
            )
            continue
        release = find_release_root(rat) if rat is not None else None
        if rat is not None and release is not None:
            chosen[version] = _from_release(rat, release, repo.root, f"release {release}")
            continue
        doc = published(catalogue_id(version))
        if doc is not None:
            data = {name: doc.get(name) for name in PUBLISHED_FIELDS}
            chosen[version] = ChosenCatalogue(
                catalogue_from_json(data), f"published {catalogue_id(version)}"
            )
            continue
        first = min(
            (c for c in repo.campaigns.values() if c.rat_version == version),
            key=lambda c: c.label,
        )
        missing.append(
            Diagnostic(
                first.source.file,
                first.source.line,
                first.source.column,
                f"rat_version {version}: no module catalogue; give "
                f"--rat-root {version}=DIR, install the release where its env script says, "
                "or publish it with `mcprod publish`",
                "$.rat_version",
            )
        )
    if missing:
        # Every version without a catalogue at once, not only the first.
        raise InvalidRepository(missing)
    return chosen


Finder = Callable[[RatVersion, Path], tuple[Catalogue | None, list[Diagnostic]]]


def with_published_fallback(
    on_disk: Finder, published: Callable[[str], Doc | None], sources: dict[str, str]
) -> Finder:
    """Module checks from a release on disk, else from the catalogue published in the store.

    `published(doc_id)` only reads. `sources` collects, per RAT version, where its
    module dictionary came from, so the caller can say it: a published catalogue is
    what the sites use, but it is as old as the last `mcprod publish`.
    """

    def find(rat: RatVersion, repo_root: Path) -> tuple[Catalogue | None, list[Diagnostic]]:
        catalogue, found = on_disk(rat, repo_root)
        if catalogue is not None or found:
            return catalogue, found
        doc_id = catalogue_id(rat.version)
        doc = published(doc_id)
        if doc is None:
            return None, []
        try:
            catalogue = catalogue_from_json({name: doc.get(name) for name in PUBLISHED_FIELDS})
        except McprodError as exc:  # the store is untrusted input: report, do not check
            where = rat.source
            return None, [
                Diagnostic(
                    where.file, where.line, where.column,
                    f"the published {doc_id} cannot be used for module checks ({exc});"
                    " publish it again with `mcprod publish`",
                    severity="warning",
                )
            ]
        if catalogue.rat_version != rat.version:
            return None, []
        commit = doc.get("commit")
        sources[rat.version] = f"the catalogue published in the store ({doc_id}" + (
            f", commit {str(commit)[:12]})" if isinstance(commit, str) else ")"
        )
        return catalogue, []

    return find
