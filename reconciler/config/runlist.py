"""Run list files: one positive run number per line, `#` comments and blank lines allowed.

Run lists can hold thousands of runs and are shared by many campaigns, so the
common case (digits only, one per line) is parsed in bulk and a line-by-line pass
runs only to find what is wrong or when comments are present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MAX_RUN = 10**9


@dataclass(frozen=True)
class RunListProblem:
    line: int
    column: int
    message: str


_COMMENT = re.compile(r"#[^\n]*")
_TWO_ON_ONE_LINE = re.compile(r"[0-9][ \t]+[0-9]")


def _fast_parse(text: str) -> tuple[int, ...] | None:
    """The runs of a well-formed file, or None when the careful parser must look.

    Every step runs in C over the whole text: drop comments, split on whitespace,
    check that what is left is ASCII digits, that the only whitespace is spaces,
    tabs and line ends, and that no line holds two numbers.
    """
    if "#" in text:
        text = _COMMENT.sub("", text)
    tokens = text.split()
    digits = "".join(tokens)
    if not (digits.isascii() and digits.isdigit()) and tokens:
        return None
    plain_space = sum(text.count(char) for char in " \t\n\r")
    if plain_space != len(text) - len(digits):
        return None
    if (" " in text or "\t" in text) and _TWO_ON_ONE_LINE.search(text):
        return None
    runs = tuple(map(int, tokens))
    if runs and (len(set(runs)) != len(runs) or min(runs) < 1 or max(runs) > MAX_RUN):
        return None
    return runs


def parse_run_list(text: str) -> tuple[tuple[int, ...], list[RunListProblem]]:
    """The run numbers in file order, and every problem with its line."""
    fast = _fast_parse(text)
    if fast is not None:
        return fast, []
    return parse_run_list_by_line(text)


def parse_run_list_by_line(text: str) -> tuple[tuple[int, ...], list[RunListProblem]]:
    """The careful parser: every line on its own, every problem named."""
    runs: list[int] = []
    first_line: dict[int, int] = {}
    problems: list[RunListProblem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        content = raw.split("#", 1)[0]
        entry = content.strip()
        if not entry:
            continue
        column = len(content) - len(content.lstrip()) + 1
        if not (entry.isascii() and entry.isdigit()):
            what = "one run number per line" if " " in entry or "\t" in entry else None
            problems.append(
                RunListProblem(
                    number,
                    column,
                    f"expected {what}, got {entry!r}"
                    if what
                    else f"expected a positive run number, got {entry!r}",
                )
            )
            continue
        run = int(entry)
        if run < 1 or run > MAX_RUN:
            problems.append(
                RunListProblem(number, column, f"run number {entry} is out of range (1 to 10^9)")
            )
            continue
        if run in first_line:
            problems.append(
                RunListProblem(
                    number, column, f"run {run} is listed twice (first at line {first_line[run]})"
                )
            )
            continue
        first_line[run] = number
        runs.append(run)
    return tuple(runs), problems


def read_run_list(path: Path) -> tuple[tuple[int, ...], list[RunListProblem]]:
    """Read and parse a run list file that is known to exist and to be a file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return (), [RunListProblem(1, 1, f"cannot read the run list: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return (), [RunListProblem(line, 1, "not UTF-8 text: save the run list as UTF-8")]
    return parse_run_list(text)


def campaigns_using(repo: Path, relative: str) -> list[str]:
    """`campaigns/<file>` of every campaign whose entries name the run list `relative`.

    Read leniently (a file that does not parse names nothing): this answers "would
    overwriting this list change someone else's campaign", not "is the repo valid".
    """
    from reconciler.config.yamlsource import read_yaml_file

    users = []
    folder = repo / "campaigns"
    for path in sorted(folder.glob("*.y*ml")) if folder.is_dir() else ():
        doc, _ = read_yaml_file(path, "a campaign")
        data = doc.data if doc is not None else None
        modules = data.get("modules") if isinstance(data, dict) else None
        if isinstance(modules, list) and any(
            isinstance(entry, dict) and entry.get("runlist") == relative for entry in modules
        ):
            users.append(f"campaigns/{path.name}")
    return users
