"""Building blocks for the site tests: job documents, a store, a local backend, outputs."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from reconciler.backends.base import Backend, BackendContext
from reconciler.backends.registry import create_backend
from reconciler.documents import job_id
from reconciler.model import BackendConfig, Campaign, Entry, Retry, Site, SourceRef, Storage
from reconciler.store.design import ensure_design
from reconciler.store.interface import Store
from reconciler.store.open import open_store

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def fresh_store(url: str, root: Path) -> Store:
    store = open_store(url, root, create=True)
    ensure_design(store)
    return store


def local_backend(work_dir: Path, max_running: int = 50) -> Backend:
    return create_backend(BackendConfig("local"), BackendContext("here", work_dir, max_running))


def site(name: str = "here", **changes: Any) -> Site:
    base: dict[str, Any] = {
        "name": name,
        "source": SourceRef(f"sites/{name}.yaml"),
        "backend": BackendConfig("local"),
        "storage": Storage("file:///unused"),
        "max_running": 3,
        "rat_locations": {"7.0.8": "CVMFS"},
    }
    base.update(changes)
    return Site(**base)


def campaign(label: str = "water", **changes: Any) -> Campaign:
    base: dict[str, Any] = {
        "label": label,
        "rat_version": "7.0.8",
        "source": SourceRef(f"campaigns/{label}.yaml"),
        "modules": (Entry("WaterBi214", 0, SourceRef(f"campaigns/{label}.yaml")),),
        "retry": Retry(3, ("gfal-copy error: 70",)),
    }
    base.update(changes)
    return Campaign(**base)


def job_doc(run: int, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_id": job_id("WaterBi214", run, 0, 1),
        "type": "job",
        "module": "WaterBi214",
        "run": run,
        "subrun": 0,
        "pass": 1,
        "campaign": "water",
        "labels": ["water"],
        "entry_key": "k",
        "index": run,
        "rat_version": "7.0.8",
        "event_mode": "number",
        "events": 10,
        "macro_path": "mac/production/water/Bi214.mac",
        "outputs": ["ratds", "ntuple"],
        "priority": 100,
        "paused": False,
        "status": "waiting",
        "created_at": f"2026-01-01T00:00:{run:02d}.000000Z",
        "attempt": 0,
        "attempts": [],
        "site": None,
    }
    doc.update(changes)
    return doc


def add_jobs(store: Store, runs: range, **changes: Any) -> list[dict[str, Any]]:
    store.bulk_create([job_doc(run, **changes) for run in runs])
    return [d for d in store.get_many([job_id("WaterBi214", r, 0, 1) for r in runs]) if d]


def adler32_hex(data: bytes) -> str:
    return f"{zlib.adler32(data) & 0xFFFFFFFF:08x}"


def write_outputs(storage: Path, card: Path, job: dict[str, Any], data: bytes = b"events") -> None:
    """What a successful job leaves: both declared outputs on storage and a return card."""
    storage.mkdir(parents=True, exist_ok=True)
    stem = f"{job['module']}_r{job['run']}_s{job.get('subrun', 0)}_p{job['pass']}"
    files = []
    for name in (f"{stem}.root", f"{stem}.ntuple.root"):
        (storage / name).write_bytes(data)
        files.append({"name": name, "url": (storage / name).as_uri(), "size": len(data),
                      "adler32": adler32_hex(data)})
    card.parent.mkdir(parents=True, exist_ok=True)
    card.write_text(json.dumps({"files": files}))


def expect_in(storage: Path) -> Callable[[dict[str, Any]], dict[str, str]]:
    """The monitor's expected outputs for the flat layout `write_outputs` uses."""
    def expected(job: dict[str, Any]) -> dict[str, str]:
        stem = f"{job['module']}_r{job['run']}_s0_p{job['pass']}"
        return {(storage / f"{stem}.root").as_uri(): "ratds",
                (storage / f"{stem}.ntuple.root").as_uri(): "ntuple"}

    return expected


def verify_file_url(url: str, size: int, adler32: str) -> str | None:
    """A file:// verifier with the monitor's contract (None = as recorded)."""
    path = Path(urlparse(url).path)
    if not path.exists():
        return "missing on storage"
    data = path.read_bytes()
    if len(data) != size:
        return f"size {len(data)} on storage, {size} recorded"
    actual = adler32_hex(data)
    if actual != adler32:
        return f"adler32 {actual} on storage, {adler32} recorded"
    return None
