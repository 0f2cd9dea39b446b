"""The typer application: the root group, its `--version` option and completion.

Its commands come from the table (lazy.py imports each when it runs). app.py answers
`mcprod`, `--help` and `--version` without it (fast.py); tests/cli/test_fast_help.py
checks that those answers are what this group prints.
"""

from __future__ import annotations

from typing import Annotated

import typer

from reconciler.cli.lazy import LazyGroup
from reconciler.cli.table import ROOT_HELP, VERSION_HELP

app = typer.Typer(
    name="mcprod",
    help=ROOT_HELP,
    cls=LazyGroup,  # command modules are imported when a command runs (fast --help)
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish)
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from reconciler import __version__  # the package's one version (pyproject reads it)

        typer.echo(f"mcprod {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help=VERSION_HELP),
    ] = False,
) -> None:
    """GitOps for SNO+ Monte Carlo production.

    Shell completion: mcprod --install-completion (then open a new shell).
    """
