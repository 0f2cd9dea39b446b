"""Sub-runs: one run's events split inside one pass, as the legacy job splitter did.

The four legacy requests in tests/legacy/requests/ (imported as this repository's
campaigns/) plan to the job counts they always had; run_number jobs are sub-runs
0..k-1 of one pass per run, and a second campaign for the same runs gets the next pass.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from reconciler.config.load import require_valid
from reconciler.documents import job_id, parse_job_id
from reconciler.enqueue.expand import expand_campaign
from reconciler.model import Catalogue, EventMode, ModuleInfo
from tests.enqueue.repo import (
    VERSION,
    Repo,
    StoreFactory,
    all_jobs,
    campaign_yaml,
    make_repo,
    run_enqueue,
)
from tests.helpers import REPO_ROOT, run_mcprod

# The event modes the legacy dictionaries gave these modules (N16 by override).
LEGACY_MODES: dict[str, EventMode] = {
    "TeLoadedBipo212-pure_RAT5": "time",
    "WaterPmt_Betagammas": "number",
    "WaterBi214Run": "run",
    "WaterN16sourceRun": "run_number",
}
N16 = "{module: WaterBi214Run, n_ev: %d, ev_per_run: 500, run_numbers: [100151, 100152]}"


def _catalogue(version: str) -> Catalogue:
    modules = {
        name: ModuleInfo(mode, f"mac/production/{name}.mac", ("ratds", "ntuple"),
                         ("radius",) if name == "WaterPmt_Betagammas" else ())
        for name, mode in LEGACY_MODES.items()
    }
    return Catalogue(rat_version=version, modules=modules, content_hash="0" * 64)


def test_the_four_legacy_requests_plan_to_the_same_job_counts() -> None:
    declared = require_valid(REPO_ROOT)
    jobs = {
        label: expand_campaign(camp, _catalogue(camp.rat_version), None).jobs
        for label, camp in declared.campaigns.items()
    }
    assert {label: len(found) for label, found in jobs.items()} == {
        "teloaded-bipo212-rat5": 565,
        "WaterData_paper": 3397,  # ceil(985,000,000 / 290,000): the last takes the rest
        "water-bi214-runs": 2,
        "water-n16-source": 12,
    }
    n16 = [(job.run, job.subrun, job.events) for job in jobs["water-n16-source"]]
    assert n16 == [(run, sub, 35000) for run in (100151, 100152) for sub in range(6)]
    for label in ("teloaded-bipo212-rat5", "WaterData_paper", "water-bi214-runs"):
        assert {job.subrun for job in jobs[label]} == {0}


def test_job_ids_have_one_shape_and_parse_back() -> None:
    key = parse_job_id(job_id("TeLoadedBipo212-pure_RAT5", 600, 3, 7))
    assert key is not None and key.id == "job:TeLoadedBipo212-pure_RAT5:r600:s3:p7"
    assert (key.module, key.run, key.subrun, key.pass_) == ("TeLoadedBipo212-pure_RAT5", 600, 3, 7)
    for text in ("job:M:r1:p1", "job:M:r1:s0:p1.a1", "job:M:rx:s0:p1", "job:a b:r1:s0:p1",
                 "data:ratds:M:r1:s0:p1", "job:M:r1:s0:p1\n"):
        assert parse_job_id(text) is None, text


def _n16_repo(tmp_path: Path, campaigns: dict[str, str]) -> Repo:
    repo = make_repo(tmp_path / "repo", campaigns)
    version_file = repo.root / "rat-versions" / f"{VERSION}.yaml"
    text = version_file.read_text()
    version_file.write_text(text + "overrides: {WaterBi214Run: {event_mode: run_number}}\n")
    return repo



def _ids(url: str, repo: Repo, label: str) -> list[str]:
    return sorted(j["_id"] for j in all_jobs(url, repo.root) if j["campaign"] == label)


def test_sub_runs_share_one_pass_and_a_second_campaign_takes_the_next(
    tmp_path: Path, new_store: StoreFactory
) -> None:
    n_ev = 3000  # six sub-runs of 500 events per run
    repo = _n16_repo(tmp_path, {"n16-a": campaign_yaml("n16-a", [N16 % n_ev])})
    url = new_store()
    assert run_enqueue(repo, url).applied.created == 12
    first = [f"job:WaterBi214Run:r{run}:s{sub}:p1" for run in (100151, 100152)
             for sub in range(6)]
    assert _ids(url, repo, "n16-a") == sorted(first)

    repo.write_campaign("n16-b", campaign_yaml("n16-b", [N16 % n_ev]))
    assert run_enqueue(repo, url).applied.created == 12
    assert _ids(url, repo, "n16-b") == sorted(i.replace(":p1", ":p2") for i in first)

    # More events for the first campaign: new sub-runs join its pass, not a third one.
    repo.write_campaign("n16-a", campaign_yaml("n16-a", [N16 % (n_ev + 1000)]))
    assert run_enqueue(repo, url).applied.created == 4
    jobs = [j for j in all_jobs(url, repo.root) if j["campaign"] == "n16-a"]
    assert Counter((j["run"], j["pass"]) for j in jobs) == {(100151, 1): 8, (100152, 1): 8}
    assert sorted(j["subrun"] for j in jobs if j["run"] == 100151) == list(range(8))

    exactly = run_mcprod(["exactly", "n16-b", "--db", url])
    assert (exactly.returncode, exactly.stdout) == (
        0, "WaterBi214Run 100151 2\nWaterBi214Run 100152 2\n"
    )
    with_subruns = run_mcprod(["exactly", "n16-b", "--subruns", "--db", url])
    assert with_subruns.stdout.splitlines() == [
        f"WaterBi214Run {run} 2 {sub}" for run in (100151, 100152) for sub in range(6)
    ]
