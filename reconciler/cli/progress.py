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
def progress_bar(description: str, total: int | None = None, *, unit: str = "jobs",
                 show_from: int = 1) -> Iterator[Advance]:
    """A bar on stderr when it is a terminal, drawn from the first call that reports at
    least `show_from` items in all (the total may be known only once the work starts)."""
    if not on_terminal() or (total is not None and total < show_from):
        yield _nothing
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
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
    started: list[tuple[Progress, TaskID]] = []

    def advance(done: int, new_total: int) -> None:
        if not started:
            if new_total < show_from:
                return
            bar = Progress(*columns, console=Console(stderr=True))
            bar.start()
            started.append((bar, bar.add_task(description, total=new_total, rate="")))
        bar, task = started[0]
        elapsed = bar.tasks[0].elapsed or 0.0
        rate = f"{done / elapsed:.0f} {unit}/s" if elapsed > 0 and done else ""
        bar.update(task, completed=done, total=new_total, rate=rate)

    try:
        yield advance
    finally:
        if started:
            started[0][0].stop()


@contextlib.contextmanager
def spinner(description: str) -> Iterator[None]:
    """A spinner with elapsed time on a terminal (work of unknown size, e.g. a view build)."""
    if not on_terminal():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(description):
        yield
