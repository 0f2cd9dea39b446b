"""Code that runs on grid worker nodes must run on their python3 (3.6 on CentOS 7)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO_ROOT

WORKER_NODE_CODE = [REPO_ROOT / "reconciler" / "job" / "stageout.py"]


def vermin(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "vermin"), "-t=3.6-", "--no-tips", "--violations",
         "--eval-annotations", *map(str, paths)],
        capture_output=True, text=True, check=False,
    )


def test_worker_node_modules_need_at_most_python_3_6() -> None:
    done = vermin(*WORKER_NODE_CODE)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Minimum required versions: 3." in done.stdout
    minimum = done.stdout.split("Minimum required versions:")[1].split()[0]
    assert tuple(int(part) for part in minimum.split(".")) <= (3, 6)


def test_vermin_would_catch_newer_syntax(tmp_path: Path) -> None:
    newer = tmp_path / "newer.py"
    newer.write_text("import sys\nif (n := len(sys.argv)) > 1:\n    print(n)\n")
    done = vermin(newer)
    assert done.returncode != 0 and "named expressions require" in done.stdout
