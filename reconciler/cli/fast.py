"""`mcprod`, `mcprod --help` and `mcprod --version` answered without typer.

Importing typer (and the click it vendors) takes about 90 ms, more than the rest of
start-up together, so these three answers are written here from the command table,
in the layout click gives the root group (root.py) at the same terminal width. Any
other invocation, and shell completion, goes to typer. tests/cli/test_fast_help.py
checks the text against the root group's own help at every width click can use, and
that this module imports neither typer, click nor any reconciler module outside cli.
"""

from __future__ import annotations

import os
import sys
import textwrap

from reconciler.cli.table import COMMANDS, ROOT_HELP, VERSION_HELP

PROG = "mcprod"
COMPLETE_VAR = "_MCPROD_COMPLETE"  # set by the shell when it asks typer for completions
USAGE_ERROR = 2  # click's code for bare `mcprod` (no_args_is_help): help on stderr, exit 2

# typer's options of the root group, in its order (root.py adds --version)
OPTIONS = (
    ("--version", VERSION_HELP),
    ("--install-completion", "Install completion for the current shell."),
    ("--show-completion",
     "Show completion for the current shell, to copy it or customize the installation."),
    ("--help", "Show this message and exit."),
)


def answer(args: list[str]) -> tuple[int, str, bool] | None:
    """(exit code, text, to stderr) for the invocations answered here, else None."""
    if COMPLETE_VAR in os.environ:
        return None
    if args == ["--version"]:
        from reconciler import __version__

        return 0, f"{PROG} {__version__}", False
    if args == ["--help"]:
        return 0, root_help(help_width()), False
    if not args:
        return USAGE_ERROR, root_help(help_width()), True
    return None


def help_width() -> int:
    """The width of click's HelpFormatter: the terminal's columns, at most 78, at least 50."""
    return max(min(_columns(), 80) - 2, 50)


def _columns() -> int:
    """`shutil.get_terminal_size().columns` without importing shutil (about 5 ms)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    stdout = sys.__stdout__
    if columns <= 0 and stdout is not None:
        try:
            columns = os.get_terminal_size(stdout.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def root_help(width: int) -> str:
    """The root group's help as click writes it at formatter width `width`."""
    limit = width - 6 - max(len(command.name) for command in COMMANDS)  # as lazy.py asks
    commands = [(c.name, short_help(c.help, limit)) for c in COMMANDS]
    usage = f"Usage: {PROG} "
    return "\n".join([
        wrap("[OPTIONS] COMMAND [ARGS]...", width, usage, " " * len(usage)),
        "",
        wrap(ROOT_HELP, width, "  ", "  "),
        "",
        "Options:",
        *_definitions(OPTIONS, width),
        "",
        "Commands:",
        *_definitions(commands, width),
    ])


def _definitions(rows: list[tuple[str, str]] | tuple[tuple[str, str], ...],
                 width: int) -> list[str]:
    """click's `write_dl` inside a section (indent 2, names up to 30 wide, gap 2)."""
    first_col = min(max(len(name) for name, _ in rows), 30) + 2
    text_width = max(width - first_col - 2, 10)  # sic: click does not count the indent
    lines = []
    for name, text in rows:
        wrapped = wrap(text, text_width).splitlines()
        if len(name) <= first_col - 2:
            lines.append(f"  {name:<{first_col}}{wrapped[0]}")
        else:
            lines.append(f"  {name}")
            lines.append(" " * (first_col + 2) + wrapped[0])
        lines.extend(" " * (first_col + 2) + line for line in wrapped[1:])
    return lines


class _ClickWrapper(textwrap.TextWrapper):
    def _handle_long_word(self, reversed_chunks: list[str], cur_line: list[str],
                          cur_len: int, width: int) -> None:
        """click's: a word longer than the line is cut where the line ends."""
        space_left = max(width - cur_len, 1)
        cur_line.append(reversed_chunks[-1][:space_left])
        reversed_chunks[-1] = reversed_chunks[-1][space_left:]


def wrap(text: str, width: int, initial_indent: str = "", subsequent_indent: str = "") -> str:
    """click's `wrap_text` of a one-line paragraph."""
    return _ClickWrapper(width, initial_indent=initial_indent,
                         subsequent_indent=subsequent_indent,
                         replace_whitespace=False).fill(text.expandtabs())


def short_help(text: str, limit: int) -> str:
    """click's `make_default_short_help`: the first sentence, or as many words as fit
    in `limit` characters followed by "..."."""
    words = text.split("\n\n", 1)[0].split()
    total = 0
    for i, word in enumerate(words):
        total += len(word) + (i > 0)
        if total > limit:
            break
        if word.endswith("."):
            return " ".join(words[: i + 1])
        if total == limit and i != len(words) - 1:
            break
    else:
        return " ".join(words)
    total += len("...")
    while i > 0:
        total -= len(words[i]) + (i > 0)
        if total <= limit:
            break
        i -= 1
    return " ".join(words[:i]) + "..."
