"""Documents with awkward keys for comparing the two stores' views.

Run numbers have the same number of digits and module names the same case pattern,
so that ids and keys order the same under code-point collation (SQLite store,
pouchdb-server) and ICU collation (real CouchDB, when MCPROD_TEST_COUCH is set).
"""

from __future__ import annotations

from typing import Any

from reconciler.documents import JOB_STATUSES, data_id, job_id

MODULES = ("Alpha", "Beta", "Gamma")
CAMPAIGNS = ("scint-a", "water-b")


def job_docs() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for i in range(60):
        module = MODULES[i % 3]
        run = 300000 + i // 2
        pass_ = i % 2
        subrun = (i // 6) % 2
        status = JOB_STATUSES[i % len(JOB_STATUSES)]
        campaign = CAMPAIGNS[i % 2]
        doc: dict[str, Any] = {
            "_id": job_id(module, run, subrun, pass_),
            "type": "job",
            "module": module,
            "run": run,
            "subrun": subrun,
            "pass": pass_,
            "campaign": campaign,
            "entry_key": f"e{i % 4}",
            "index": i // 4,
            "labels": [campaign] if i % 5 else [campaign, "shared"],
            "rat_version": "7.0.8" if i % 2 else "7.0.9",
            "priority": [0, 5, -3, 2.5, 10][i % 5],
            "paused": i % 7 == 0,
            "status": status,
            "created_at": f"2026-01-{1 + i % 9:02d}T00:00:00.000000Z",
            "site": None if i % 3 == 0 else ("cedar" if i % 2 else "oak"),
            "backend_id": str(1000 + i) if i % 3 else None,
        }
        # The last attempt's members feed views (jobs_by_site_status): awkward shapes too.
        attempt_shapes: list[Any] = [
            [{"n": 1, "site": "oak", "status": "failed", "work_dir": "/w/oak"},
             {"n": 2, "site": "oak", "status": "running", "work_dir": "/w/ü"}],
            [{"n": 1, "status": "running"}],
            [],
            ["not an object"],
            [{"n": 1}, [1, 2]],
            "not a list",
        ]
        if i % 4:
            doc["attempts"] = attempt_shapes[i % len(attempt_shapes)]
            doc["attempt"] = i % 3
        docs.append(doc)
    # A job with missing fields: views must emit nulls for them, identically.
    docs.append(
        {"_id": "job:Delta:r300999:s0:p0", "type": "job", "status": "waiting", "priority": 1}
    )
    return docs


def data_docs() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for i, data_type in enumerate(("ratds", "ntuple", "ratds", "other_ntuple")):
        module = MODULES[i % 3]
        docs.append(
            {
                "_id": data_id(data_type, module, 300000 + i, i % 2, 0),
                "type": "data",
                "data_type": data_type,
                "module": module,
                "run": 300000 + i,
                "subrun": i % 2,
                "pass": 0,
                "campaign": "scint-a",
                "labels": ["scint-a", "shared"] if i % 2 else ["scint-a"],
                "job_id": job_id(module, 300000 + i, i % 2, 0),
                "files": [{"name": f"f{i}.root", "url": f"file:///d/f{i}.root", "size": i,
                           "adler32": "0000000a"}],
            }
        )
    return docs


# (view, query options): each is run on both stores and the answers compared.
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("mcprod/jobs_by_status_module", {}),
    ("mcprod/jobs_by_status_module", {"group_level": 1}),
    ("mcprod/jobs_by_status_module", {"group_level": 2}),
    ("mcprod/jobs_by_status_module", {"group_level": 5}),
    ("mcprod/jobs_by_status_module", {"reduce": False}),
    ("mcprod/jobs_by_status_module", {"reduce": False, "key": ["failed", "Beta"]}),
    ("mcprod/jobs_by_status_module", {"group_level": 2, "startkey": ["failed"],
                                      "endkey": ["running", {}]}),
    ("mcprod/jobs_by_status_module", {"group_level": 1, "descending": True}),
    ("mcprod/jobs_by_status_module", {"startkey": ["reserved"], "endkey": ["reserved", {}]}),
    ("mcprod/jobs_by_status_module", {"group_level": 2, "limit": 3, "skip": 2}),
    ("mcprod/jobs_by_status_module", {"reduce": False, "keys": [["waiting", "Alpha"],
                                                                ["nothing"], ["failed", "Beta"]]}),
    ("mcprod/jobs_by_status_module", {"keys": [["waiting", "Alpha"], ["nothing"],
                                              ["failed", "Beta"], ["waiting", "Alpha"]]}),
    ("mcprod/jobs_by_campaign", {}),
    ("mcprod/jobs_by_campaign", {"startkey": ["water-b"], "endkey": ["water-b", {}]}),
    ("mcprod/jobs_by_campaign", {"startkey": ["scint-a", "e2"], "endkey": ["scint-a", "e2", {}],
                                 "include_docs": True}),
    ("mcprod/jobs_by_campaign", {"limit": 5, "skip": 7, "descending": True}),
    ("mcprod/jobs_by_campaign_module_status", {"group_level": 2}),
    ("mcprod/jobs_by_campaign_module_status", {"group_level": 3,
                                               "startkey": ["water-b"], "endkey": ["water-b", {}]}),
    ("mcprod/jobs_by_campaign_module_status", {}),
    ("mcprod/jobs_by_module_run", {}),
    ("mcprod/jobs_by_module_run", {"startkey": ["Beta", 300010], "endkey": ["Beta", 300020]}),
    ("mcprod/jobs_by_module_run", {"keys": [["Gamma", 300004, 0, 1], ["Alpha", 300000, 0, 0]]}),
    ("mcprod/waiting_by_campaign", {}),
    ("mcprod/waiting_by_campaign", {"limit": 2}),
    ("mcprod/waiting_by_campaign", {"include_docs": True, "limit": 3}),
    ("mcprod/waiting_by_campaign", {"startkey": ["water-b"], "endkey": ["water-b", {}],
                                    "limit": 4}),
    ("mcprod/jobs_by_site_status", {}),
    ("mcprod/jobs_by_site_status", {"startkey": ["oak"], "endkey": ["oak", {}]}),
    ("mcprod/jobs_by_site_status", {"reduce": False}),
    ("mcprod/jobs_by_site_status", {"reduce": False, "keys": [["oak", "running"],
                                                              ["cedar", "failed"]]}),
    ("mcprod/jobs_by_site_status", {"keys": [["oak", "running"], ["cedar", "failed"]]}),
    ("mcprod/data_by_label", {}),
    ("mcprod/data_by_label", {"startkey": ["shared"], "endkey": ["shared", {}]}),
    ("mcprod/exactly_by_label", {}),
    ("mcprod/exactly_by_label", {"startkey": ["shared"], "endkey": ["shared", {}],
                                 "descending": False, "limit": 4}),
    ("mcprod/exactly_by_label", {"startkey": ["water-b", {}], "endkey": ["water-b"],
                                 "descending": True, "skip": 3, "limit": 4}),
]
