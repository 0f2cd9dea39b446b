"""Commands imported only when they run, so the typer group starts light.

Importing every command module pulls in the loader, schemas, planner and store
(about 0.35 s before anything happens). The root group instead knows each command by
name, the module that registers it, and its one-line help (the table in table.py);
the module is imported when the command is looked up to run or to show its own help.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
from typer import _click as click  # typer vendors click; its groups are built on this copy
from typer.core import TyperGroup

from reconciler.cli.table import COMMANDS

_BY_NAME = {command.name: command for command in COMMANDS}


def load_command(name: str) -> click.Command:
    """Import the module of command `name` and return its click command."""
    module = importlib.import_module(f"reconciler.cli.{_BY_NAME[name].module}")
    holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                         rich_markup_mode=None)
    module.register(holder)
    return typer.main.get_group(holder).commands[name]


class _LazyCommands(MutableMapping[str, click.Command]):
    """The group's `commands`: every name of the table, each imported when first read,
    so typer's own lookups (and its "did you mean" suggestions) know every command."""

    def __init__(self) -> None:
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            if name not in _BY_NAME:
                raise KeyError(name)
            self._loaded[name] = load_command(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from _BY_NAME
        yield from (name for name in self._loaded if name not in _BY_NAME)

    def __len__(self) -> int:
        return len(set(_BY_NAME) | set(self._loaded))


class LazyGroup(TyperGroup):
    """A root group whose subcommands are imported on first use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        registered = dict(self.commands)
        self.commands = _LazyCommands()
        self.commands.update(registered)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands.keys())

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the table, as click would write it, importing nothing."""
        limit = formatter.width - 6 - max(len(command.name) for command in COMMANDS)
        rows = [
            (command.name, click.utils.make_default_short_help(command.help, limit))
            for command in COMMANDS
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
