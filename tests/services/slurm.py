"""Session fixture: a private single-node Slurm for tests marked `slurm`.

`tests/services/slurm/start.sh` renders the configuration into a temporary folder
(own munged socket and key, free ports, jobcomp text file) and starts munged,
slurmctld and slurmd; `stop.sh` stops them at the end of the session. If the
cluster cannot start, the tests that need it fail: there is no skip.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent / "slurm"
PARTITION = "debug"


@dataclass(frozen=True)
class SlurmCluster:
    """A running test cluster; `env` holds what Slurm clients need to reach it."""

    root: Path
    conf: Path
    partition: str
    jobcomp: Path

    @property
    def env(self) -> dict[str, str]:
        return {"SLURM_CONF": str(self.conf)}

    def stop_controller(self) -> None:
        """Stops slurmctld; jobs keep running on slurmd and its state stays on disk."""
        pid = int((self.root / "slurmctld.pid").read_text())
        os.kill(pid, signal.SIGTERM)
        _wait_gone(pid)

    def start_controller(self) -> None:
        subprocess.run(["slurmctld", "-f", str(self.conf)], check=True, env=self._full_env())

    def _full_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}


def _wait_gone(pid: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise RuntimeError(f"process {pid} did not stop within {timeout_s:g} s")


def start_cluster(root: Path) -> SlurmCluster:
    started = subprocess.run(
        ["bash", str(SCRIPTS / "start.sh"), str(root)],
        capture_output=True,
        text=True,
        env={**os.environ, "MCPROD_TEST_PARTITION": PARTITION},
        check=False,
    )
    if started.returncode != 0:
        stop_cluster(root)
        raise RuntimeError(f"the test Slurm did not start:\n{started.stdout}{started.stderr}")
    return SlurmCluster(root, root / "slurm.conf", PARTITION, root / "jobcomp.txt")


def stop_cluster(root: Path) -> None:
    subprocess.run(["bash", str(SCRIPTS / "stop.sh"), str(root)], check=False)


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    with tempfile.TemporaryDirectory(prefix="mcprod-slurm-") as folder:
        cluster = start_cluster(Path(folder))
        previous = os.environ.get("SLURM_CONF")
        # Subprocesses of the tests (the CLI, backends) find the cluster through this.
        os.environ["SLURM_CONF"] = str(cluster.conf)
        try:
            yield cluster
        finally:
            if previous is None:
                os.environ.pop("SLURM_CONF", None)
            else:
                os.environ["SLURM_CONF"] = previous
            stop_cluster(cluster.root)
