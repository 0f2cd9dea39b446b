"""The site's submit lock: one reconciler at a time in the reserve -> record window.

Compare-and-set already guarantees that two reconcilers never submit one attempt
twice. The lock adds one thing CAS cannot: a reconciler resolving "its own"
reservations at start-up must not mistake a live neighbour's fresh reservation
(reserved, not yet submitted) for one left by a crash. Both recovery and
submission hold this lock, so on one machine the window is never observed from
outside. The lock file lives in the site's work folder; the kernel drops it when
the process dies, so a killed reconciler never leaves it held.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def submit_lock(work_dir: Path) -> Iterator[None]:
    work_dir.mkdir(parents=True, exist_ok=True)
    with (work_dir / "submit.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
