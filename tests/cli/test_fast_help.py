"""`mcprod`, `mcprod --help` and `mcprod --version` are answered without typer (fast.py):
the same text typer writes, every command of the table with its real help, and an
import list with neither typer, click nor anything of reconciler outside the CLI."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from typer import _click as click

from reconciler import __version__
from reconciler.cli import fast
from reconciler.cli.lazy import load_command
from reconciler.cli.root import app
from reconciler.cli.table import COMMANDS
from tests.helpers import REPO_ROOT, run_mcprod

TYPER_ROOT = "from reconciler.cli.root import app; app(prog_name='mcprod')"
LIGHT = {"reconciler",  # the package itself: its version only
         "reconciler.cli", "reconciler.cli.app", "reconciler.cli.fast",
         "reconciler.cli.table"}


def typer_help(width: int) -> str:
    group = typer.main.get_command(app)
    return group.get_help(click.Context(group, info_name="mcprod", terminal_width=width))


def run_typer(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", TYPER_ROOT, *args], cwd=REPO_ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("width", range(50, 79))  # every width click's formatter takes
def test_the_fast_help_is_typers_own_at_every_width(width: int) -> None:
    assert fast.root_help(width) == typer_help(width)


def test_the_fast_help_lists_every_command_with_its_real_help() -> None:
    width = 78
    listed = fast.root_help(width).split("\nCommands:\n", 1)[1].splitlines()
    limit = width - 6 - max(len(c.name) for c in COMMANDS)
    assert len(listed) == len(COMMANDS)
    for line, command in zip(listed, COMMANDS, strict=True):
        real = load_command(command.name).get_short_help_str(limit)
        assert line.split() == [command.name, *real.split()], command.name
        assert real.removesuffix("...").split() == command.help.split()[: len(real.split())]


@pytest.mark.parametrize("args", [["--help"], [], ["--version"]], ids=["help", "bare", "version"])
def test_the_command_line_answers_as_typer_does(args: list[str]) -> None:
    env = {"COLUMNS": "80"}
    fast_run = run_mcprod(args, env=env)
    typer_run = run_typer(args, env)
    assert (fast_run.returncode, fast_run.stdout, fast_run.stderr) == (
        typer_run.returncode, typer_run.stdout, typer_run.stderr)
    if args == ["--version"]:
        assert fast_run.stdout == f"mcprod {__version__}\n"
    else:
        assert "Usage: mcprod [OPTIONS] COMMAND [ARGS]..." in fast_run.stdout + fast_run.stderr


def test_a_narrow_terminal_gets_the_same_narrow_help() -> None:
    env = {"COLUMNS": "40"}  # click's minimum width applies to both
    assert run_mcprod(["--help"], env=env).stdout == run_typer(["--help"], env).stdout


@pytest.mark.parametrize("args", [["--help"], [], ["--version"]], ids=["help", "bare", "version"])
def test_the_fast_answers_import_neither_typer_nor_click_nor_the_rest(args: list[str]) -> None:
    """The structural guarantee of a fast start: whatever is not imported costs nothing."""
    probe = (
        "import runpy, sys\n"
        f"sys.argv = ['mcprod', *{args!r}]\n"
        "try:\n"
        "    runpy.run_module('reconciler', run_name='__main__')\n"  # what `mcprod` runs
        "except SystemExit as done:\n"
        "    print('exit', done.code, sorted(sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True,
                          text=True, check=True)
    word, code, modules = done.stderr.splitlines()[-1].split(" ", 2)
    assert (word, code) == ("exit", "2" if not args else "0")
    loaded = set(ast.literal_eval(modules))
    assert {m for m in loaded if m.split(".")[0] in {"typer", "click", "rich"}} == set()
    assert {m for m in loaded if m.split(".")[0] == "reconciler"} - {"reconciler.__main__"} <= LIGHT


@pytest.mark.parametrize(
    "args", [["validate", "--help"], ["--help", "validate"], ["--version", "--help"], ["-h"],
             ["--helps"], ["--show-completion", "bash"]],
)
def test_everything_else_is_typers(args: list[str]) -> None:
    assert fast.answer(args) is None


def test_shell_completion_is_typers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fast.COMPLETE_VAR, "complete_bash")
    assert fast.answer(["--help"]) is None
    assert fast.answer([]) is None


@pytest.mark.parametrize("columns", [None, "30", "60", "79", "200", "junk", "-3"])
def test_the_width_is_clicks(columns: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert fast.help_width() == click.formatting.HelpFormatter().width


WORDS = st.lists(st.text(alphabet="ab.`,-", min_size=1, max_size=12), min_size=1, max_size=12)


@given(WORDS, st.integers(min_value=1, max_value=80))
def test_the_short_help_is_clicks(words: list[str], limit: int) -> None:
    text = " ".join(words)
    assert fast.short_help(text, limit) == click.utils.make_default_short_help(text, limit)


@given(WORDS, st.integers(min_value=10, max_value=80), st.sampled_from(["", "  "]))
def test_the_wrapping_is_clicks(words: list[str], width: int, indent: str) -> None:
    text = " ".join(words)
    assert fast.wrap(text, width, indent, indent) == click.formatting.wrap_text(
        text, width, initial_indent=indent, subsequent_indent=indent, preserve_paragraphs=True)
