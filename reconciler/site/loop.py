"""`mcprod reconcile` without --once: run cycles every --interval until SIGTERM/SIGINT.

The loop calls the same cycle function as --once (no globals). A signal sets a
flag: the current cycle finishes (every write in it is a complete CAS, but
stopping between reserve and record would only leave work for the recovery
step), then the loop returns instead of sleeping again.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

from reconciler.errors import McprodError
from reconciler.site.result import SiteCycleResult


class StopFlag:
    """Set by SIGTERM/SIGINT; the loop's sleep wakes up at once."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal_name: str | None = None

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.signal_name = signal.Signals(signum).name
        self.event.set()

    @property
    def stopped(self) -> bool:
        return self.event.is_set()


def run_loop(
    cycle: Callable[[], SiteCycleResult],
    interval_s: float,
    report: Callable[[SiteCycleResult | None, str | None], None],
    stop: StopFlag,
    max_cycles: int | None = None,
) -> int:
    """Runs cycles until stopped; returns the number of cycles that failed.

    A failed cycle (store away, bad commit, backend down) is reported and the loop
    carries on: the next cycle converges from the documents."""
    failures = 0
    done = 0
    while not stop.stopped:
        try:
            result = cycle()
            report(result, None)
            failures += 0 if result.ok else 1
        except McprodError as exc:
            report(None, str(exc))
            failures += 1
        done += 1
        if max_cycles is not None and done >= max_cycles:
            break
        stop.event.wait(interval_s)
    return failures
