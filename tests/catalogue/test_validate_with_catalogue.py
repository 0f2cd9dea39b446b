"""The catalogue as `mcprod validate` uses it: a legacy request, imported, checked against
the fixture release's modules (end to end through the real CLI)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.helpers import REPO_ROOT, run_mcprod

FIXTURES = REPO_ROOT / "tests" / "fixtures"
RELEASE = FIXTURES / "rat-release"

SITE = """# yaml-language-server: $schema=../schemas/site.schema.json
name: cedar
backend: {type: slurm, partition: snoplus}
rat_locations: {"9.9.0": CVMFS}
storage: {base_url: "srm://se.example.org/snoplus/production"}
ratdb: {protocol: postgres, host: ratdb.example.org, database: ratdb, user: snoprod,
        auth: {file: /home/snoprod/.ratdb}}
"""


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "schemas", repo / "schemas")
    (repo / "rat-versions").mkdir()
    (repo / "sites").mkdir()
    (repo / "campaigns").mkdir()
    shutil.copyfile(FIXTURES / "rat-versions" / "9.9.0.yaml", repo / "rat-versions" / "9.9.0.yaml")
    (repo / "sites" / "cedar.yaml").write_text(SITE)
    return repo


def _import(repo: Path, tmp_path: Path, label: str, modules: list[dict[str, object]]) -> None:
    request = tmp_path / f"{label}.json"
    request.write_text(json.dumps({"rat_v": "9.9.0", "modules": modules}))
    result = run_mcprod(["import-jobs", str(request), "--label", label, "--repo", str(repo)])
    assert result.returncode == 0, result.stderr


def test_imported_requests_validate_against_the_generated_catalogue(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _import(repo, tmp_path, "one-of-each-mode", [
        {"module": "WaterPmtBetagammas", "n_ev": 1000, "ev_per_run": 100,
         "template": {"radius": 7250}},
        {"module": "TeLoadedBipo212-pure_RAT5", "t_run": 365, "t_format": "day", "n_runs": 5},
        {"module": "WaterBi214Run", "n_runs": 1, "run_numbers": [100151, 100152]},
        {"module": "WaterN16sourceRun", "n_ev": 210000, "ev_per_run": 35000,
         "run_numbers": [100151]},
    ])
    ok = run_mcprod(["validate", "--repo", str(repo), "--rat-root", f"9.9.0={RELEASE}"])
    output = ok.stdout + ok.stderr
    assert ok.returncode == 0, output
    assert "skipped" not in output
    assert "Traceback" not in output

    _import(repo, tmp_path, "misspelled", [
        {"module": "WaterPmtBetagamas", "n_ev": 1000, "ev_per_run": 100},
    ])
    bad = run_mcprod(["validate", "--repo", str(repo), "--rat-root", f"9.9.0={RELEASE}"])
    output = bad.stdout + bad.stderr
    assert bad.returncode == 1
    assert "campaigns/misspelled.yaml:" in output
    assert "WaterPmtBetagammas" in output  # the near miss is suggested
    assert "Traceback" not in output
