"""Running batch-system commands: one place that turns a failure into a BackendError.

The message carries the command, its exit code and the tail of its stderr, which
is what a site admin needs to see in the reconciler's log.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from reconciler.errors import BackendError

STDERR_TAIL_LINES = 5
DEFAULT_TIMEOUT_S = 120.0


def stderr_tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept)


def run_command(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    ok_codes: Sequence[int] = (0,),
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Runs argv and returns the result; raises BackendError when it fails or is missing."""
    full_env = {**os.environ, **env} if env else None
    command = shlex.join(argv)
    try:
        result = subprocess.run(
            list(argv),
            env=full_env,
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=cwd,
        )
    except FileNotFoundError:
        raise BackendError(f"{command}: command not found ({argv[0]} is not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise BackendError(f"{command}: no answer within {timeout:g} s") from None
    if result.returncode not in ok_codes:
        raise BackendError(failure_message(command, result.returncode, result.stderr))
    return result


def failure_message(command: str, exit_code: int, stderr: str) -> str:
    tail = stderr_tail(stderr)
    return f"{command}: exit code {exit_code}" + (f": {tail}" if tail else "")
