"""The site reconciler on a real single-node Slurm: submission rate and one monitoring pass.

The reconciler part of the submission benchmark (bench/submit.py measures the slurm
backend alone). Starts a private Slurm with tests/services/slurm/start.sh (stopped
at the end) and a site repository made from examples/quickstart with one campaign
of N jobs and a `slurm` site, then measures:

1. one site cycle submitting N waiting jobs (reserve by compare-and-set, write each
   attempt's job script, sbatch as job arrays, record the backend ids), against a
   plain sequential `sbatch` loop over the same N job scripts;
2. one monitoring pass over M active jobs (store read, `squeue --json`, decisions),
   and a whole cycle with nothing to submit.

Jobs are submitted held (`--hold`) so that running them does not load the machine
while it is measured. SQLite store (the embedded default).

    .venv/bin/python bench/site_submit.py [--jobs 3000] [--active 10000]

Targets (issue 5): the reconciler at least as fast as the loop and N=3,000 in under
60 s; a monitoring pass over 10,000 active jobs in under 5 s.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.slurm_service import SlurmDidNotStart, private_slurm  # noqa: E402
from reconciler.backends.base import BackendContext  # noqa: E402
from reconciler.backends.slurm import SlurmBackend  # noqa: E402
from reconciler.enqueue.step import enqueue  # noqa: E402
from reconciler.job.script import attempt_files  # noqa: E402
from reconciler.model import DeclaredRepo, Site  # noqa: E402
from reconciler.site.cycle import CycleOptions, SitePieces, run_site_cycle  # noqa: E402
from reconciler.site.jobs import site_jobs  # noqa: E402
from reconciler.site.monitor import monitor_jobs  # noqa: E402
from reconciler.site.quickstart import prepare_copy  # noqa: E402
from reconciler.site.sources import load_for_cycle  # noqa: E402
from reconciler.site.wiring import site_pieces  # noqa: E402
from reconciler.store.interface import Store  # noqa: E402
from reconciler.store.open import open_store  # noqa: E402

PARTITION = "debug"
CAMPAIGN = """\
label: quickstart-demo
rat_version: "0.1.0-standin"
priority: 100
modules:
  - {{module: WaterBi214, n_ev: {events}, ev_per_run: 1000}}
"""
SITE = """\
name: local
backend: {{type: slurm, partition: {partition}}}
store: embedded  # a benchmark on one machine: the SQLite store on purpose
max_running: 1000000
rat_locations: {{"0.1.0-standin": CVMFS}}
storage: {{base_url: "file://{root}/storage"}}
"""


def make_repo(root: Path, jobs: int) -> Path:
    repo = prepare_copy(REPO / "examples" / "quickstart", root / "repo")
    set_jobs(repo, jobs)
    (repo / "sites" / "local.yaml").write_text(SITE.format(partition=PARTITION, root=repo))
    return repo


def set_jobs(repo: Path, jobs: int) -> None:
    (repo / "campaigns" / "quickstart-demo.yaml").write_text(CAMPAIGN.format(events=jobs * 1000))


def held_slurm_pieces(site: Site, work_dir: Path, repo: DeclaredRepo, store: Store) -> SitePieces:
    """The real pieces, with a Slurm backend that submits held jobs."""
    real = site_pieces(site, work_dir, repo, store)
    backend = SlurmBackend(
        {"partition": PARTITION, "sbatch_args": ["--hold"]},
        BackendContext(site.name, work_dir, site.max_running),
    )
    return SitePieces(backend, real.prepare, real.card_path, real.verify, real.expected,
                      real.backend_for)


def timed_enqueue(options: CycleOptions) -> float:
    loaded = load_for_cycle(options.repo_root, sync=False)
    assert loaded.repo is not None, loaded.errors
    store = open_store(options.db_url, options.repo_root, create=True)
    started = time.perf_counter()
    enqueue(store, loaded.repo)
    store.close()
    return time.perf_counter() - started


def cycle(options: CycleOptions) -> tuple[float, int]:
    started = time.perf_counter()
    result = run_site_cycle(
        options,
        load=lambda o: load_for_cycle(o.repo_root, sync=False),
        open_store=lambda o: open_store(o.db_url, o.repo_root),
        pieces_for=held_slurm_pieces,
        enqueue=None,
    )
    if result.errors:
        raise SystemExit(f"cycle errors: {result.errors[:3]}")
    return time.perf_counter() - started, result.submitted


def plain_loop(options: CycleOptions) -> tuple[float, int]:
    """sbatch, one call per job, over the job scripts the reconciler wrote."""
    store = open_store(options.db_url, options.repo_root)
    jobs = site_jobs(store, "local", ["submitted"])
    store.close()
    work = options.work_dir
    assert work is not None
    started = time.perf_counter()
    for job in jobs:
        files = attempt_files(work, job)
        subprocess.run(
            ["sbatch", "--parsable", "--hold", f"--job-name={job['backend_name']}.loop",
             f"--chdir={files.work_dir}", f"--output={files.work_dir}/loop.out",
             f"--error={files.work_dir}/loop.err", f"--partition={PARTITION}",
             str(files.script)],
            check=True, capture_output=True,
        )
    return time.perf_counter() - started, len(jobs)


def monitoring_pass(options: CycleOptions) -> tuple[float, int]:
    """Read this site's active jobs and ask Slurm about them: what every cycle does."""
    store = open_store(options.db_url, options.repo_root)
    loaded = load_for_cycle(options.repo_root, sync=False)
    assert loaded.repo is not None and options.work_dir is not None
    site = loaded.repo.sites["local"]
    pieces = held_slurm_pieces(site, options.work_dir, loaded.repo, store)
    started = time.perf_counter()
    active = site_jobs(store, "local", ["submitted", "running"])
    result = monitor_jobs(store, pieces.backend, active, card_path=pieces.card_path,
                          verify=pieces.verify, expected=pieces.expected,
                          now=dt.datetime.now(dt.UTC))
    elapsed = time.perf_counter() - started
    store.close()
    if result.errors or result.failed or result.completed:
        raise SystemExit(f"unexpected monitoring result: {result}")
    return elapsed, len(active)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--active", type=int, default=10000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mcprod-bench-site-") as tmp:
        root = Path(tmp)
        stack = contextlib.ExitStack()
        try:
            stack.enter_context(private_slurm(root / "slurm", PARTITION))
            repo = make_repo(root, args.jobs)
            options = CycleOptions(site="local", repo_root=repo, sync=False,
                                   work_dir=root / "work")
            enqueue_s = timed_enqueue(options)
            cycle_s, submitted = cycle(options)
            loop_s, looped = plain_loop(options)
            set_jobs(repo, args.active)
            timed_enqueue(options)
            cycle(options)
            monitor_s, active = monitoring_pass(options)
            idle_cycle_s, _ = cycle(options)
        except SlurmDidNotStart as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 1
        finally:
            stack.close()
    print(f"site reconciler on a local single-node Slurm 22.05 (held jobs), SQLite store,"
          f" {os.cpu_count()} cores:")
    print(f"  enqueue {args.jobs} job documents:            {enqueue_s:7.2f} s")
    print(f"  one cycle submitting {submitted} jobs:          {cycle_s:7.2f} s"
          f" {submitted / cycle_s:8.1f} jobs/s (reserve, job scripts, sbatch, record)")
    print(f"  plain sbatch loop over the same {looped} scripts: {loop_s:7.2f} s"
          f" {looped / loop_s:8.1f} jobs/s")
    print(f"  reconciler / loop speed: {loop_s / cycle_s:.2f}x; target >= 1x and"
          f" {args.jobs} in < 60 s: "
          f"{'met' if cycle_s <= loop_s and cycle_s < 60 else 'NOT met'}")
    print(f"  one monitoring pass over {active} active jobs: {monitor_s:7.2f} s"
          f" (target < 5 s: {'met' if monitor_s < 5 else 'NOT met'})")
    print(f"  a whole cycle with {active} active jobs, nothing to submit: {idle_cycle_s:7.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
