"""The real pieces of a site cycle: store, backend, job scripts, storage, enqueue.

`run_site_cycle` takes them as arguments so that its flow reads on its own;
this module plugs in the production implementations and is what the CLI and
the quickstart call.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path

from reconciler.backends.base import Backend, FetchesOutputs, SubmitSpec
from reconciler.backends.commands import stderr_tail
from reconciler.documents import Doc
from reconciler.errors import BackendError
from reconciler.job.script import (
    attempt_files,
    expected_outputs,
    prepare_attempt,
    return_card_path,
)
from reconciler.job.storage import verify_output
from reconciler.model import DeclaredRepo, Site
from reconciler.site.cycle import (
    CycleOptions,
    Loaded,
    SitePieces,
    backend_for_site,
    run_site_cycle,
    site_work_dir,
)
from reconciler.site.decisions import recorded_work_dir
from reconciler.site.heartbeat import read_heartbeat
from reconciler.site.proxy import needs_proxy, proxy_path, read_proxy
from reconciler.site.result import SiteCycleResult
from reconciler.site.sources import load_for_cycle
from reconciler.store.interface import Store
from reconciler.store.open import open_store

# Backends whose commands only answer on the site's own machines (condor_q asks the
# local schedd: from elsewhere every job would look lost).
HOST_BOUND = ("local", "slurm", "condor")


def site_pieces(site: Site, work_dir: Path, repo: DeclaredRepo, store: Store) -> SitePieces:
    backend = backend_for_site(site, work_dir)

    def prepare(job: Doc) -> SubmitSpec:
        rat = repo.rat_versions.get(str(job.get("rat_version")))
        env = rat.env if rat is not None else ""
        tag_args = rat.ratdb_tag_args if rat is not None else None
        files = prepare_attempt(
            job, site=site, version_env=env, work_root=work_dir, tag_args=tag_args
        )
        return files.spec(str(job["backend_name"]))

    def submitted_from(job: Doc) -> Path:
        """The work folder recorded on the attempt; ours for attempts from before."""
        recorded = recorded_work_dir(job)
        return Path(recorded) if recorded else work_dir

    def card_path(job: Doc) -> Path:
        return return_card_path(submitted_from(job), job)

    def log_tail(job: Doc) -> str | None:
        return stderr_tail_of(attempt_files(submitted_from(job), job).stderr)

    def expected(job: Doc) -> dict[str, str]:
        return expected_outputs(job, site.storage.base_url)

    def backend_for(name: str) -> Backend:
        other = repo.sites.get(name)
        if other is None:
            raise BackendError(f"site {name} is not declared any more")
        beat = read_heartbeat(store, name) or {}
        host = beat.get("host")
        if other.backend.type in HOST_BOUND and host != socket.gethostname():
            where = f"host {host}" if host else "an unknown host"
            raise BackendError(
                f"its {other.backend.type} backend answers only on {where}, not here"
            )
        return backend_for_site(other, site_work_dir(other, repo.root, None))

    fetch = None
    if isinstance(backend, FetchesOutputs):
        fetcher = backend

        def fetch(jobs: Sequence[Doc]) -> Mapping[str, str]:
            folders = {str(job["backend_id"]): attempt_files(submitted_from(job), job).work_dir
                       for job in jobs}
            problems = fetcher.fetch_outputs(list(folders.items()))
            return {str(job["_id"]): problems[str(job["backend_id"])] for job in jobs
                    if str(job["backend_id"]) in problems}

    path = proxy_path(os.environ)
    needed = needs_proxy(site)
    checks_proxy = needed or "X509_USER_PROXY" in os.environ
    return SitePieces(
        backend=backend,
        prepare=prepare,
        card_path=card_path,
        verify=verify_output,
        expected=expected,
        backend_for=backend_for,
        log_tail=log_tail,
        fetch=fetch,
        proxy=(lambda: read_proxy(path, needed)) if checks_proxy else None,
        backend_at=lambda folder: backend_for_site(site, folder),
    )


def stderr_tail_of(path: Path, lines: int = 3, limit: int = 4096) -> str | None:
    """The last non-empty lines of a job's stderr (read from its end: logs can be big)."""
    try:
        with path.open("rb") as stream:
            stream.seek(0, 2)
            size = stream.tell()
            stream.seek(max(0, size - limit))
            text = stream.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    return stderr_tail(text, lines) or None


def run_cycle(options: CycleOptions) -> SiteCycleResult:
    """One cycle with the real pieces (what `mcprod reconcile --once` runs)."""
    from reconciler.enqueue.step import enqueue

    def open_it(opts: CycleOptions) -> Store:
        # Never created here: a missing state.db must not become a fresh, empty history.
        return open_store(opts.db_url, opts.repo_root)

    def do_enqueue(store: Store, repo: DeclaredRepo, result: SiteCycleResult) -> None:
        done = enqueue(store, repo, rat_roots=options.rat_roots, prune=options.prune,
                       max_cancel=options.max_cancel, dry_run=options.dry_run)
        result.enqueued = done.to_create if options.dry_run else done.applied.created
        if done.refusal:
            result.errors.append(f"enqueue refused: {done.refusal}")

    def load(opts: CycleOptions) -> Loaded:
        return load_for_cycle(opts.repo_root, sync=opts.sync)

    return run_site_cycle(
        options, load=load, open_store=open_it, pieces_for=site_pieces, enqueue=do_enqueue
    )
