"""Test hooks: kill or pause the reconciler at a named point (enqueue and the site cycle).

Lowest layer: both `enqueue/` and `site/` call them.

`MCPROD_TEST_CRASH_AT=after-reserve` (or `after-submit`) makes the process SIGKILL
itself there, so the fault tests can check that the next cycle adopts or releases
what the dead one left. Unset in production; costs one environment look-up.
"""

from __future__ import annotations

import os
import signal
import time

CRASH_POINTS = ("after-reserve", "after-submit", "local-after-launch")


def crash_point(name: str) -> None:
    if os.environ.get("MCPROD_TEST_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
    pause_point(name)


def pause_point(name: str) -> None:
    """`MCPROD_TEST_PAUSE_AT=<name>` with `MCPROD_TEST_PAUSE_FILE=<path>`: create the
    file and wait (at most a minute) until the test removes it, so a test can break
    something (stop the store) at an exact point of the protocol."""
    if os.environ.get("MCPROD_TEST_PAUSE_AT") != name:
        return
    marker = os.environ.get("MCPROD_TEST_PAUSE_FILE")
    if not marker:
        return
    with open(marker, "w") as handle:
        handle.write(str(os.getpid()))
    for _ in range(600):
        if not os.path.exists(marker):
            return
        time.sleep(0.1)
