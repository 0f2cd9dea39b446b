"""`mcprod db init`: creates the database, installs design documents, idempotent."""

from __future__ import annotations

import uuid
from pathlib import Path

from reconciler.store.open import open_store
from reconciler.store.views import DESIGN_ID, VIEWS
from tests.helpers import run_mcprod
from tests.services.couchserver import http_json


def _init(url: str) -> list[str]:
    result = run_mcprod(["db", "init", "--db", url])
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.splitlines()


def test_init_twice_writes_nothing_the_second_time(store_url: str, tmp_path: Path) -> None:
    # store_url's database exists already, without design documents.
    assert _init(store_url) == [f"{store_url}: database exists", "_design/mcprod: created"]
    store = open_store(store_url, tmp_path)
    design = store.get(DESIGN_ID)
    assert design is not None
    assert sorted(design["views"]) == sorted(spec.name for spec in VIEWS)
    last_seq = store.changes().last_seq
    assert _init(store_url) == [f"{store_url}: database exists", "design documents up to date"]
    assert store.get(DESIGN_ID) == design
    assert store.changes(since=last_seq).results == ()


def test_init_rewrites_a_design_document_that_differs(store_url: str, tmp_path: Path) -> None:
    _init(store_url)
    store = open_store(store_url, tmp_path)
    design = store.get(DESIGN_ID)
    assert design is not None
    stale = {**design, "views": {"jobs_by_campaign": design["views"]["jobs_by_campaign"]}}
    store.update(stale)
    assert _init(store_url)[1:] == ["_design/mcprod: updated"]
    current = store.get(DESIGN_ID)
    assert current is not None
    assert current["views"] == design["views"]
    assert current["_rev"].startswith("3-")


def test_init_creates_a_missing_database(couch_server_url: str, tmp_path: Path) -> None:
    couch = f"{couch_server_url}/mcprod_new_{uuid.uuid4().hex}"
    sqlite = f"sqlite://{tmp_path}/sub/state.db"
    for url in (couch, sqlite):
        assert _init(url) == [f"{url}: database created", "_design/mcprod: created"]
        assert _init(url) == [f"{url}: database exists", "design documents up to date"]
    http_json("DELETE", couch)


def test_init_refuses_a_database_holding_job_ids_without_sub_runs(
    store_url: str, tmp_path: Path
) -> None:
    store = open_store(store_url, tmp_path)
    store.create({"_id": "job:WaterBi214:r7:s0:p1", "type": "job", "status": "waiting"})
    store.create({"_id": "job:WaterBi214:r7:p2", "type": "job", "status": "waiting"})
    result = run_mcprod(["db", "init", "--db", store_url])
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        f"error: {store_url}: holds job documents named job:<module>:r<run>:p<pass> (e.g."
        " job:WaterBi214:r7:p2); this mcprod names jobs job:<module>:r<run>:s<sub>:p<pass>"
        " and will not mix both: use a new database\n",
    )
    assert store.get(DESIGN_ID) is None  # nothing installed into it
