"""Build a RAT release's module catalogue from its macro folders.

Scanning is the only I/O here; names come from `naming`, facts from `macro`.
Every problem is collected as a `Diagnostic` and reported together; when there
is any error no catalogue is returned, so nothing half-right is ever written.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from reconciler.catalogue.macro import (
    NTUPLE_PROCESSOR,
    RATDS_PROCESSOR,
    MacroFacts,
    NotText,
    analyse_macro,
    decode_macro,
)
from reconciler.catalogue.naming import MACRO_SUFFIX, module_name
from reconciler.catalogue.render import content_hash_of
from reconciler.errors import Diagnostic, DiagnosticSink
from reconciler.model import (
    Catalogue,
    EventMode,
    ModuleInfo,
    OutputKind,
    Phase,
    RatVersion,
    SourceRef,
)

# The campaign schema's pattern for `module`.
MODULE_NAME = re.compile(r"[A-Za-z0-9_+-]+")

ReleaseCatalogues = Callable[[RatVersion, Path], tuple[Catalogue | None, list[Diagnostic]]]

Locate = Callable[[str, str], SourceRef]
"""Where `section.name` (phases.water, overrides.X) is written in the rat-version file."""


@dataclass(frozen=True)
class FoundMacro:
    phase: Phase
    path: str
    """Path relative to the release root, with `/` separators."""
    parts: tuple[str, ...]
    """Path below the phase folder, file name last."""


def find_release_root(rat: RatVersion) -> Path | None:
    """The release folder implied by the version's `env` script, if it is on disk.

    CVMFS installs `sw/<v>/env_rat-<v>.sh` beside the tree `sw/<v>/rat-<v>/`; a
    local install keeps the script in the release folder itself.
    """
    env_folder = Path(rat.env).parent
    for candidate in (env_folder / f"rat-{rat.version}", env_folder):
        if candidate.is_dir():
            return candidate
    return None


def release_catalogues(rat_roots: Mapping[str, Path] | None = None) -> ReleaseCatalogues:
    """Module checks against releases on disk: `--rat-root` first, else the `env` path."""
    roots = dict(rat_roots or {})

    def find(rat: RatVersion, repo_root: Path) -> tuple[Catalogue | None, list[Diagnostic]]:
        release = roots.get(rat.version) or find_release_root(rat)
        if release is None:
            return None, []
        return build_catalogue(rat, release, repo_root)

    return find


def build_catalogue(
    rat: RatVersion, release_root: Path, repo_root: Path | None = None
) -> tuple[Catalogue | None, list[Diagnostic]]:
    sink = DiagnosticSink()
    shown_root = _shown_root(release_root, repo_root)
    locate = rat.locate
    macros = _scan_phases(rat, release_root, shown_root, locate, sink)
    modules: dict[str, ModuleInfo] = {}
    first_path: dict[str, str] = {}
    generators: set[str] = set()
    for found in macros:
        name = module_name(found.phase.prefix, found.parts)
        shown = f"{shown_root}/{found.path}"
        if name in first_path:
            sink.error(
                shown, 1, 1,
                f"module name {name} is also produced by {shown_root}/{first_path[name]}; "
                "rename one of the two macros",
            )
            continue
        first_path[name] = found.path
        if not MODULE_NAME.fullmatch(name):
            sink.warning(
                shown, 1, 1,
                f"module name {name!r} has characters a campaign cannot name (letters, digits, "
                "_ + - only): rename the macro to use it",
            )
        facts = _read_facts(release_root / found.path, shown, sink)
        if facts is not None:
            generators.update(facts.generators)
            modules[name] = _classify(name, found.path, facts, rat, shown, sink)
    _check_overrides(rat, first_path, locate, sink)
    _check_benchmarks(rat, first_path, locate, sink)
    if not sink.has_errors():  # with a folder missing, an unused generator proves nothing
        _check_internal_rate(rat, generators, sink)
    if sink.has_errors():
        return None, sink.items
    ordered = {name: modules[name] for name in sorted(modules)}
    return Catalogue(rat.version, ordered, content_hash_of(ordered)), sink.items


def _shown_root(release_root: Path, repo_root: Path | None) -> str:
    """How macro paths are shown in diagnostics: relative to the repo when inside it."""
    if repo_root is not None:
        try:
            return release_root.resolve().relative_to(repo_root.resolve()).as_posix() or "."
        except ValueError:
            pass
    return release_root.as_posix()



def _scan_phases(
    rat: RatVersion, release_root: Path, shown_root: str, locate: Locate, sink: DiagnosticSink
) -> list[FoundMacro]:
    found: list[FoundMacro] = []
    for phase in sorted(rat.phases, key=lambda p: p.name):
        phase_dir = release_root / phase.dir
        if not phase_dir.is_dir():
            what = "is not a folder" if phase_dir.exists() else "does not exist"
            where = locate("phases", phase.name)
            sink.error(
                where.file, where.line, where.column,
                f"phases.{phase.name}: macro folder {phase.dir} {what} in the release "
                f"{shown_root}",
                f"$.phases.{phase.name}.dir",
            )
            continue
        for parts in _macros_below(phase_dir):
            path = PurePosixPath(phase.dir, *parts).as_posix()
            found.append(FoundMacro(phase, path, parts))
    # Sorted by path so that "first" and "second" of a duplicate never depend on disk order.
    found.sort(key=lambda m: (m.path, m.phase.name))
    return found


def _macros_below(folder: Path) -> list[tuple[str, ...]]:
    result: list[tuple[str, ...]] = []
    # Symlinked folders are not followed: a link loop must not hang generate.
    for dirpath, _dirnames, filenames in os.walk(folder):
        below = Path(dirpath).relative_to(folder).parts
        result.extend((*below, f) for f in filenames if f.endswith(MACRO_SUFFIX))
    return result


def _read_facts(path: Path, shown: str, sink: DiagnosticSink) -> MacroFacts | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if path.is_symlink() and not path.exists():
            reason = f"broken symbolic link to {os.readlink(path)}"
        sink.error(shown, 1, 1, f"cannot read macro: {reason}")
        return None
    text = decode_macro(data)
    if isinstance(text, NotText):
        sink.error(
            shown, text.line, text.column,
            f"macro is not UTF-8 text ({text.reason}); fix or remove the file",
        )
        return None
    return analyse_macro(text)


def _classify(
    name: str, path: str, facts: MacroFacts, rat: RatVersion, shown: str, sink: DiagnosticSink
) -> ModuleInfo:
    override = rat.overrides.get(name)
    event_mode: EventMode
    if override is not None and override.event_mode is not None:
        event_mode = override.event_mode
    elif name.endswith("Run"):
        event_mode = "run"
    elif facts.sets_rate or any(g in rat.internal_rate for g in facts.generators):
        event_mode = "time"
    else:
        event_mode = "number"
    outputs: tuple[OutputKind, ...]
    if override is not None and override.outputs is not None:
        outputs = override.outputs
    else:
        scanned: list[OutputKind] = []
        if RATDS_PROCESSOR in facts.processors:
            scanned.append("ratds")
        if NTUPLE_PROCESSOR in facts.processors:
            scanned.append("ntuple")
        outputs = tuple(scanned)
        if not outputs:
            sink.warning(
                shown, 1, 1,
                f"module {name} declares no output (no /rat/proc outroot or outntuple): "
                "its jobs would store nothing",
            )
    return ModuleInfo(
        event_mode=event_mode,
        path=path,
        outputs=outputs,
        template=facts.placeholders,
        other_suffix=override.other_suffix if override is not None else None,
    )


def _check_overrides(
    rat: RatVersion, known: dict[str, str], locate: Locate, sink: DiagnosticSink
) -> None:
    for name in sorted(rat.overrides):
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        where = locate("overrides", name)
        sink.error(
            where.file, where.line, where.column,
            f"overrides.{name}: no macro of the release produces this module{hint}",
            f"$.overrides.{name}",
        )


def _check_benchmarks(
    rat: RatVersion, known: dict[str, str], locate: Locate, sink: DiagnosticSink
) -> None:
    """A benchmark named after a module the release does not have would be ignored:
    that module's cost would silently come from `default`."""
    for name in sorted(rat.benchmarks):
        if name == "default" or name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        where = locate("benchmarks", name)
        sink.error(
            where.file, where.line, where.column,
            f"benchmarks.{name}: no macro of the release produces this module{hint}",
            f"$.benchmarks.{name}",
        )


def _check_internal_rate(rat: RatVersion, generators: set[str], sink: DiagnosticSink) -> None:
    """A generator no macro uses is most likely misspelt: its modules would get
    number mode instead of time mode."""
    for index, name in enumerate(rat.internal_rate):
        if name in generators:
            continue
        close = difflib.get_close_matches(name, sorted(generators), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        where = rat.locate("internal_rate", name)
        sink.warning(
            where.file, where.line, where.column,
            f"internal_rate[{index}]: no macro of the release uses the generator {name!r}{hint}",
            f"$.internal_rate[{index}]",
        )
