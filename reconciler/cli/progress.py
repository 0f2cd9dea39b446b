"""Progress bars for long work: on a terminal only (rich, with rate and ETA), never on a pipe.

`progress_bar("grab", total)` yields a callback `(done, total)`; on a pipe or in a
cron job it does nothing, so logs and mails stay free of control characters.
`spinner("...")` is the same for work whose size is not known in advance.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

Advance = Callable[[int, int], None]


def on_terminal() -> bool:
    return sys.stderr.isatty()


def _nothing(_done: int, _total: int) -> None:
    return None


@contextlib.contextmanager
def progress_bar(description: str, total: int, *, unit: str = "jobs",
                 show_from: int = 1) -> Iterator[Advance]:
    """A bar on stderr when it is a terminal and there are at least `show_from` items."""
    if not on_terminal() or total < show_from:
        yield _nothing
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TaskProgressColumn(), TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
        TextColumn("ETA"), TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(description, total=total, rate="")

        def advance(done: int, new_total: int) -> None:
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = f"{done / elapsed:.1f} {unit}/s" if elapsed > 0 and done else ""
            bar.update(task, completed=done, total=new_total, rate=rate)

        yield advance


@contextlib.contextmanager
def spinner(description: str) -> Iterator[None]:
    """A spinner with elapsed time on a terminal (work of unknown size, e.g. a view build)."""
    if not on_terminal():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(description):
        yield
