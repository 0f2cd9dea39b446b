"""Benchmark `mcprod validate` on a generated repository (issue 2, Performance).

1,000 campaigns of 10 entries, 50 RAT versions, 30 sites and 200 run lists of
5,000 runs, written to a temporary folder; validated in-process and through the
CLI. Prints wall time and peak memory; the target is under 3 s.

    .venv/bin/python bench/validate.py [--campaigns N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCHEMA = "# yaml-language-server: $schema=../schemas/{}.schema.json\n"
TARGET_S = 3.0


def write_repository(
    root: Path, campaigns: int, versions: int, sites: int, run_lists: int, runs_per_list: int
) -> None:
    for folder in ("campaigns", "rat-versions", "sites", "runlists"):
        (root / folder).mkdir(parents=True)
    names = [f"6.{minor}.{patch}" for minor in range(10) for patch in range(5)][:versions]
    for version in names:
        (root / "rat-versions" / f"{version}.yaml").write_text(
            SCHEMA.format("rat-version") + f'version: "{version}"\n'
            f"env: /cvmfs/snoplus.egi.eu/sl7/sw/{version}/env_rat-{version}.sh\n"
            "phases:\n"
            "  water: {dir: mac/production/water, prefix: Water}\n"
            "  partialscint: {dir: mac/production/partialscint, prefix: PartialScint}\n"
            "  scint: {dir: mac/production/scint, prefix: Scint}\n"
            "  teloaded: {dir: mac/production/teloaded, prefix: TeLoaded}\n"
            "internal_rate: [solar, reactor]\n"
            "overrides: {WaterN16sourceRun: {event_mode: run_number}}\n"
            "benchmarks:\n  default: {cpu_s_per_event: 0.4, bytes_per_event: 24000}\n"
        )
    for index in range(sites):
        locations = "".join(f'  "{v}": CVMFS\n' for v in names[index % 2 :: 2])
        (root / "sites" / f"site{index:02d}.yaml").write_text(
            SCHEMA.format("site") + f"name: site{index:02d}\nenabled: true\n"
            'backend: {type: slurm, partition: snoplus, time_limit: "20:00:00"}\n'
            f"max_running: 2000\nrat_locations:\n{locations}"
            "storage: {se: se.example.org, base_url: srm://se.example.org/snoplus}\n"
        )
    for index in range(run_lists):
        first = 100000 + index * runs_per_list
        body = "\n".join(str(run) for run in range(first, first + runs_per_list))
        (root / "runlists" / f"list{index:03d}.txt").write_text(f"# generated\n{body}\n")
    for index in range(campaigns):
        entries = []
        for entry in range(10):
            kind = entry % 4
            if kind == 0:
                entries.append(
                    f"  - {{module: WaterPmt_Betagammas, n_ev: {1000000 + entry}, "
                    f"ev_per_run: 290000, template: {{radius: {6000 + entry}}}}}\n"
                )
            elif kind == 1:
                entries.append(
                    f"  - {{module: ScintSolar_B8, t_run: {entry}, t_format: day, n_runs: 565}}\n"
                )
            elif kind == 2:
                entries.append(
                    f"  - module: {'WaterBi214Run' if entry == 2 else 'WaterTl208Run'}\n"
                    f"    runlist: runlists/list{(index + entry) % run_lists:03d}.txt\n"
                    f"    priority: {100 + entry}\n"
                )
            else:
                entries.append(
                    f"  - {{module: WaterN16sourceRun, n_ev: 210000, ev_per_run: {35000 + entry},"
                    f" run_numbers: [{100151 + entry}, {100152 + entry}],"
                    f" template: {{z: {entry}}}}}\n"
                )
        (root / "campaigns" / f"campaign-{index:04d}.yaml").write_text(
            SCHEMA.format("campaign")
            + f'label: campaign-{index:04d}\nrat_version: "{names[index % len(names)]}"\n'
            f"ratdb_tag: campaign-{index:04d}\npriority: 100\nstate: active\n"
            'retry: {max_attempts: 3, on: ["gfal-copy error: 70", "DUE TO TIME LIMIT"]}\n'
            "description: Generated for the validate benchmark.\n"
            "modules:\n" + "".join(entries)
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="write the repository here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp) / "repo"
        start = time.perf_counter()
        write_repository(root, args.campaigns, 50, 30, 200, 5000)
        print(
            f"generated {args.campaigns} campaigns, 50 RAT versions, 30 sites, "
            f"200 run lists x 5000 runs in {time.perf_counter() - start:.2f} s"
        )

        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from reconciler.catalogue.generate import release_catalogues
        from reconciler.config.load import validate_repository

        start, cpu_start = time.perf_counter(), time.process_time()
        result = validate_repository(root, catalogues=release_catalogues())
        in_process = time.perf_counter() - start
        in_process_cpu = time.process_time() - cpu_start
        errors = [d for d in result.diagnostics if d.severity == "error"]
        print(
            f"in-process: {in_process:.2f} s wall, {in_process_cpu:.2f} s CPU, "
            f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB, "
            f"{result.files_checked} files, "
            f"{len(errors)} errors, {len(result.diagnostics) - len(errors)} warnings"
        )
        if errors:
            print("unexpected errors, first:", errors[0].text())
            return 1

        start = time.perf_counter()
        cli = subprocess.run(
            [sys.executable, "-m", "reconciler", "validate", "--repo", str(root)],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mib = usage.ru_maxrss / 1024
        cpu = usage.ru_utime + usage.ru_stime
        summary = cli.stdout.strip().splitlines()[-1] if cli.stdout.strip() else cli.stderr
        print(
            f"CLI: {wall:.2f} s wall, {cpu:.2f} s CPU, peak RSS {peak_mib:.0f} MiB,"
            f" exit {cli.returncode}: {summary}"
        )
        verdict = "meets" if wall < TARGET_S else "MISSES"
        if wall >= TARGET_S and cpu < TARGET_S:
            # On a shared machine the wall time includes waiting for a core; CPU time does not.
            verdict += f" on wall time, but used {cpu:.2f} s of CPU: the machine is busy"
        print(
            f"target < {TARGET_S:.0f} s: {verdict} (load average now "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: other work slows the wall time)"
        )
    return 0 if cli.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
