"""Submitting to DIRAC: one reconciler cycle against a plain `dirac-wms-job-submit` loop.

DIRAC cannot run here: both sides talk to the DIRAC test double
(tests/doubles/dirac/, the stand-in `dirac-*` commands, each call a process of its
own as with the real client), each with a queue folder of its own. A site
repository made from examples/quickstart gets one campaign of N jobs and a `dirac`
site, then:

1. one site cycle submits the N waiting jobs: reserve by compare-and-set, write each
   attempt's job script, parametric JDLs of 20 jobs, several JDLs per
   `dirac-wms-job-submit` call and 4 calls at once, record the JobIDs;
2. the legacy way: one plain JDL and one `dirac-wms-job-submit` call per job, in
   sequence, over the job scripts the reconciler wrote. Every call costs the same
   (nothing is batched), so `--loop-sample K` times the first K calls and reports
   their rate, which keeps a 3,000-job run short on a loaded machine; `--loop-sample 0`
   runs the loop over all N.

The double does not start jobs until it is asked for their status, so nothing runs
while this is measured. SQLite store (the embedded default).

    .venv/bin/python bench/dirac_submit.py [--jobs 3000] [--loop-sample 300]

Target (issue 14): the reconciler at least 5x the sequential loop's rate.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from reconciler.enqueue.step import enqueue  # noqa: E402
from reconciler.job.script import attempt_files  # noqa: E402
from reconciler.site.cycle import CycleOptions, run_site_cycle  # noqa: E402
from reconciler.site.jobs import site_jobs  # noqa: E402
from reconciler.site.quickstart import prepare_copy  # noqa: E402
from reconciler.site.sources import load_for_cycle  # noqa: E402
from reconciler.site.wiring import site_pieces  # noqa: E402
from reconciler.store.open import open_store  # noqa: E402

DOUBLE_BIN = REPO / "tests" / "doubles" / "dirac" / "bin"
CAMPAIGN = """\
label: quickstart-demo
rat_version: "0.1.0-standin"
priority: 100
modules:
  - {{module: WaterBi214, n_ev: {events}, ev_per_run: 1000}}
"""
SITE = """\
name: grid
backend: {{type: dirac, vo: snoplus.snolab.ca}}
store: embedded  # a benchmark on one machine: the SQLite store on purpose
max_running: 1000000
rat_locations: {{"0.1.0-standin": CVMFS}}
storage: {{base_url: "file://{root}/storage"}}
"""
PLAIN_JDL = """\
JobName = "{name}";
Executable = "job.sh";
JobGroup = "bench.loop";
InputSandbox = {{"{script}"}};
StdOutput = "job.out";
StdError = "job.err";
OutputSandbox = {{"job.out", "job.err", "return-card.json"}};
"""


def make_repo(root: Path, jobs: int) -> Path:
    repo = prepare_copy(REPO / "examples" / "quickstart", root / "repo")
    (repo / "campaigns" / "quickstart-demo.yaml").write_text(CAMPAIGN.format(events=jobs * 1000))
    (repo / "sites" / "local.yaml").unlink()
    (repo / "sites" / "grid.yaml").write_text(SITE.format(root=repo))
    return repo


def use_double(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DIRAC_DOUBLE_HOME"] = str(home)
    if not os.environ["PATH"].startswith(str(DOUBLE_BIN)):
        os.environ["PATH"] = f"{DOUBLE_BIN}{os.pathsep}{os.environ['PATH']}"


def enqueue_all(options: CycleOptions) -> None:
    loaded = load_for_cycle(options.repo_root, sync=False)
    assert loaded.repo is not None, loaded.errors
    store = open_store(options.db_url, options.repo_root, create=True)
    enqueue(store, loaded.repo)
    store.close()


def cycle(options: CycleOptions) -> tuple[float, int]:
    started = time.perf_counter()
    result = run_site_cycle(
        options,
        load=lambda o: load_for_cycle(o.repo_root, sync=False),
        open_store=lambda o: open_store(o.db_url, o.repo_root),
        pieces_for=site_pieces,
        enqueue=None,
    )
    if result.errors:
        raise SystemExit(f"cycle errors: {result.errors[:3]}")
    return time.perf_counter() - started, result.submitted


def plain_loop(options: CycleOptions, folder: Path, sample: int) -> tuple[float, int]:
    """One JDL and one dirac-wms-job-submit call per job, over the reconciler's scripts."""
    store = open_store(options.db_url, options.repo_root)
    jobs = site_jobs(store, "grid", ["submitted"])
    store.close()
    if sample:
        jobs = jobs[:sample]
    assert options.work_dir is not None
    folder.mkdir()
    jdls = []
    for index, job in enumerate(jobs):
        jdl = folder / f"{index}.jdl"
        script = attempt_files(options.work_dir, job).script
        jdl.write_text(PLAIN_JDL.format(name=f"{job['backend_name']}.loop", script=script))
        jdls.append(jdl)
    started = time.perf_counter()
    for jdl in jdls:
        done = subprocess.run(["dirac-wms-job-submit", str(jdl)], check=True,
                              capture_output=True, text=True)
        assert done.stdout.startswith("JobID = "), done.stdout
    return time.perf_counter() - started, len(jobs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--loop-sample", type=int, default=300,
                        help="time this many sequential calls (0: all of them)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mcprod-bench-dirac-") as tmp:
        root = Path(tmp)
        repo = make_repo(root, args.jobs)
        options = CycleOptions(site="grid", repo_root=repo, sync=False, work_dir=root / "work")
        enqueue_all(options)
        use_double(root / "dirac-for-the-reconciler")
        cycle_s, submitted = cycle(options)
        submit_calls = sum(1 for line in (root / "dirac-for-the-reconciler" / "calls.log")
                           .read_text().splitlines() if line.startswith("dirac-wms-job-submit"))
        use_double(root / "dirac-for-the-loop")
        loop_s, looped = plain_loop(options, root / "loop-jdls", args.loop_sample)
    ratio = (submitted / cycle_s) / (looped / loop_s)
    print(f"submission to the DIRAC test double (a process per command call),"
          f" SQLite store, {os.cpu_count()} cores:")
    print(f"  one cycle submitting {submitted} jobs:  {cycle_s:7.2f} s {submitted / cycle_s:8.1f}"
          f" jobs/s (reserve, job scripts, {submit_calls} dirac-wms-job-submit calls"
          " of parametric JDLs, record)")
    sampled = f" (the first {looped} of {submitted})" if looped < submitted else ""
    print(f"  sequential dirac-wms-job-submit loop, {looped} calls{sampled}: {loop_s:7.2f} s"
          f" {looped / loop_s:8.1f} jobs/s")
    print(f"  reconciler / loop rate: {ratio:.1f}x; target >= 5x: "
          f"{'met' if ratio >= 5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
