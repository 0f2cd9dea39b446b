"""The lazily loaded command table says what the command modules really register."""

from __future__ import annotations

import subprocess
import sys

import typer
from typer import _click as click
from typer.core import TyperGroup

from reconciler.cli.lazy import LazyGroup, load_command
from reconciler.cli.table import COMMANDS
from tests.helpers import REPO_ROOT


def test_the_table_names_every_command_with_its_own_help() -> None:
    eager = TyperGroup(name="mcprod", commands={c.name: load_command(c.name) for c in COMMANDS})
    lazy = LazyGroup(name="mcprod")
    listings = []
    for group, format_commands in ((eager, TyperGroup.format_commands),
                                   (lazy, LazyGroup.format_commands)):
        formatter = click.formatting.HelpFormatter(width=80)
        format_commands(group, click.Context(group), formatter)
        listings.append(formatter.getvalue())
    assert listings[0] == listings[1]
    assert "db           Manage the state database." in listings[1]


def test_a_mistyped_command_is_still_suggested() -> None:
    done = subprocess.run([sys.executable, "-m", "reconciler", "stauts"], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "Did you mean 'status'?" in done.stderr


def test_every_command_module_registers_only_the_commands_of_the_table() -> None:
    for module in {c.module for c in COMMANDS}:
        holder = typer.Typer()
        __import__(f"reconciler.cli.{module}", fromlist=["register"]).register(holder)
        registered = set(typer.main.get_group(holder).commands)
        assert registered == {c.name for c in COMMANDS if c.module == module}, module


def test_typers_root_help_and_version_import_no_command_module() -> None:
    """What typer answers at the root (app.py answers the plain forms itself, fast.py)."""
    probe = (
        "import sys\n"
        "from reconciler.cli.root import app\n"
        "for args in (['--help'], ['--version']):\n"
        "    try:\n"
        "        app(args=args, prog_name='mcprod')\n"
        "    except SystemExit as done:\n"
        "        assert done.code == 0, done.code\n"
        "print(sorted(m for m in sys.modules if m.startswith('reconciler.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.splitlines()[-1] == (
        "['reconciler.cli', 'reconciler.cli.lazy', 'reconciler.cli.root', 'reconciler.cli.table']"
    )
    assert "mcprod 0.1.0" in done.stdout
