"""`plan --label` plans only the named campaigns, past other people's broken ones, and
`plan`/`reconcile --once` refuse uncommitted declared files unless --allow-dirty,
which stamps jobs `<commit>+dirty` (a truthful audit trail)."""

from __future__ import annotations

from pathlib import Path

from tests.enqueue.repo import all_jobs, campaign_yaml, make_repo
from tests.helpers import init_sqlite, run_mcprod

MINE = campaign_yaml("mine", ["{module: WaterBi214, n_ev: 2000, ev_per_run: 1000}"])
THEIRS = campaign_yaml("theirs", ["{module: WaterBi214Rn, n_ev: 2000, ev_per_run: 1000}"])


def test_plan_label_plans_mine_and_reports_what_cannot_be_planned(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"mine": MINE, "theirs": THEIRS})
    db = ["--db", f"sqlite:///{tmp_path}/state.db"]
    init_sqlite(db[1])  # as `mcprod db init`: no other command creates the database
    whole = run_mcprod(["plan", "--repo", str(repo.root), *db, *repo.rat_root])
    assert whole.returncode == 1  # the shared repository holds someone's typo
    result = run_mcprod(
        ["plan", "--repo", str(repo.root), *db, *repo.rat_root, "--label", "mine"]
    )
    assert result.returncode == 0, result.stderr
    assert "campaign mine:" in result.stdout and "theirs" not in result.stdout
    both = run_mcprod(
        ["plan", "--repo", str(repo.root), *db, *repo.rat_root, "--label", "mine",
         "--label", "theirs"]
    )
    assert both.returncode == 1
    assert "campaign mine:" in both.stdout
    assert both.stderr.splitlines() == [
        "campaigns/theirs.yaml:8:6: modules[0] (WaterBi214Rn): module: no module"
        " 'WaterBi214Rn' in RAT 0.1.0-standin (did you mean 'WaterBi214Run'?)",
        "error: plan: not planned: theirs (see the errors above)",
    ]


def test_a_dirty_tree_is_refused_unless_allowed_then_stamped(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"mine": MINE})
    head = repo.commit("mine")
    url = f"sqlite:///{tmp_path}/state.db"
    init_sqlite(url)
    repo.write_campaign("mine", MINE.replace("n_ev: 2000", "n_ev: 3000"))
    args = ["--repo", str(repo.root), "--db", url, *repo.rat_root]
    for command in (["plan"], ["reconcile", "--once"]):
        refused = run_mcprod([*command, *args])
        assert refused.returncode == 1
        assert refused.stderr == (
            f"error: uncommitted changes in campaigns/mine.yaml: jobs would be stamped with"
            f" commit {head[:12]}, which does not hold them; commit first, or pass"
            f" --allow-dirty to stamp {head[:12]}+dirty\n"
        )
    allowed = run_mcprod(["reconcile", "--once", "--allow-dirty", *args])
    assert allowed.returncode == 0, allowed.stderr
    assert f"commit {head[:12]}+dirty" in allowed.stdout
    assert {job["commit"] for job in all_jobs(url, repo.root)} == {f"{head}+dirty"}


def test_modules_lists_a_release_as_a_table_and_as_json(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {})
    text = run_mcprod(["modules", "0.1.0-standin", "Water*", "--repo", str(repo.root),
                       "--rat-root", str(repo.release)])
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == [
        f"RAT 0.1.0-standin (from the release at {repo.release})",
        "  module              event mode  outputs        template keys",
        "  WaterBi214          number      ratds, ntuple  -",
        "  WaterBi214Run       run         ratds          -",
        "  WaterPmtBetagammas  number      ratds, ntuple  ${radius}",
        "3 modules",
    ]
    missing = run_mcprod(["modules", "0.1.0-standin", "--repo", str(repo.root)])
    assert missing.returncode == 1
    assert "no release on disk beside" in missing.stderr
