"""A RAT version's module catalogue as a table people read (pure rendering)."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence

from reconciler.model import Catalogue, ModuleInfo

HEADER = ("module", "event mode", "outputs", "template keys")


def chosen_modules(catalogue: Catalogue, globs: Sequence[str]) -> list[tuple[str, ModuleInfo]]:
    """The modules matching any of `globs` (all without), in name order."""
    return [
        (name, info)
        for name, info in sorted(catalogue.modules.items())
        if not globs or any(fnmatch.fnmatchcase(name, glob) for glob in globs)
    ]


def _row(name: str, info: ModuleInfo) -> tuple[str, str, str, str]:
    template = ", ".join("${" + key + "}" for key in info.template) or "-"
    return name, info.event_mode, ", ".join(info.outputs) or "-", template


def render_modules_text(rows: list[tuple[str, ModuleInfo]], heading: str) -> str:
    table = [HEADER, *(_row(name, info) for name, info in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    lines = [heading]
    for row in table:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append(("  " + "  ".join(cells)).rstrip())
    lines.append(f"{len(rows)} modules")
    return "\n".join(lines) + "\n"


def render_modules_json(rows: list[tuple[str, ModuleInfo]], version: str, source: str) -> str:
    return json.dumps(
        {
            "rat_version": version,
            "source": source,
            "modules": [
                {
                    "module": name,
                    "event_mode": info.event_mode,
                    "outputs": list(info.outputs),
                    "template": list(info.template),
                    "macro": info.path,
                }
                for name, info in rows
            ],
        },
        indent=1,
    ) + "\n"
