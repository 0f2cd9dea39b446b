"""Submission throughput to a real single-node Slurm: the slurm backend vs a plain sbatch loop.

Starts a private Slurm with tests/services/slurm/start.sh (stopped at the end),
writes N job scripts, then submits them: with a plain sequential `sbatch` loop,
through `SlurmBackend.submit_many` (job arrays of up to 1,000 tasks, the
backend's default), and through `submit_many` without arrays (concurrent single
sbatch calls), and prints the rates. Jobs are submitted held
(`--hold`) in both runs so that executing them does not load the machine while
it is being measured; the scheduler still accepts and records each one.

    .venv/bin/python bench/submit.py [--jobs 3000] [--parallelism 8]

Target (issue 5): the backend at least as fast as the loop, 3,000 jobs in under 60 s.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.slurm_service import SlurmDidNotStart, private_slurm  # noqa: E402
from reconciler.backends.base import BackendContext, SubmitSpec  # noqa: E402
from reconciler.backends.slurm import SlurmBackend  # noqa: E402


def write_specs(folder: Path, prefix: str, count: int) -> list[SubmitSpec]:
    specs = []
    for index in range(count):
        work = folder / prefix / str(index)
        work.mkdir(parents=True)
        script = work / "job.sh"
        script.write_text("#!/bin/bash\ntrue\n")
        specs.append(SubmitSpec(f"job:Bench:r{index}:s0:p1.{prefix}", script, work,
                                work / "job.out", work / "job.err"))
    return specs


def plain_loop(specs: list[SubmitSpec], partition: str) -> float:
    started = time.perf_counter()
    for spec in specs:
        subprocess.run(
            ["sbatch", "--parsable", "--hold", f"--job-name={spec.name}",
             f"--chdir={spec.work_dir}", f"--output={spec.stdout}", f"--error={spec.stderr}",
             f"--partition={partition}", str(spec.script)],
            check=True, capture_output=True,
        )
    return time.perf_counter() - started


def make_backend(work: Path, partition: str, parallelism: int, array_size: int) -> SlurmBackend:
    options: dict[str, object] = {
        "partition": partition,
        "sbatch_args": ["--hold"],
        "submit_parallelism": parallelism,
        "array_size": array_size,
    }
    return SlurmBackend(options, BackendContext("bench", work))


def through_backend(backend: SlurmBackend, specs: list[SubmitSpec]) -> tuple[float, list[str]]:
    started = time.perf_counter()
    results = backend.submit_many(specs)
    elapsed = time.perf_counter() - started
    failed = [r for r in results if r.error is not None]
    if failed:
        raise SystemExit(f"{len(failed)} submissions failed, first: {failed[0].error}")
    return elapsed, [str(r.backend_id) for r in results]


def one_states_pass(backend: SlurmBackend, ids: list[str]) -> float:
    started = time.perf_counter()
    states = backend.states(ids)
    elapsed = time.perf_counter() - started
    unexpected = [i for i, s in states.items() if s.state != "pending"]
    if unexpected:
        raise SystemExit(f"{len(unexpected)} held jobs not pending, first: {unexpected[0]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--parallelism", type=int, default=8)
    args = parser.parse_args()
    partition = "debug"
    with tempfile.TemporaryDirectory(prefix="mcprod-bench-submit-") as tmp:
        root = Path(tmp)
        stack = contextlib.ExitStack()
        try:
            stack.enter_context(private_slurm(root / "slurm", partition))
            loop_specs = write_specs(root, "loop", args.jobs)
            array_specs = write_specs(root, "array", args.jobs)
            single_specs = write_specs(root, "single", args.jobs)
            # The loop goes first, so the backend faces the fuller queue.
            loop_s = plain_loop(loop_specs, partition)
            arrays = make_backend(root, partition, args.parallelism, 1000)
            backend_s, array_ids = through_backend(arrays, array_specs)
            singles = make_backend(root, partition, args.parallelism, 0)
            single_s, single_ids = through_backend(singles, single_specs)
            states_s = one_states_pass(arrays, array_ids + single_ids)
        except SlurmDidNotStart as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 1
        finally:
            stack.close()
    n = args.jobs
    print(f"submit {n} jobs to a local single-node Slurm 22.05 (held), {os.cpu_count()} cores:")
    print(f"  plain sbatch loop:                            "
          f"{loop_s:7.2f} s {n / loop_s:9.1f} jobs/s")
    print(f"  backend submit_many, job arrays (default):    "
          f"{backend_s:7.2f} s {n / backend_s:9.1f} jobs/s")
    print(f"  backend submit_many, {args.parallelism} single sbatch at once: "
          f"{single_s:7.2f} s {n / single_s:9.1f} jobs/s")
    print(f"  one states() pass over {2 * n} held jobs (squeue, text form):   "
          f"{states_s:7.2f} s")
    print(f"  backend / loop speed: {loop_s / backend_s:.2f}x; "
          f"target: >= 1x and {n} in < 60 s: "
          f"{'met' if backend_s <= loop_s and backend_s < 60 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
