"""Data documents hold what analysts select and fetch by, read back through
`data_by_label` on both stores (the legacy data documents' fields)."""

from __future__ import annotations

from pathlib import Path

from reconciler.site.monitor import data_document
from reconciler.store.design import ensure_design
from reconciler.store.open import open_store
from tests.site.support import job_doc

FILE = {"name": "WaterBi214_r7_s3_p2.root", "url": "file:///se/water/WaterBi214_r7_s3_p2.root",
        "size": 4711, "adler32": "0badcafe", "guid": "8d0a6a9c-1111-4c1e-9a7b-0123456789ab",
        "lfn": "/snoplus/mc/water/WaterBi214_r7_s3_p2.root"}


def test_data_documents_carry_every_field_and_the_label_view_gives_them(
    store_url: str, tmp_path: Path
) -> None:
    job = job_doc(7, _id="job:WaterBi214:r7:s3:p2", subrun=3, index=3, labels=["water", "paper"],
                  ratdb_tag="frozen-1", template={"radius": 7250}, attempt=2,
                  **{"pass": 2})
    doc = data_document(job, "ratds", [FILE])
    assert {k: v for k, v in doc.items() if k != "files"} == {
        "_id": "data:ratds:WaterBi214:r7:s3:p2", "type": "data", "data_type": "ratds",
        "module": "WaterBi214", "run": 7, "subrun": 3, "pass": 2, "campaign": "water",
        "labels": ["water", "paper"], "rat_version": "7.0.8", "ratdb_tag": "frozen-1",
        "extras": {"radius": 7250}, "event_mode": "number", "events": 10, "duration_s": None,
        "job_id": "job:WaterBi214:r7:s3:p2", "attempt": 2,
    }
    store = open_store(store_url, tmp_path)
    ensure_design(store)
    store.create(doc)
    for label in ("water", "paper"):
        rows = store.view("mcprod/data_by_label", startkey=[label], endkey=[label, {}])
        assert [(row.id, row.key) for row in rows] == [
            ("data:ratds:WaterBi214:r7:s3:p2", [label, "WaterBi214", 7, 2, 3])
        ]
        assert rows[0].value == {
            "data_type": "ratds", "module": "WaterBi214", "run": 7, "subrun": 3, "pass": 2,
            "rat_version": "7.0.8", "ratdb_tag": "frozen-1", "extras": {"radius": 7250},
            "events": 10, "job_id": "job:WaterBi214:r7:s3:p2", "files": [FILE],
        }
    store.close()
