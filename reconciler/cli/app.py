"""The `mcprod` entry point and its single exit-code boundary.

Exit codes: 0 success, 1 invalid input or a failed action (any `McprodError`),
2 usage, 130 interrupted, 3 an unexpected error (traceback written to a log file,
never to the terminal).

`mcprod`, `--help` and `--version` are answered without importing typer (fast.py);
everything else runs the typer application (root.py). Heavy imports wait until they
are needed, so this module itself imports nothing outside reconciler.cli.
"""

from __future__ import annotations

import gc
import os
import sys

from reconciler.cli import fast

INTERRUPTED = 130


def _crash_log(exc: BaseException) -> str:
    import tempfile  # only on a crash: start-up stays light
    import traceback
    from pathlib import Path

    log_dir = Path(os.environ.get("MCPROD_LOG_DIR", tempfile.gettempdir()))
    log_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="mcprod-crash-", suffix=".log", dir=log_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("".join(traceback.format_exception(exc)))
    return name


def _said(text: str, *, to_stderr: bool) -> bool:
    """Write a fast answer; False if the reader went away (exit 1, quietly, as typer)."""
    stream = sys.stderr if to_stderr else sys.stdout
    try:
        stream.write(f"{text}\n")
        stream.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)  # no second error when Python exits
        os.dup2(devnull, stream.fileno())
        return False
    return True


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code instead of exiting (used by tests).

    Typer's standalone mode already maps usage errors to 2 and `typer.Exit(n)` to n;
    domain errors and bugs propagate out of it and are mapped here.
    """
    args = sys.argv[1:] if argv is None else argv
    try:
        quick = fast.answer(args)
        if quick is not None:
            answered, text, to_stderr = quick
            return answered if _said(text, to_stderr=to_stderr) else 1
        from reconciler.cli.root import app

        app(args=args, prog_name=fast.PROG)
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
    except Exception as exc:
        from reconciler.errors import InvalidRepository, McprodError

        if isinstance(exc, InvalidRepository):
            for diagnostic in exc.diagnostics:
                print(diagnostic.text(), file=sys.stderr)
            return 1
        if isinstance(exc, McprodError):
            print(f"error: {exc}", file=sys.stderr)
            return 1
        log = _crash_log(exc)
        print(f"mcprod: internal error ({type(exc).__name__}); details in {log}", file=sys.stderr)
        return 3
    return 0


# Generation thresholds for CPython's cyclic collector. A command may hold a few hundred
# thousand rows or documents at once (cancel of a big campaign, a first enqueue); with
# the default (700, 10, 10) the collector walks all of them again every few thousand
# allocations, which took up to a third of such a command. They hold no reference
# cycles, so collecting less often frees no less.
GC_THRESHOLDS = (100_000, 50, 100)


def main() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
    sys.exit(run())
