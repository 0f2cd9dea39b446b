"""Shared pieces of the backend tests: scripts in tmp_path and waiting for a state."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from reconciler.backends.base import Backend, BackendState, SubmitSpec


def write_script(folder: Path, name: str, body: str) -> SubmitSpec:
    """An executable bash job script and a spec with its logs beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / f"{name}.sh"
    script.write_text("#!/bin/bash\n" + body + "\n")
    script.chmod(0o755)
    return SubmitSpec(
        name=name,
        script=script,
        work_dir=folder,
        stdout=folder / f"{name}.out",
        stderr=folder / f"{name}.err",
    )


def wait_for_state(
    backend: Backend,
    backend_id: str,
    accept: Callable[[BackendState], bool],
    timeout_s: float = 60.0,
) -> BackendState:
    deadline = time.monotonic() + timeout_s
    state = backend.states([backend_id])[backend_id]
    while not accept(state):
        if time.monotonic() > deadline:
            raise AssertionError(f"job {backend_id} still {state} after {timeout_s:g} s")
        time.sleep(0.1)
        state = backend.states([backend_id])[backend_id]
    return state


def is_finished(state: BackendState) -> bool:
    return state.finished


def is_running(state: BackendState) -> bool:
    return state.state == "running"
