"""Load and validate a repository: every YAML file, run lists, cross-file checks.

All problems of a run are collected; a file with errors is left out of the model
and of the checks that would only repeat its errors. The model is returned only
when there are no errors at all.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.config.crosscheck import (
    Located,
    check_campaign_names,
    check_duplicate_entries,
    check_file_name,
    check_frozen_ratdb,
    check_job_caps,
    check_site_coverage,
    check_site_env,
    check_site_versions,
)
from reconciler.config.filecheck import unreadable_reason
from reconciler.config.modulecheck import check_entries_against
from reconciler.config.paths import JsonPath, json_path
from reconciler.config.ratdbcheck import check_ratdb_tag, check_run_mode_ratdb, check_tag_args
from reconciler.config.records import build_campaign, build_entry, build_rat_version, build_site
from reconciler.config.runlist import read_run_list
from reconciler.config.schema import Kind, schema_problems
from reconciler.config.sizecheck import check_job_sizes
from reconciler.config.yamlsource import read_yaml_file
from reconciler.errors import Diagnostic, DiagnosticSink, InvalidRepository
from reconciler.model import Campaign, Catalogue, DeclaredRepo, Entry, RatVersion, Site

FOLDERS: dict[Kind, str] = {"campaign": "campaigns", "rat-version": "rat-versions", "site": "sites"}
_EXPECTED = {
    "campaign": "a campaign mapping (label, rat_version, modules, ...)",
    "rat-version": "a RAT version mapping (version, env, phases, ...)",
    "site": "a site mapping (name, backend, rat_locations, storage, ...)",
}
YAML_SUFFIXES = (".yaml", ".yml")
IGNORED_SUFFIXES = (".md", ".txt", ".rst")  # notes for people, not declarations


@dataclass
class LoadResult:
    repo: DeclaredRepo | None
    diagnostics: list[Diagnostic]
    files_checked: int
    # The campaigns with no error in their own file or RAT version file (even when
    # other files have errors): what `plan --label` can still plan.
    sound: DeclaredRepo | None = None


@dataclass
class _State:
    root: Path
    sink: DiagnosticSink = field(default_factory=DiagnosticSink)
    files_checked: int = 0
    # Stems of every declared file, valid or not, so one bad file does not cascade.
    declared: dict[Kind, list[str]] = field(default_factory=dict)
    valid: dict[Kind, list[Located]] = field(default_factory=dict)
    # Files that parsed but have errors, with the paths of those errors: the checks
    # that do not depend on a bad part still run on them (one pass finds everything).
    flawed: dict[Kind, list[tuple[Located, frozenset[JsonPath]]]] = field(default_factory=dict)
    run_lists: dict[Path, tuple[tuple[int, ...], bool]] = field(default_factory=dict)
    # Resolving symlinks costs a system call per path component: once per name.
    resolved: dict[str, Path] = field(default_factory=dict)

    @functools.cached_property
    def resolved_root(self) -> Path:
        return self.root.resolve()


def _load_kind(state: _State, kind: Kind) -> None:
    folder = state.root / FOLDERS[kind]
    state.declared[kind] = []
    state.valid[kind] = []
    state.flawed[kind] = []
    if folder.is_symlink():
        state.sink.error(FOLDERS[kind], 1, 1, f"is a symbolic link; {FOLDERS[kind]}/ must be"
                         " a folder of the repository itself")
        return
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name.endswith(IGNORED_SUFFIXES):
            continue
        if not path.name.endswith(YAML_SUFFIXES):
            state.sink.warning(
                f"{FOLDERS[kind]}/{path.name}",
                1,
                1,
                "not a .yaml file, so it is not read: rename it to .yaml or move it away",
            )
            continue
        rel = f"{FOLDERS[kind]}/{path.name}"
        state.files_checked += 1
        stem = path.name.rsplit(".", 1)[0]
        if stem in state.declared[kind]:
            state.sink.error(
                rel, 1, 1, f"{stem}.yaml and {path.name} both declare {stem!r}: keep one of them"
            )
            continue
        state.declared[kind].append(stem)
        refused = unreadable_reason(path)
        if refused is not None:
            state.sink.error(rel, 1, 1, refused)
            continue
        doc, problems = read_yaml_file(path, _EXPECTED[kind])
        errors_before = len(state.sink.items)
        for problem in problems:
            state.sink.error(
                rel, problem.line, problem.column, problem.message, json_path(problem.path)
            )
        if doc is None:
            continue
        unreadable = {problem.path for problem in problems}
        bad = set(unreadable)
        for location, pointer, message in schema_problems(kind, doc):
            if location in unreadable:
                continue  # already reported as unreadable; its stand-in null says nothing
            line, column = doc.mark(location)
            state.sink.error(rel, line, column, message, pointer)
            bad.add(location)
        if len(state.sink.items) == errors_before:
            state.valid[kind].append(Located(rel, doc))
        elif isinstance(doc.data, dict):
            state.flawed[kind].append((Located(rel, doc), frozenset(bad)))


def _resolve_run_list(
    state: _State, where: Located, index: int, name: str
) -> tuple[int, ...] | None:
    """The runs of an entry's runlist, or None after reporting why not."""
    path_key: tuple[str | int, ...] = ("modules", index, "runlist")
    if Path(name).is_absolute():
        where.error(
            state.sink, path_key, f"{name!r} must be a path relative to the repository root"
        )
        return None
    root = state.resolved_root
    refused = unreadable_reason(state.root / name, "a run list")
    if refused is not None and (state.root / name).exists():
        where.error(state.sink, path_key, f"{name!r} {refused}")
        return None
    target = state.resolved.get(name)
    if target is None:
        target = state.resolved[name] = (root / name).resolve()
    if not target.is_relative_to(root):
        where.error(state.sink, path_key, f"{name!r} points outside the repository")
        return None
    if not target.exists():
        where.error(state.sink, path_key, f"{name!r} does not exist")
        return None
    if not target.is_file():
        where.error(state.sink, path_key, f"{name!r} is a directory, expected a run list file")
        return None
    if target not in state.run_lists:
        state.files_checked += 1
        runs, problems = read_run_list(target)
        rel = target.relative_to(root).as_posix()
        for problem in problems:
            state.sink.error(rel, problem.line, problem.column, problem.message)
        if not runs and not problems:
            where.error(state.sink, path_key, f"{name!r} holds no run numbers")
        state.run_lists[target] = (runs, bool(problems) or not runs)
    runs, bad = state.run_lists[target]
    return None if bad else runs


def _campaign(state: _State, where: Located) -> Campaign | None:
    entries: list[Entry] = []
    ok = True
    for index, data in enumerate(where.doc.data["modules"]):
        runs: tuple[int, ...] | None = None
        if "run_numbers" in data:
            runs = tuple(data["run_numbers"])
        elif "runlist" in data:
            runs = _resolve_run_list(state, where, index, data["runlist"])
            ok = ok and runs is not None
        entries.append(build_entry(where.rel, where.doc, index, data, runs))
    return build_campaign(where.rel, where.doc, tuple(entries)) if ok else None


CatalogueFinder = Callable[[RatVersion, Path], tuple[Catalogue | None, list[Diagnostic]]]
"""How module checks reach a RAT version's catalogue: the catalogue and the problems
found building it, (None, []) when there is none. Callers above this layer pass one
(`reconciler.catalogue.generate.release_catalogues`), so that loading a repository
needs no catalogue code and the catalogue builder needs no loader."""


def _catalogue_for(
    rat: RatVersion,
    where: Located,
    catalogues: CatalogueFinder,
    repo_root: Path,
    sink: DiagnosticSink,
) -> Catalogue | None:
    """The version's catalogue; warn once when there is none."""
    catalogue, found = catalogues(rat, repo_root)
    sink.items.extend(found)
    if catalogue is None and not found:
        where.warning(
            sink,
            ("env",),
            f"no RAT release found from this path, so module checks for RAT {rat.version}"
            f" were skipped (pass --rat-root {rat.version}=DIR to check them)",
        )
    return catalogue


def _git_commit(root: Path) -> str | None:
    return git_state(root)[0]


DECLARED_FOLDERS = ("campaigns", "rat-versions", "sites", "runlists")


def git_state(root: Path) -> tuple[str | None, list[str]]:
    """HEAD's commit and the declared files changed since it (tracked or not).

    Jobs are stamped with the commit that declared them; a file changed but not
    committed would make that stamp a lie, so callers refuse or mark it. Asked of
    git itself (two short commands): importing gitpython cost more than both.
    """
    if not (root / ".git").exists():
        return None, []
    head = _git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}")
    if head is None or not head.strip():
        return None, []
    folders = [f for f in DECLARED_FOLDERS if (root / f).exists()]
    status = _git(root, "status", "--porcelain", "--", *folders) if folders else ""
    if status is None:
        return None, []
    changed = [line[3:] for line in status.splitlines() if len(line) > 3]
    return head.strip(), changed


def _git(root: Path, *args: str) -> str | None:
    """A git command's output in `root`, or None when it fails (not a repository)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None


@contextlib.contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Loading builds a great many small acyclic objects; the cycle collector would
    scan them again and again for nothing (about an eighth of the time on a big
    repository). Reference counting still frees everything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def validate_repository(root: Path, *, catalogues: CatalogueFinder | None = None) -> LoadResult:
    """Everything `mcprod validate` reports, plus the model when it is valid.

    Module checks run when `catalogues` is given.
    """
    with _without_cyclic_gc():
        return _validate(root, catalogues)


def _validate(root: Path, catalogues: CatalogueFinder | None) -> LoadResult:
    state = _State(root)
    if not root.is_dir():
        what = "not a directory" if root.exists() else "no such directory"
        state.sink.error(str(root), 1, 1, f"{what}: pass --repo with a repository folder")
        return LoadResult(None, state.sink.items, 0)
    if not any((root / folder).is_dir() for folder in FOLDERS.values()):
        state.sink.error(
            str(root),
            1,
            1,
            "not an mcprod repository: no campaigns/, rat-versions/ or sites/ folder",
        )
        return LoadResult(None, state.sink.items, 0)
    for kind in FOLDERS:
        _load_kind(state, kind)
    sink = state.sink

    rat_versions: dict[str, RatVersion] = {}
    rat_files: dict[str, Located] = {}
    for where in state.valid["rat-version"]:
        check_file_name(where, "version", "version", sink)
        rat = build_rat_version(where.rel, where.doc)
        rat_versions[rat.version] = rat
        rat_files[rat.version] = where
        check_tag_args(where, rat, sink)
    sites: dict[str, Site] = {}
    for where in state.valid["site"]:
        check_file_name(where, "name", "name", sink)
        site = build_site(where.rel, where.doc)
        sites[site.name] = site
        check_site_versions(where, site, state.declared["rat-version"], sink)
        check_site_env(where, site, sink)
    all_sites_valid = len(sites) == len(state.declared["site"])

    campaigns: dict[str, Campaign] = {}
    checked: list[_ModuleTarget] = []
    for where in state.valid["campaign"]:
        check_file_name(where, "label", "label", sink)
        check_duplicate_entries(where, sink)
        data = where.doc.data
        check_campaign_names(
            where, data["rat_version"], data.get("sites") or (),
            state.declared["rat-version"], state.declared["site"], sink,
        )
        checked.append(_ModuleTarget(where, data["rat_version"], range(len(data["modules"]))))
        campaign = _campaign(state, where)
        if campaign is None:
            continue
        campaigns[campaign.label] = campaign
        check_frozen_ratdb(where, campaign, sink)
        check_job_caps(where, campaign, sink)
        check_ratdb_tag(where, campaign, rat_versions, sink)
        if all_sites_valid and campaign.rat_version in state.declared["rat-version"]:
            check_site_coverage(where, campaign, sites, sink)
            check_run_mode_ratdb(where, campaign, sites, sink)
            check_job_sizes(where, campaign, rat_versions.get(campaign.rat_version), sites, sink)
    for where, bad in state.flawed["campaign"]:
        target = _check_flawed_campaign(state, where, bad)
        if target is not None:
            checked.append(target)

    if catalogues is not None:
        _check_modules(checked, rat_versions, rat_files, catalogues, root, sink)

    repo = None
    commit = _git_commit(root)
    if not sink.has_errors():
        repo = DeclaredRepo(root.resolve(), campaigns, rat_versions, sites, commit=commit)
    spoiled = {d.file for d in sink.items if d.severity == "error"}
    usable = {
        label: campaign
        for label, campaign in campaigns.items()
        if campaign.source.file not in spoiled
        and campaign.rat_version in rat_versions
        and rat_files[campaign.rat_version].rel not in spoiled
    }
    sound = DeclaredRepo(root.resolve(), usable, rat_versions, sites, commit=commit)
    return LoadResult(repo, sink.items, state.files_checked, sound)


@dataclass(frozen=True)
class _ModuleTarget:
    """Entries of one campaign file to check against its RAT version's catalogue."""

    where: Located
    rat_version: str
    entries: Sequence[int]


def _sound_entries(data: dict[str, Any], bad: frozenset[JsonPath]) -> tuple[int, ...]:
    """Indexes of the entries with no error inside them (in a file that has some)."""
    modules = data.get("modules")
    if not isinstance(modules, list) or ("modules",) in bad:
        return ()
    spoiled = {path[1] for path in bad if len(path) > 1 and path[0] == "modules"}
    return tuple(
        index
        for index, entry in enumerate(modules)
        if isinstance(entry, dict) and index not in spoiled
    )


def _check_flawed_campaign(
    state: _State, where: Located, bad: frozenset[JsonPath]
) -> _ModuleTarget | None:
    """The checks a campaign file with schema errors can still have, on its sound parts.

    Its errors make a campaign record (and so job counts and site coverage) meaningless,
    but a misspelt site, a missing run list or a module typo in another entry is just
    as wrong, and finding it only after the first fix costs a round trip.
    """
    sink = state.sink
    data: dict[str, Any] = where.doc.data
    sound = _sound_entries(data, bad)
    if ("label",) not in bad:
        check_file_name(where, "label", "label", sink)
    check_duplicate_entries(where, sink, only=sound)
    version = data.get("rat_version")
    version = version if isinstance(version, str) and ("rat_version",) not in bad else None
    sites = data.get("sites")
    sound_sites = sites if isinstance(sites, list) and ("sites",) not in bad else ()
    check_campaign_names(
        where, version, sound_sites, state.declared["rat-version"], state.declared["site"], sink
    )
    for index in sound:
        name = data["modules"][index].get("runlist")
        if isinstance(name, str):
            _resolve_run_list(state, where, index, name)
    return _ModuleTarget(where, version, sound) if version is not None and sound else None


def _check_modules(
    checked: list[_ModuleTarget],
    rat_versions: Mapping[str, RatVersion],
    rat_files: Mapping[str, Located],
    catalogues: CatalogueFinder,
    root: Path,
    sink: DiagnosticSink,
) -> None:
    """Every declared release is checked when it can be reached, used or not (a new
    rat-versions file is checked in the pull request that adds it); campaigns are
    checked against the catalogue of the version they use."""
    by_version: dict[str, list[_ModuleTarget]] = {}
    for target in checked:
        by_version.setdefault(target.rat_version, []).append(target)
    for version in sorted(rat_versions):
        rat = rat_versions[version]
        if version not in by_version:
            _catalogue, found = catalogues(rat, root)
            sink.items.extend(found)
            continue
        catalogue = _catalogue_for(rat, rat_files[version], catalogues, root, sink)
        if catalogue is None:
            continue
        for target in by_version[version]:
            check_entries_against(target.where, catalogue, sink, only=target.entries)


def load_repository(
    root: Path, *, catalogues: CatalogueFinder | None = None
) -> tuple[DeclaredRepo | None, list[Diagnostic]]:
    """The declared model (None when there are errors) and every diagnostic."""
    result = validate_repository(root, catalogues=catalogues)
    return result.repo, result.diagnostics


def require_valid(root: Path, *, catalogues: CatalogueFinder | None = None) -> DeclaredRepo:
    """The declared model, or `InvalidRepository` carrying every diagnostic."""
    repo, diagnostics = load_repository(root, catalogues=catalogues)
    if repo is None:
        raise InvalidRepository(diagnostics)
    return repo
