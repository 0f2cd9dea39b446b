"""Commands imported only when they run, so `mcprod --help` and `--version` start fast.

Importing every command module pulls in the loader, schemas, planner and store
(about 0.35 s before anything happens). The root group instead knows each command by
name, the module that registers it, and its one-line help (for the command list);
the module is imported when the command is looked up to run or to show its own help.
tests/cli/test_lazy_commands.py checks this table against the real commands.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import typer
from typer import _click as click  # typer vendors click; its groups are built on this copy
from typer.core import TyperGroup


@dataclass(frozen=True)
class LazyCommand:
    name: str
    module: str  # under reconciler.cli; its `register(app)` adds the command
    help: str  # the start of the command's help (click shortens it for `mcprod --help`)


COMMANDS: tuple[LazyCommand, ...] = (
    LazyCommand("validate", "validate_cmd",
                "Check campaigns, RAT versions, sites and run lists; report every problem"
                " at once."),
    LazyCommand("generate", "generate_cmd",
                "Build the module catalogue of a RAT release from its phase dictionary."),
    LazyCommand("modules", "modules_cmd",
                "The module catalogue of a RAT version: module, event mode, outputs, template"
                " keys."),
    LazyCommand("import-jobs", "import_jobs_cmd",
                "Turn a legacy production request into a campaign YAML file."),
    LazyCommand("publish", "publish_cmd",
                "Publish production_information documents (and design documents);"
                " idempotent."),
    LazyCommand("plan", "plan_cmd",
                "Compare the declared campaigns with the store; print jobs to create,"
                " update, cancel, orphans, events, CPU-hours and output size."),
    LazyCommand("reconcile", "reconcile_cmd",
                "Make the job documents match the declared campaigns (idempotent, safe to"
                " race)."),
    LazyCommand("status", "status_cmd",
                "Per campaign: state (active, paused, cancelled; Ready, Progressing, Stalled"
                " with the reason) and job counts per module."),
    LazyCommand("jobs", "jobs_cmd",
                "List jobs with their last reason, or (--reasons) triage failures by reason."),
    LazyCommand("job", "jobs_cmd",
                "One job's whole history: attempts, backend ids, sites, times, reasons,"
                " outputs, logs."),
    LazyCommand("report", "report_cmd",
                "A static dashboard: campaigns with progress and state, a burn-down plot per"
                " campaign, modules"),
    LazyCommand("files", "files_cmd",
                "Every output file of a label: name, URL, size, adler32, module, run, sub-run,"
                " pass."),
    LazyCommand("grab", "files_cmd",
                "Fetch a label's outputs into DEST/<Module>/, each verified by size and"
                " adler32."),
    LazyCommand("exactly", "exactly_cmd",
                "One `Module Run Pass` line per pass of the campaign, sorted by module, run,"
                " pass."),
    LazyCommand("retry", "operator_cmd",
                "Put failed (or cancelled) jobs back to waiting, with a fresh attempt budget."),
    LazyCommand("cancel", "operator_cmd",
                "Cancel jobs; running ones are stopped by their site's next cycle."),
    LazyCommand("quickstart", "quickstart_cmd",
                "Run the example production in examples/quickstart/ until every job is"
                " done."),
    LazyCommand("rat-roots", "rat_roots_cmd",
                "Print `--rat-root=VERSION=DIR`, one per line, for each release on disk."),
    LazyCommand("db", "db_cmd", "Manage the state database."),
)
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
