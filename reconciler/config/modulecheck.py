"""Check campaign entries against a RAT version's module catalogue (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.config.crosscheck import Located, did_you_mean
from reconciler.config.entries import classify_entry, mode_fields_hint
from reconciler.errors import DiagnosticSink
from reconciler.model import Catalogue


def _names(names: list[str]) -> str:
    return ", ".join("${" + name + "}" for name in names)


def check_entries_against(
    where: Located, catalogue: Catalogue, sink: DiagnosticSink, *, only: Sequence[int]
) -> None:
    """Check the entries numbered `only` (the schema-valid ones) of a campaign file."""
    known = sorted(catalogue.modules)
    version = catalogue.rat_version
    entries = where.doc.data["modules"]
    for index in only:
        entry = entries[index]
        module = entry["module"]
        info = catalogue.modules.get(module)
        if info is None:
            where.error(
                sink,
                ("modules", index, "module"),
                f"no module {module!r} in RAT {version}{did_you_mean(module, known)}",
            )
            continue
        mode, _ = classify_entry(entry)
        if mode is not None and mode != info.event_mode:
            where.error(
                sink,
                ("modules", index),
                f"{module} is a {info.event_mode}-mode module in RAT {version}, but the entry"
                f" gives {mode}-mode fields: give {mode_fields_hint(info.event_mode)}",
            )
        _check_template(where, index, entry, info.template, info.path, sink)


def _check_template(
    where: Located,
    index: int,
    entry: dict[str, Any],
    placeholders: tuple[str, ...],
    macro: str,
    sink: DiagnosticSink,
) -> None:
    given = set(entry.get("template") or {})
    missing = sorted(set(placeholders) - given)
    unknown = sorted(given - set(placeholders))
    if not missing and not unknown:
        return
    problems = []
    if missing:
        problems.append(f"no value for {_names(missing)}")
    if unknown:
        problems.append(f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    has = f"has {_names(list(placeholders))}" if placeholders else "has no placeholders"
    # The location falls back to the entry when it has no template at all.
    where.error(
        sink, ("modules", index, "template"), f"{'; '.join(problems)} (the macro {macro} {has})"
    )
