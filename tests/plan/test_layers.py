"""The pure planner modules import nothing that does I/O (STYLE.md: layers you can see)."""

from __future__ import annotations

import subprocess
import sys

PURE = ["reconciler.expand", "reconciler.plan", "reconciler.cost",
        "reconciler.report.plan_summary", "reconciler.report.plan_render",
        "reconciler.report.status_table"]
IO_MODULES = ["sqlite3", "couchdb", "subprocess", "typer", "git", "socket",
              "reconciler.store.couch", "reconciler.store.sqlite"]


def test_pure_modules_do_not_load_io_modules() -> None:
    code = (
        "import sys\n"
        f"for name in {PURE!r}: __import__(name)\n"
        f"print(' '.join(sorted(m for m in {IO_MODULES!r} if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
