"""One active reconciler per site (DESIGN.md invariant 10): the lease in the store.

Two reconcilers of one site with different work folders (two clones, or
`--work-dir`), released together for 20 rounds, on the local backend and on the real
Slurm: whoever holds the lease works, the other stops with one line naming the
holder; as the short test lease expires between rounds they take turns, and each
reads the other's attempts from the folder recorded on them. Nothing fails because
of the other, no attempt is submitted twice, every job completes."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import re
import time
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import McprodError
from reconciler.site.cycle import CycleOptions
from reconciler.site.lease import Holder, decide
from reconciler.site.wiring import run_cycle
from tests.services.slurm import SlurmCluster
from tests.site.cycle_support import backend_names, git, jobs, make_site_repo, store_of

LEASE_S = 0.6
ROUNDS = 20
NOW = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
HELD = re.compile(
    r"site local is held by another reconciler \(host \S+, work folder (?P<folder>\S+),"
    r" pid \d+, since \S+\); its lease expires at \S+: stop that one, or run again after that"
)


def test_the_lease_decision() -> None:
    me, other = Holder("h1", "/a", 1), Holder("h2", "/b", 2)
    first = decide("s", None, me, NOW, 60)
    assert first.doc is not None and first.doc["holder"]["work_dir"] == "/a"
    assert first.doc["expires_at"] == "2026-01-01T12:01:00.000000Z"
    renewed = decide("s", first.doc, Holder("h1", "/a", 99), NOW, 60)
    assert renewed.doc is not None and renewed.note is None
    refused = decide("s", first.doc, other, NOW + dt.timedelta(seconds=30), 60)
    assert refused.doc is None
    assert refused.refusal == (
        "site s is held by another reconciler (host h1, work folder /a, pid 1,"
        " since 2026-01-01T12:00:00.000000Z); its lease expires at"
        " 2026-01-01T12:01:00.000000Z: stop that one, or run again after that"
    )
    taken = decide("s", first.doc, other, NOW + dt.timedelta(seconds=61), 60)
    assert taken.doc is not None and taken.doc["taken_over_from"]["work_dir"] == "/a"
    assert taken.note == (
        "took over the lease of site s from host h1, work folder /a, pid 1,"
        " expired at 2026-01-01T12:01:00.000000Z"
    )


def _one_cycle(options: CycleOptions, start: Any, results: Any) -> None:
    start.wait()
    try:
        result = run_cycle(options)
        results.put((str(options.work_dir), result.submitted, result.failed, result.errors))
    except McprodError as error:
        results.put((str(options.work_dir), 0, 0, [f"refused: {error}"]))


def race(repo: Path, env: dict[str, str], tmp_path: Path) -> None:
    works = [tmp_path / "work-a", tmp_path / "work-b"]
    options = [CycleOptions(site="local", repo_root=repo, work_dir=w, lease_s=LEASE_S,
                            retry_backoff_s=0) for w in works]
    context = multiprocessing.get_context("fork")
    turns: set[str] = set()
    for _ in range(ROUNDS):
        start, results = context.Event(), context.Queue()
        both = [context.Process(target=_one_cycle, args=(o, start, results)) for o in options]
        for process in both:
            process.start()
        start.set()
        for process in both:
            process.join(120)
        reports = [results.get(timeout=5) for _ in both]
        for work, _submitted, failed, errors in reports:
            refusals = [e for e in errors if e.startswith("refused: ")]
            assert failed == 0 and len(refusals) == len(errors), reports
            for refusal in refusals:
                holder = HELD.fullmatch(refusal.removeprefix("refused: "))
                assert holder is not None and holder["folder"] != work, refusal
            if not refusals:
                turns.add(work)
        time.sleep(LEASE_S)
    assert turns == {str(w) for w in works}, "the two never took turns"
    deadline = time.monotonic() + 120
    while True:
        statuses = sorted(j["status"] for j in jobs(store_of(repo)))
        if statuses == ["completed"] * 12:
            break
        assert "failed" not in statuses, statuses
        assert time.monotonic() < deadline, statuses
        run_cycle(options[0])
        time.sleep(0.5)
    for job in jobs(store_of(repo)):
        assert [a["status"] for a in job["attempts"]] == ["completed"], job["attempts"]
        assert job["attempts"][0]["work_dir"] in {str(w) for w in works}


def test_two_work_folders_on_the_local_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_site_repo(tmp_path / "repo")
    monkeypatch.delenv("MCPROD_DB", raising=False)
    race(repo, {}, tmp_path)
    names = backend_names(tmp_path / "work-a") + backend_names(tmp_path / "work-b")
    assert len(names) == len(set(names)) == 12  # one submission per attempt, across both


@pytest.mark.slurm
def test_two_work_folders_on_slurm(
    slurm_cluster: SlurmCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_site_repo(tmp_path / "repo")
    site = repo / "sites" / "local.yaml"
    site.write_text(site.read_text().replace(
        "backend: {type: local}", f"backend: {{type: slurm, partition: {slurm_cluster.partition}}}"
    ) + "store: embedded\n")
    git(repo, "commit", "-qam", "run local on Slurm")
    monkeypatch.delenv("MCPROD_DB", raising=False)
    for name, value in slurm_cluster.env.items():
        monkeypatch.setenv(name, value)
    race(repo, slurm_cluster.env, tmp_path)
