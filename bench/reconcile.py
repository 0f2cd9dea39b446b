"""Enqueue performance (issue 4): plan, apply, no-op reconcile, SQLite end to end, memory.

One campaign of JOBS number-mode jobs (default 100,000) in a temporary repository
built from examples/quickstart:
  1. plan from an empty store: expand + plan, in process (target < 2 s);
  2. apply against pouchdb-server, and raw `_bulk_docs` of the same documents into
     another database in the same run (target: apply >= 0.7 of raw throughput);
  3. a second reconcile with nothing changed (target < 10% of the first apply);
     the first one after the apply pays CouchDB's view indexing of every new job, so
     a third, warm one is shown too;
  4. the same enqueue on SQLite, end to end from loading the repository (target < 15 s);
  5. peak memory of planning 1,000,000 desired jobs, in a fresh process (target < 1 GB).
Starts its own pouchdb-server (in memory) unless MCPROD_TEST_COUCH names a server.

Run: .venv/bin/python bench/reconcile.py [--jobs N] [--memory-jobs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.store import RawBulkDocs, warm_up  # noqa: E402
from reconciler.documents import now_iso  # noqa: E402
from reconciler.enqueue.apply import ApplyResult, apply_plan, job_document  # noqa: E402
from reconciler.enqueue.catalogues import choose_catalogues  # noqa: E402
from reconciler.enqueue.expand import expand_all  # noqa: E402
from reconciler.enqueue.plan import plan  # noqa: E402
from reconciler.enqueue.step import (  # noqa: E402
    PlanContext,
    compute_plan,
    enqueue,
    fingerprints,
    load_repo,
    write_statuses,
)
from reconciler.model import DeclaredRepo  # noqa: E402
from reconciler.store.couch import CouchStore  # noqa: E402
from reconciler.store.design import ensure_design  # noqa: E402
from reconciler.store.sqlite import SqliteStore  # noqa: E402
from tests.services.couchserver import http_json, start_pouchdb_server  # noqa: E402

EXAMPLE = ROOT / "examples" / "quickstart"
VERSION = "0.1.0-standin"
PER_JOB = 1000


def make_repo(folder: Path, jobs: int) -> Path:
    for name in ("rat-versions", "sites", "runlists", "schemas", "rat-release"):
        shutil.copytree(EXAMPLE / name, folder / name)
    (folder / "campaigns").mkdir()
    (folder / "campaigns" / "bench.yaml").write_text(
        "# yaml-language-server: $schema=../schemas/campaign.schema.json\n"
        f'label: bench\nrat_version: "{VERSION}"\nratdb_tag: bench\n'
        f"modules:\n  - {{module: WaterBi214, n_ev: {jobs * PER_JOB}, ev_per_run: {PER_JOB}}}\n"
    )
    return folder


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def bench_plan(repo: DeclaredRepo, roots: dict[str, Path]) -> float:
    catalogues = choose_catalogues(repo, roots, lambda _id: None)
    start = time.perf_counter()
    desired = expand_all(repo.campaigns.values(),
                         {v: c.catalogue for v, c in catalogues.items()}, repo.commit)
    result = plan(desired, [])
    elapsed = time.perf_counter() - start
    print(f"plan from empty ({len(result.creates)} creates): {elapsed:.2f} s "
          f"(target < 2 s: {verdict(elapsed < 2)})")
    return elapsed


def enqueue_status(
    store: CouchStore, context: PlanContext, repo: DeclaredRepo, applied: ApplyResult
) -> None:
    """The status step `enqueue` runs after its apply, with the fingerprints it records."""
    wanted = fingerprints(repo, context.catalogues, False)
    write_statuses(store, context, None, applied=applied, fingerprint=wanted)


def raw_seconds(docs: list[dict[str, Any]], db: str) -> float:
    http_json("PUT", db)
    try:
        raw = RawBulkDocs(db)
        start = time.perf_counter()
        for i in range(0, len(docs), 500):
            raw.bulk_create(docs[i : i + 500])
        elapsed = time.perf_counter() - start
        raw.conn.close()
        return elapsed
    finally:
        http_json("DELETE", db)


def bench_couch(base: str, repo: DeclaredRepo, roots: dict[str, Path]) -> None:
    db = f"{base}/bench_reconcile_{uuid.uuid4().hex}"
    http_json("PUT", db)
    try:
        store = CouchStore(db)
        ensure_design(store)
        context = compute_plan(store, repo, rat_roots=roots)
        docs = [job_document(c.job, 1, now_iso()) for c in context.plan.creates]
        # Raw runs before and after the apply, each into its own database, and the apply
        # is compared with their mean: the server's warm-up and the machine's other load
        # then fall on both sides alike.
        raw_before = raw_seconds(docs, f"{base}/bench_raw_{uuid.uuid4().hex}")
        start = time.perf_counter()
        result = apply_plan(store, context.plan, context.observed_ids)
        apply_s = time.perf_counter() - start
        raw_after = raw_seconds(docs, f"{base}/bench_raw_{uuid.uuid4().hex}")
        raw_s = (raw_before + raw_after) / 2
        assert result.created == len(docs), result
        ratio = raw_s / apply_s
        print(f"couch raw _bulk_docs: {len(docs) / raw_s:8.0f} docs/s (mean of {raw_before:.1f} s"
              f" before and {raw_after:.1f} s after the apply)")
        print(f"couch apply:          {len(docs) / apply_s:8.0f} docs/s ({apply_s:.1f} s); "
              f"ratio {ratio:.2f} (target >= 0.7: {verdict(ratio >= 0.7)})")
        start = time.perf_counter()
        enqueue_status(store, context, repo, result)
        print(f"couch campaign status after the apply: "
              f"{time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        again = enqueue(store, repo, rat_roots=roots)
        again_s = time.perf_counter() - start
        assert again.up_to_date
        share = again_s / apply_s
        print(f"couch no-op reconcile: {again_s:.2f} s = {100 * share:.1f}% of the apply"
              f" (target < 10%: {verdict(share < 0.1)})")
        # pouchdb-server indexes each view on its first query after writes, about a
        # millisecond a document: longer than a client timeout for 100,000 new jobs.
        # The first reader pays it once; it is measured here on its own.
        for view in ("jobs_by_campaign", "jobs_by_campaign_module_status"):
            start = time.perf_counter()
            http_json("GET", f"{db}/_design/mcprod/_view/{view}?limit=1", timeout=7200)
            print(f"couch {view} first query (view indexing, pouchdb): "
                  f"{time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        again = enqueue(store, repo, rat_roots=roots, force=True)
        again_s = time.perf_counter() - start
        assert again.plan.is_empty and not again.up_to_date
        print(f"couch forced full no-op reconcile (view indexed): {again_s:.2f} s = "
              f"{100 * again_s / apply_s:.1f}% of the apply")
        store.close()
    finally:
        http_json("DELETE", db)


def bench_sqlite(repo_root: Path, roots: dict[str, Path]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        repo = load_repo(repo_root, roots)
        store = SqliteStore(Path(folder) / "state.db", create=True)
        result = enqueue(store, repo, rat_roots=roots)
        elapsed = time.perf_counter() - start
        start = time.perf_counter()
        again = enqueue(store, repo, rat_roots=roots, force=True)
        again_s = time.perf_counter() - start
        store.close()
    assert again.plan.is_empty
    print(f"sqlite end to end ({result.applied.created} jobs): {elapsed:.1f} s "
          f"(target < 15 s: {verdict(elapsed < 15)}); forced full no-op reconcile {again_s:.1f} s")


MEMORY_PROBE = """
import sys
from pathlib import Path

def peak_kb():  # VmHWM: this process's own peak (ru_maxrss survives exec from the parent)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

sys.path.insert(0, {root!r})
from reconciler.enqueue.catalogues import choose_catalogues
from reconciler.enqueue.step import load_repo
from reconciler.enqueue.expand import expand_all
from reconciler.enqueue.plan import plan
roots = {{{version!r}: Path({release!r})}}
repo = load_repo(Path({repo!r}), roots)
cats = {{v: c.catalogue for v, c in choose_catalogues(repo, roots, lambda _id: None).items()}}
base = peak_kb()
result = plan(expand_all(repo.campaigns.values(), cats, None), [])
print(len(result.creates), base, peak_kb())
"""


def bench_memory(jobs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        repo_root = make_repo(Path(folder) / "repo", jobs)
        code = MEMORY_PROBE.format(root=str(ROOT), version=VERSION, repo=str(repo_root),
                                   release=str(repo_root / "rat-release"))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
    creates, base_kb, peak_kb = (int(x) for x in out.stdout.split())
    peak_mb = peak_kb / 1024
    print(f"peak memory planning {creates:,} jobs: {peak_mb:.0f} MB "
          f"({base_kb / 1024:.0f} MB before expanding; target < 1024 MB: "
          f"{verdict(peak_mb < 1024)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--memory-jobs", type=int, default=1_000_000)
    parser.add_argument("--skip-couch", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        repo_root = make_repo(Path(folder) / "repo", args.jobs)
        roots = {VERSION: repo_root / "rat-release"}
        repo = load_repo(repo_root, roots)
        bench_plan(repo, roots)
        bench_sqlite(repo_root, roots)
        if not args.skip_couch:
            external = os.environ.get("MCPROD_TEST_COUCH")
            server = None if external else start_pouchdb_server()
            base = external.rstrip("/") if external else server.url  # type: ignore[union-attr]
            try:
                warm_up(base)
                bench_couch(base, repo, roots)
            finally:
                if server is not None:
                    server.stop()
    bench_memory(args.memory_jobs)
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
