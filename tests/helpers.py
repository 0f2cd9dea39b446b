"""Helpers shared by tests: run the real CLI in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_mcprod(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m reconciler ARGS` and capture its output (never raises on exit code)."""
    full_env = dict(os.environ)
    full_env.pop("MCPROD_DB", None)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd or REPO_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def init_sqlite(url: str) -> None:
    """What `mcprod db init` does for a SQLite URL, in-process (idempotent)."""
    from reconciler.store.design import ensure_design
    from reconciler.store.open import open_store

    store = open_store(url, Path("."), create=True)
    try:
        ensure_design(store)
    finally:
        store.close()
