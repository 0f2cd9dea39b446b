"""The JavaScript and Python map functions, generated from one definition, emit the same rows.

Runs the generated JavaScript in Node (the same engine family CouchDB and
pouchdb-server use) on documents with awkward fields, and compares with Python.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from reconciler.store.views import VIEWS, design_document, javascript_map, python_map

AWKWARD_DOCS: list[dict[str, Any]] = [
    {"_id": "j1", "type": "job", "status": "waiting", "module": "M", "run": 1, "pass": 0,
     "priority": 3, "created_at": "t1", "campaign": "c", "entry_key": "e", "index": 0,
     "labels": ["c", "d", "c"], "site": "oak", "backend_id": "77", "rat_version": "7.0.8"},
    {"_id": "j2", "type": "job", "status": "waiting"},  # almost everything missing
    {"_id": "j3", "type": "job", "status": "waiting", "paused": [], "priority": "high"},
    {"_id": "j4", "type": "job", "status": "waiting", "paused": 0, "priority": -0.5,
     "site": "", "labels": "not-a-list"},
    {"_id": "j5", "type": "job", "status": "Waiting", "paused": None, "priority": True},
    {"_id": "j6", "type": "job", "status": "running", "site": {"name": "x"}, "labels": []},
    {"_id": "j7", "type": "job", "status": "completed", "campaign": "c", "module": "M", "run": 2,
     "attempts": [
         {"n": 1, "site": "oak", "status": "failed", "reason": "exit 3",
          "finished_at": "t2"},
         {"n": 2, "site": "oak", "status": "completed", "finished_at": "t3"},
         {"n": 3, "status": "released", "finished_at": ""},
         None, ["failed"], "failed", {"status": "Failed"}, {"status": "failed"},
     ]},
    {"_id": "j8", "type": "job", "attempts": {"status": "failed"}},
    {"_id": "d1", "type": "data", "data_type": "ntuple", "module": "M", "run": 1, "pass": 0,
     "labels": ["c", None]},
    {"_id": "x1", "type": "campaign", "status": "waiting", "labels": ["c"]},
    {"_id": "x2", "status": "waiting"},
    # failed_to_judge: undecided unless retry_checked === attempt (missing is not null)
    {"_id": "f1", "type": "job", "status": "failed", "site": "oak", "attempt": 2,
     "retry_checked": 1},
    {"_id": "f2", "type": "job", "status": "failed", "site": "oak", "attempt": 2,
     "retry_checked": 2.0},
    {"_id": "f3", "type": "job", "status": "failed", "site": "oak", "attempt": None},
    {"_id": "f4", "type": "job", "status": "failed", "site": "oak"},
    {"_id": "f5", "type": "job", "status": "failed", "site": "oak", "attempt": 1,
     "retry_checked": True},
    {"_id": "f6", "type": "job", "status": "failed", "site": "oak", "attempt": [1],
     "retry_checked": [1]},
    # cancels_to_stop: the last attempt asks for it
    {"_id": "c1", "type": "job", "status": "cancelled", "site": "oak",
     "attempts": [{"status": "cancel_requested"}, {"status": "lost"}]},
    {"_id": "c2", "type": "job", "status": "cancelled", "site": "oak",
     "attempts": [{"status": "lost"}, {"status": "cancel_requested"}]},
    {"_id": "c3", "type": "job", "status": "cancelled", "site": "oak",
     "attempts": [None]},
    {"_id": "c4", "type": "job", "status": "cancelled", "site": "oak", "attempts": []},
    {"_id": "c5", "type": "job", "status": "cancelled", "site": "oak",
     "attempts": {"status": "cancel_requested"}},
    {"_id": "c6", "type": "job", "status": "cancelled", "site": "oak",
     "attempts": [["cancel_requested"]]},
]

NODE_RUNNER = """
const maps = JSON.parse(process.argv[1]);
const docs = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = {};
for (const [name, source] of Object.entries(maps)) {
  const rows = [];
  const emit = (key, value) => rows.push([key, value]);
  const fn = eval('(' + source + ')');
  for (const doc of docs) {
    const before = rows.length;
    fn(JSON.parse(JSON.stringify(doc)));
    for (let i = before; i < rows.length; i++) rows[i].unshift(doc._id);
  }
  out[name] = JSON.parse(JSON.stringify(rows));  // as CouchDB stores them: JSON
}
process.stdout.write(JSON.stringify(out));
"""


def test_javascript_and_python_maps_emit_the_same_rows() -> None:
    node = shutil.which("node")
    assert node, "node is needed for this test (it runs pouchdb-server too)"
    maps = {spec.name: javascript_map(spec) for spec in VIEWS}
    result = subprocess.run(
        [node, "-e", NODE_RUNNER, json.dumps(maps)],
        input=json.dumps(AWKWARD_DOCS), capture_output=True, text=True, check=True, timeout=60,
    )
    from_js = json.loads(result.stdout)
    from_python = {
        spec.name: [
            [doc["_id"], key, value]
            for doc in AWKWARD_DOCS
            for key, value in python_map(spec)(json.loads(json.dumps(doc)))
        ]
        for spec in VIEWS
    }
    assert from_python == from_js
    assert sum(len(rows) for rows in from_js.values()) > 20  # not vacuous
    # j5 says "Waiting", which is not "waiting"; a `paused` field (earlier releases) is
    # not looked at: the campaign's declared state decides.
    assert [row[0] for row in from_js["waiting_by_campaign"]] == ["j1", "j2", "j3", "j4"]
    # Per-attempt views: only object elements that meet the item conditions.
    assert [row[1] for row in from_js["failed_attempts"]] == [
        ["c", "M", "exit 3"], ["c", "M", None],
    ]
    assert [row[1] for row in from_js["completions_by_campaign"]] == [["c", "t3"]]
    assert [row[0] for row in from_js["failed_to_judge"]] == ["f1", "f3", "f5", "f6"]
    assert [row[0] for row in from_js["cancels_to_stop"]] == ["c2"]


def test_design_document_lists_every_view_with_its_reduce() -> None:
    design = design_document()
    assert design["_id"] == "_design/mcprod"
    assert {name: view.get("reduce") for name, view in design["views"].items()} == {
        "jobs_by_status_module": "_count",
        "jobs_by_campaign": None,
        "jobs_by_campaign_module_status": "_count",
        "jobs_by_module_run": None,
        "waiting_by_campaign": None,
        "jobs_by_site_status": "_count",
        "failed_to_judge": None,
        "cancels_to_stop": None,
        "data_by_label": None,
        "exactly_by_label": None,
        "jobs_by_campaign_entry_status": "_count",
        "failed_attempts": None,
        "attempts_by_site_finished": "_count",
        "completions_by_campaign": None,
    }
