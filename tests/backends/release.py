"""A tiny RAT release in tmp_path whose env script puts the stand-in `rat` on PATH."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.documents import job_id
from reconciler.model import BackendConfig, Site, SourceRef, Storage

STANDIN_BIN = Path(__file__).resolve().parents[1] / "bin"
TAG_ARGS = ("--standin-ratdb-tag", "{tag}")
"""How the stand-in RAT takes a RATDB tag (its RAT version file's `ratdb.tag_args`)."""

MACRO = """\
/rat/db/set DETECTOR geo_file "geo/snoplus_water.geo"
/run/initialize
/rat/proc frontend
/rat/proc outroot
/rat/procset file "ignored_by_mcprod.root"
/rat/proclast outntuple
/generator/add combo gun:fill
/generator/pos/set 0 0 ${z}
/generator/rate/set ${rate}
/rat/run/start
"""


def make_release(root: Path, version: str = "7.0.8", macro: str = MACRO) -> Path:
    """A release folder with an env script and one macro; returns the env script."""
    mac = root / "mac" / "production" / "water"
    mac.mkdir(parents=True)
    (mac / "Bi214.mac").write_text(macro)
    env = root / f"env_rat-{version}.sh"
    env.write_text(f'export PATH="{STANDIN_BIN}:$PATH"\nexport RATROOT="{root}"\n')
    return env


def make_site(storage: Path, version: str = "7.0.8", backend: str = "local") -> Site:
    return Site(
        name="here",
        source=SourceRef("sites/here.yaml"),
        backend=BackendConfig(backend),  # type: ignore[arg-type]
        storage=Storage(storage.as_uri()),
        max_running=4,
        rat_locations={version: "CVMFS"},
    )


def make_job(run: int = 101, attempt: int = 1, **changes: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "_id": job_id("WaterBi214", run, 0, 1),
        "type": "job",
        "module": "WaterBi214",
        "run": run,
        "subrun": 0,
        "pass": 1,
        "campaign": "water-v2",
        "labels": ["water-v2"],
        "rat_version": "7.0.8",
        "ratdb_tag": "water-v2-tag",
        "event_mode": "number",
        "events": 25,
        "duration_s": None,
        "macro_path": "mac/production/water/Bi214.mac",
        "outputs": ["ratds", "ntuple"],
        "template": {"z": -1500.5, "rate": 3},
        "attempt": attempt,
    }
    job.update(changes)
    return job
