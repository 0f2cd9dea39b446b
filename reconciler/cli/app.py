"""The `mcprod` application and its single exit-code boundary.

Exit codes: 0 success, 1 invalid input or a failed action (any `McprodError`),
2 usage, 130 interrupted, 3 an unexpected error (traceback written to a log file,
never to the terminal).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.lazy import LazyGroup
from reconciler.errors import InvalidRepository, McprodError

INTERRUPTED = 130

app = typer.Typer(
    name="mcprod",
    help="GitOps for SNO+ Monte Carlo production.",
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
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """GitOps for SNO+ Monte Carlo production.

    Shell completion: mcprod --install-completion (then open a new shell).
    """


def _crash_log(exc: BaseException) -> Path:
    import tempfile  # only on a crash: start-up stays light
    import traceback

    log_dir = Path(os.environ.get("MCPROD_LOG_DIR", tempfile.gettempdir()))
    log_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="mcprod-crash-", suffix=".log", dir=log_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("".join(traceback.format_exception(exc)))
    return Path(name)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code instead of exiting (used by tests).

    Typer's standalone mode already maps usage errors to 2 and `typer.Exit(n)` to n;
    domain errors and bugs propagate out of it and are mapped here.
    """
    try:
        app(args=argv, prog_name="mcprod")
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if code == INTERRUPTED:  # click turns Ctrl-C inside a command into Exit(130)
            print("mcprod: interrupted", file=sys.stderr)
        return code if isinstance(code, int) else 1
    except KeyboardInterrupt:
        print("mcprod: interrupted", file=sys.stderr)
        return INTERRUPTED
    except InvalidRepository as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic.text(), file=sys.stderr)
        return 1
    except McprodError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        log = _crash_log(exc)
        print(f"mcprod: internal error ({type(exc).__name__}); details in {log}", file=sys.stderr)
        return 3
    return 0


def main() -> None:
    sys.exit(run())
