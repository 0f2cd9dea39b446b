"""Production scale (issue 13): every command against a store of a million job documents.

Builds a repository from examples/quickstart with 50 completed campaigns (90% of the
jobs, 1% of them with a failed attempt before the good one) and one big campaign
(10%: a tenth of it running at site `local`, the rest waiting), writes the documents
through the store in batches, then runs each command as a user would, as its own
`mcprod` process, and prints its wall time and peak memory against the targets:

  bulk write           the store vs a raw SQLite `executemany` of the same JSON rows
                       (batch by batch, alternating, in the same run); >= 0.7
  status               all campaigns; < 1 s        status --site local; < 1 s
  jobs --reasons       over the failed attempts; < 2 s
  site cycle           10,000 running, nothing to submit; < 2 s
                       then 1,000 to submit on the local backend (held jobs); < 5 s
  re-plan              after pausing the big campaign; < 1 s
                       after changing one entry's priority (proportional to that entry)
  cancel --label       of the big campaign; < 10 s
  peak memory          of each command; < 500 MB

The first enqueue after the build (no campaign status documents yet: every job is
read and planned) is shown too. With `--db URL` (a CouchDB server) the documents go
there instead (default 100,000 with `--jobs`); the raw baseline is then `_bulk_docs`.

Commands run with the package's bytecode written first and PYTHONDONTWRITEBYTECODE
unset, as on an installed site (this machine's shell sets it; see `user_environment`).

Run: .venv/bin/python bench/scale.py [--jobs N] [--couch | --db http://127.0.0.1:5984/scale]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.store import RawBulkDocs, RawSqlite  # noqa: E402
from reconciler.backends.local import process_start_time  # noqa: E402
from reconciler.enqueue.apply import job_document  # noqa: E402
from reconciler.enqueue.catalogues import choose_catalogues  # noqa: E402
from reconciler.enqueue.expand import expand_all  # noqa: E402
from reconciler.enqueue.step import load_repo  # noqa: E402
from reconciler.store.design import ensure_design  # noqa: E402
from reconciler.store.interface import Store  # noqa: E402
from reconciler.store.open import open_store  # noqa: E402
from tests.services.couchserver import start_pouchdb_server  # noqa: E402

EXAMPLE = ROOT / "examples" / "quickstart"
VERSION = "0.1.0-standin"
MCPROD = [sys.executable, "-m", "reconciler"]
CAMPAIGNS = 50
BATCH = 1000
T0 = "2026-01-01T00:00:00.000000Z"
T1 = "2026-01-02T00:00:00.000000Z"


def campaign_file(label: str, modules: list[str], state: str = "active") -> str:
    return (
        "# yaml-language-server: $schema=../schemas/campaign.schema.json\n"
        f'label: {label}\nrat_version: "{VERSION}"\nratdb_tag: {label}\npriority: 100\n'
        f"state: {state}\nmodules:\n" + "".join(f"  - {m}\n" for m in modules)
    )


def big_entries(jobs: int, priority_b: int | None = None) -> list[str]:
    """The big campaign's two entries; `priority_b` gives the second one a priority of its
    own (the change the issue names: its jobs are updated, none created or orphaned)."""
    half = jobs // 2
    own = "" if priority_b is None else f", priority: {priority_b}"
    return [
        f"{{module: WaterPmtBetagammas, n_ev: {half * 1000}, ev_per_run: 1000,"
        " template: {radius: 7250}}",
        f"{{module: WaterPmtBetagammas, n_ev: {(jobs - half) * 1000}, ev_per_run: 1000,"
        f" template: {{radius: 6000}}{own}}}",
    ]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=bench", "-c",
                    "user.email=bench@example.invalid", *args], check=True, capture_output=True)


def make_repo(folder: Path, jobs: int) -> Path:
    for name in ("rat-versions", "runlists", "schemas", "rat-release"):
        shutil.copytree(EXAMPLE / name, folder / name)
    for version_file in (folder / "rat-versions").glob("*.yaml"):  # as the quickstart does
        version_file.write_text(version_file.read_text().replace("/QUICKSTART", str(folder)))
    (folder / "sites").mkdir()
    write_site(folder, max_running=jobs // 100)
    (folder / "campaigns").mkdir()
    per = jobs * 9 // 10 // CAMPAIGNS
    for number in range(CAMPAIGNS):
        label = f"done-{number:02d}"
        (folder / "campaigns" / f"{label}.yaml").write_text(
            campaign_file(label, [f"{{module: WaterBi214, n_ev: {per * 1000}, ev_per_run: 1000}}"])
        )
    (folder / "campaigns" / "big.yaml").write_text(campaign_file("big", big_entries(jobs // 10)))
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    git(folder, "add", "-A")
    git(folder, "commit", "-qm", "scale")
    return folder


def write_site(folder: Path, max_running: int) -> None:
    """One local site; jobs beyond the first wait in the backend's queue (held)."""
    (folder / "sites" / "local.yaml").write_text(
        "# yaml-language-server: $schema=../schemas/site.schema.json\n"
        "name: local\nenabled: true\nbackend: {type: local, max_parallel: 1}\n"
        f'max_running: {max_running}\nrat_locations: {{"{VERSION}": CVMFS}}\n'
        f'storage: {{base_url: "file://{folder}/storage"}}\n'
    )


def documents(repo_root: Path, work_dir: Path) -> Iterator[dict[str, Any]]:
    """Every job document, as the planner would create it, in its final state."""
    repo = load_repo(repo_root, {VERSION: repo_root / "rat-release"})
    catalogues = choose_catalogues(repo, {VERSION: repo_root / "rat-release"}, lambda _i: None)
    desired = expand_all(repo.campaigns.values(),
                         {v: c.catalogue for v, c in catalogues.items()}, repo.commit)
    passes: dict[tuple[str, int], int] = {}
    failures = 0
    backend = work_dir / "local-backend"
    for campaign in desired:
        running = len(campaign.jobs) // 10 if campaign.label == "big" else 0
        for number, job in enumerate(campaign.jobs):
            slot = (job.entry.module, job.run)
            passes[slot] = passes.get(slot, 0) + 1
            doc = job_document(job, passes[slot], T0)
            if campaign.label != "big":
                failed_first = failures < len(campaign.jobs) * CAMPAIGNS // 90
                failures += failed_first
                finish(doc, failed_first)
            elif number < running:
                hold(doc, backend, number + 1)
            yield doc
        if running:
            (backend / "next_id").write_text(str(running + 1))  # the backend's id counter


def finish(doc: dict[str, Any], failed_first: bool) -> None:
    attempts = []
    if failed_first:
        attempts.append({"n": 1, "site": "local", "status": "failed", "backend_id": "1",
                         "finished_at": T0, "reason": "gfal-copy error: 70"})
    attempts.append({"n": len(attempts) + 1, "site": "local", "status": "completed",
                     "backend_id": "2", "finished_at": T1})
    doc.update(status="completed", site="local", attempt=len(attempts), attempts=attempts,
               retry_checked=1 if failed_first else None)


def hold(doc: dict[str, Any], backend: Path, number: int) -> None:
    """Running at `local`, as the local backend keeps it: job 1 has the only slot
    (`max_parallel: 1`; its process is this benchmark, alive while the commands run),
    the others wait in the backend's queue, pending. (With --keep, once the benchmark
    has ended, the backend starts them one at a time; their spec names no script, so
    each fails to start, as a damaged job folder would.)"""
    backend_id = str(number)
    job_dir = backend / "jobs" / backend_id
    job_dir.mkdir(parents=True)
    (job_dir / "spec.json").write_text("{}")
    for folder in ("queued", "running", "names"):
        (backend / folder).mkdir(exist_ok=True)
    if number == 1:
        me = os.getpid()
        (job_dir / "pid").write_text(f"{me} {process_start_time(me)}")
        (backend / "running" / backend_id).touch()
    else:
        (backend / "queued" / backend_id).touch()
    name = f"{doc['_id']}.a1"
    doc.update(status="running", site="local", attempt=1, backend_name=name,
               backend_id=backend_id,
               attempts=[{"n": 1, "site": "local", "status": "running",
                          "backend_id": backend_id, "submitted_at": T0}])


class RawCouch(RawBulkDocs):
    """`_bulk_docs` as bench/store.py sends it; reconnects when the server closed the idle
    keep-alive connection (node closes it after 5 s, e.g. while the store wrote)."""

    def bulk_create(self, batch: list[dict[str, Any]]) -> None:
        try:
            super().bulk_create(batch)
        except (BrokenPipeError, ConnectionError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.conn.host, self.conn.port, timeout=60)
            super().bulk_create(batch)


def build(store: Store, raw: Any, docs: Iterator[dict[str, Any]]) -> tuple[int, float, float]:
    """Bulk-create through the store and the raw baseline, batch by batch, alternating."""
    spent = {"store": 0.0, "raw": 0.0}
    written = 0
    batch: list[dict[str, Any]] = []

    def flush(number: int) -> None:
        order = ("store", "raw") if number % 2 else ("raw", "store")
        for name in order:
            start = time.perf_counter()
            if name == "store":
                assert all(r.ok for r in store.bulk_create(batch))
            else:
                raw.bulk_create(batch)
            spent[name] += time.perf_counter() - start

    for doc in docs:
        batch.append(doc)
        if len(batch) == BATCH:
            flush(written // BATCH)
            written += len(batch)
            batch = []
            if written % 100_000 == 0:
                print(f"  ... {written} documents written", flush=True)
    if batch:
        flush(written // BATCH)
        written += len(batch)
    return written, spent["store"], spent["raw"]


def warm_views(db: str) -> None:
    """Build CouchDB's view indexes before the commands run, and say how long it took:
    a server builds a view on its first query after a bulk load, which on the test
    server takes longer than a command's request timeout. (SQLite has nothing to build.)"""
    import urllib.request

    from reconciler.store.views import DESIGN_ID, VIEWS

    start = time.perf_counter()
    for spec in VIEWS:
        url = f"{db.rstrip('/')}/{DESIGN_ID}/_view/{spec.name}?limit=0"
        if spec.reduce:
            url += "&reduce=false"
        urllib.request.urlopen(url, timeout=3600).close()
    print(f"{'view builds after the load':>34}: {time.perf_counter() - start:7.2f} s"
          f" ({len(VIEWS)} views, each built on its first query)", flush=True)


def user_environment(db: str) -> dict[str, str]:
    """The environment a command runs in, as a site admin's cron or shell has it: this
    machine sets PYTHONDONTWRITEBYTECODE, which makes every process compile the
    package from source (about 0.4 s); an installed package has its bytecode."""
    env = {**os.environ, "MCPROD_DB": db}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def compile_package() -> None:
    """Write the package's bytecode once, as `pip install` does, before anything is timed."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "reconciler")],
                   env=user_environment(""), check=True, stdout=subprocess.DEVNULL)


def run(args: list[str], repo: Path, db: str) -> tuple[float, float, str]:
    """One mcprod command as its own process: wall seconds, peak RSS in MB, output."""
    env = user_environment(db)
    if args[0] == "reconcile":
        args = [*args, "--rat-root", f"{VERSION}={repo / 'rat-release'}"]
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *MCPROD, *args, "--repo", str(repo)],
                          env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    lines = done.stderr.strip().splitlines()
    peak = int(lines[-1]) / 1024 if lines and lines[-1].isdigit() else float("nan")
    if done.returncode != 0:
        raise SystemExit(f"mcprod {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return elapsed, peak, done.stdout + "\n".join(lines[:-1])


def report(name: str, seconds: float, peak: float, target: float | None) -> None:
    verdict = ""
    if target is not None:
        ok = seconds < target and peak < 500
        verdict = f"  (target < {target:g} s and < 500 MB: {'met' if ok else 'MISSED'})"
    print(f"{name:>34}: {seconds:7.2f} s  {peak:6.0f} MB{verdict}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=None,
                        help="job documents (default 1,000,000; 100,000 with --db)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="build in this new folder and leave it there (to look into)")
    parser.add_argument("--stop-after-build", action="store_true",
                        help="only build the store (with --keep: to profile commands on it)")
    parser.add_argument("--db", default=None, help="a CouchDB database URL (created here)")
    parser.add_argument("--couch", action="store_true",
                        help="start pouchdb-server (in memory) and use a database on it")
    args = parser.parse_args()
    server = None
    if args.couch and not args.db:
        server = start_pouchdb_server()
        args.db = f"{server.url}/scale"
    try:
        return measure(args)
    finally:
        if server is not None:
            server.stop()


def measure(args: argparse.Namespace) -> int:
    jobs = args.jobs or (100_000 if args.db else 1_000_000)
    with tempfile.TemporaryDirectory(prefix="mcprod-scale-") as folder:
        base = Path(args.keep or folder)
        if args.keep:
            base.mkdir(parents=True, exist_ok=False)
        repo = make_repo(base / "repo", jobs)
        work_dir = repo / ".mcprod" / "sites" / "local"
        db = args.db or f"sqlite:///{repo}/.mcprod/state.db"
        store = open_store(db, repo, create=True)
        ensure_design(store)
        if args.db:
            import urllib.request
            raw_url = args.db.rstrip("/") + "_raw"
            urllib.request.urlopen(urllib.request.Request(raw_url, method="PUT")).close()
            raw: Any = RawCouch(raw_url)
        else:
            raw = RawSqlite(base / "raw.db")
        print(f"{jobs} job documents into {store.display_url}, batches of {BATCH}", flush=True)
        written, store_s, raw_s = build(store, raw, documents(repo, work_dir))
        store.close()
        ratio = raw_s / store_s
        print(f"{'bulk write, store':>34}: {written / store_s:9.0f} docs/s")
        print(f"{'bulk write, raw':>34}: {written / raw_s:9.0f} docs/s")
        verdict = "met" if ratio >= 0.7 else "MISSED"
        print(f"{'ratio':>34}: {ratio:9.2f}  (target >= 0.7: {verdict})")
        if args.stop_after_build:
            return 0
        if args.db:
            warm_views(db)
        compile_package()

        report("first enqueue (no status docs)", *run(["reconcile", "--once"], repo, db)[:2], None)
        report("status", *run(["status"], repo, db)[:2], 1)
        report("status --site local", *run(["status", "--site", "local"], repo, db)[:2], 1)
        report("jobs --reasons", *run(["jobs", "--reasons"], repo, db)[:2], 2)
        report("site cycle, nothing to submit",
               *run(["reconcile", "--once", "--site", "local"], repo, db)[:2], 2)
        write_site(repo, max_running=jobs // 100 + 1000)
        git(repo, "commit", "-qam", "room for 1,000 more")
        seconds, peak, out = run(["reconcile", "--once", "--site", "local"], repo, db)
        report("site cycle, 1,000 to submit", seconds, peak, 5)
        print("\n".join(f"{'':>36}{line}" for line in out.strip().splitlines()[:4]))

        (repo / "campaigns" / "big.yaml").write_text(
            campaign_file("big", big_entries(jobs // 10), state="paused"))
        git(repo, "commit", "-qam", "pause big")
        report("re-plan after pausing big", *run(["reconcile", "--once"], repo, db)[:2], 1)
        (repo / "campaigns" / "big.yaml").write_text(
            campaign_file("big", big_entries(jobs // 10, priority_b=150), state="paused"))
        git(repo, "commit", "-qam", "change the priority of one entry of big")
        report("re-plan after changing one entry", *run(["reconcile", "--once"], repo, db)[:2],
               None)
        seconds, peak, out = run(["cancel", "--label", "big", "--yes"], repo, db)
        report("cancel --label big", seconds, peak, 10)
        print(f"{'':>36}{out.strip().splitlines()[-1]}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
