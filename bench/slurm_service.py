"""A private single-node Slurm for the submission benchmarks (the test suite's scripts)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "tests" / "services" / "slurm"


class SlurmDidNotStart(RuntimeError):
    pass


@contextmanager
def private_slurm(folder: Path, partition: str) -> Iterator[Path]:
    """Start munged, slurmctld and slurmd with state under `folder`; stop them after.

    Sets SLURM_CONF for this process so that the Slurm commands find the cluster."""
    started = subprocess.run(
        ["bash", str(SCRIPTS / "start.sh"), str(folder)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MCPROD_TEST_PARTITION": partition},
    )
    try:
        if started.returncode != 0:
            raise SlurmDidNotStart(f"the Slurm did not start:\n{started.stderr}")
        os.environ["SLURM_CONF"] = str(folder / "slurm.conf")
        yield folder
    finally:
        subprocess.run(["bash", str(SCRIPTS / "stop.sh"), str(folder)], check=False)
