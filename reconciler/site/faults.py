"""Test hook: kill the reconciler at a named point of the submit protocol.

`MCPROD_TEST_CRASH_AT=after-reserve` (or `after-submit`) makes the process SIGKILL
itself there, so the fault tests can check that the next cycle adopts or releases
what the dead one left. Unset in production; costs one environment look-up.
"""

from __future__ import annotations

import os
import signal

CRASH_POINTS = ("after-reserve", "after-submit")


def crash_point(name: str) -> None:
    if os.environ.get("MCPROD_TEST_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
