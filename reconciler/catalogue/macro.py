"""What a RAT macro declares, read from its text (pure).

Only command lines count for commands: anything after `#` is a comment, so a
commented-out `/rat/proc outroot` declares nothing. Placeholders are collected
from the whole text, comments included, because the job renders the whole file:
a `${name}` left in a comment still needs a value to render.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
PROCESSOR_COMMANDS = frozenset({"/rat/proc", "/rat/proclast"})
RATDS_PROCESSOR = "outroot"
NTUPLE_PROCESSOR = "outntuple"


@dataclass(frozen=True)
class MacroFacts:
    processors: frozenset[str]
    generators: tuple[str, ...]
    sets_rate: bool
    placeholders: tuple[str, ...]


@dataclass(frozen=True)
class NotText:
    """Where a macro stops being UTF-8 text (1-based line and column)."""

    line: int
    column: int
    reason: str


def analyse_macro(text: str) -> MacroFacts:
    processors: set[str] = set()
    generators: list[str] = []
    sets_rate = False
    for raw_line in text.splitlines():
        words = raw_line.split("#", 1)[0].split()
        if not words:
            continue
        command, args = words[0], words[1:]
        if command in PROCESSOR_COMMANDS and args:
            processors.add(args[0])
        elif command == "/generator/add" and args:
            generators.append(args[0])
        elif command == "/generator/rate/set":
            sets_rate = True
    return MacroFacts(
        processors=frozenset(processors),
        generators=tuple(generators),
        sets_rate=sets_rate,
        placeholders=tuple(sorted(set(PLACEHOLDER.findall(text)))),
    )


def decode_macro(data: bytes) -> str | NotText:
    """The macro's text, or where it is not text (a NUL byte or invalid UTF-8)."""
    nul = data.find(b"\x00")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = exc.start if nul < 0 else min(nul, exc.start)
        return _locate(data, bad)
    if nul >= 0:
        return _locate(data, nul)
    return text


def _locate(data: bytes, offset: int) -> NotText:
    before = data[:offset]
    line = before.count(b"\n") + 1
    line_start = before.rfind(b"\n") + 1
    # Columns count characters of the (valid) text before the bad byte on its line.
    column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
    reason = "NUL byte" if data[offset] == 0 else f"byte 0x{data[offset]:02x}"
    return NotText(line, column, reason)
