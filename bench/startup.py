"""Benchmark CLI start-up: `mcprod --help` and `mcprod --version` (issue 13).

Runs the installed console script (the venv's `mcprod`, beside this Python) N times
each, as a user would, and prints the median and minimum wall time, beside the floor
(`python -c pass` with the same interpreter) and, for comparison, the root help
written by typer itself. The target is a median under 0.15 s for both.

    .venv/bin/python bench/startup.py [--runs N] [--mcprod PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 0.15
TYPER_HELP = ["-c", "from reconciler.cli.root import app; app(prog_name='mcprod')", "--help"]


def timed(command: list[str], runs: int) -> tuple[float, float]:
    """(median, minimum) wall seconds of `command` over `runs` runs; it must succeed."""
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
        walls.append(time.perf_counter() - start)
    return statistics.median(walls), min(walls)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs per command (default 21)")
    parser.add_argument("--mcprod", type=Path, default=Path(sys.executable).parent / "mcprod",
                        help="the console script (default: the one beside this Python)")
    args = parser.parse_args()
    if not args.mcprod.is_file():
        print(f"no console script at {args.mcprod}: install the package (make test)",
              file=sys.stderr)
        return 1

    print(f"{args.runs} runs each; load average {os.getloadavg()[0]:.2f} on "
          f"{os.cpu_count()} cores (other work slows the wall time)")
    rows = [
        ("mcprod --help", [str(args.mcprod), "--help"]),
        ("mcprod --version", [str(args.mcprod), "--version"]),
        ("python -c pass (floor)", [sys.executable, "-c", "pass"]),
        ("typer's root help (before)", [sys.executable, *TYPER_HELP]),
    ]
    medians = {}
    for label, command in rows:
        median, least = timed(command, args.runs)
        medians[label] = median
        print(f"{label:<28} median {median:.3f} s   min {least:.3f} s")
    worst = max(medians["mcprod --help"], medians["mcprod --version"])
    print(f"target < {TARGET_S} s: {'met' if worst < TARGET_S else 'MISSED'}"
          f" (slower median {worst:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
