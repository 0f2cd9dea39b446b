"""The cycle pulls its clone first: a valid new commit is used, a commit that does not
validate or a dirty work tree keeps the last good commit, for monitoring only."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reconciler.site.quickstart import create_database
from tests.site.cycle_support import git, jobs, make_site_repo, parsed, reconcile, store_of

CAMPAIGN = Path("campaigns") / "quickstart-demo.yaml"


@pytest.fixture
def clones(tmp_path: Path) -> tuple[Path, Path]:
    """(origin, site clone): the production manager's repository and the site's checkout."""
    origin = make_site_repo(tmp_path / "origin")
    site = tmp_path / "site"
    subprocess.run(["git", "clone", "-q", str(origin), str(site)], check=True)
    create_database(site)
    return origin, site


def edit(repo: Path, old: str, new: str) -> None:
    path = repo / CAMPAIGN
    path.write_text(path.read_text().replace(old, new))


def priorities(site: Path) -> set[int]:
    return {j["priority"] for j in jobs(store_of(site)) if j["module"] == "WaterBi214"}


def test_a_valid_new_commit_is_pulled_and_used(clones: tuple[Path, Path]) -> None:
    origin, site = clones
    assert parsed(reconcile(site))["errors"] == []
    edit(origin, "priority: 100", "priority: 150")
    git(origin, "commit", "-qam", "raise the priority")
    new = git(origin, "rev-parse", "HEAD").strip()
    result = reconcile(site)
    assert result.returncode == 0, result.stderr
    assert parsed(result)["commit"] == new
    assert git(site, "rev-parse", "HEAD").strip() == new
    assert priorities(site) == {150}


def test_a_pulled_commit_that_does_not_validate_is_not_used(clones: tuple[Path, Path]) -> None:
    origin, site = clones
    good = git(site, "rev-parse", "HEAD").strip()
    assert parsed(reconcile(site))["submitted"] == 4
    edit(origin, "priority: 100", "priority: high")
    git(origin, "commit", "-qam", "a typo")
    bad = git(origin, "rev-parse", "HEAD").strip()
    result = reconcile(site)
    assert result.returncode == 1
    report = parsed(result)
    assert (report["monitor_only"], report["commit"], report["submitted"]) == (True, good, 0)
    assert report["errors"][0] == (
        f"sync: commit {bad[:12]} on origin/main does not validate (keeping {good[:12]}):"
        " campaigns/quickstart-demo.yaml:6:1: priority: expected an integer, got 'high'"
    )
    assert report["errors"][-1] == f"working from the last good commit {good[:12]}: monitoring only"
    assert git(site, "rev-parse", "HEAD").strip() == good


def test_a_dirty_work_tree_is_not_pulled_over_nor_used(clones: tuple[Path, Path]) -> None:
    origin, site = clones
    good = git(site, "rev-parse", "HEAD").strip()
    assert parsed(reconcile(site))["errors"] == []
    edit(site, "priority: 100", "priority: 999")  # a local edit at the site
    edit(origin, "priority: 100", "priority: 150")
    git(origin, "commit", "-qam", "raise the priority")
    result = reconcile(site)
    assert result.returncode == 1
    report = parsed(result)
    assert report["errors"][0] == (
        "sync: work tree has local changes (campaigns/quickstart-demo.yaml): not pulling;"
        " commit or discard them"
    )
    assert (report["monitor_only"], report["commit"]) == (True, good)
    assert priorities(site) == {100}
    assert git(site, "rev-parse", "HEAD").strip() == good


def test_a_commit_adding_a_file_untracked_here_keeps_the_last_good_commit(
    clones: tuple[Path, Path],
) -> None:
    origin, site = clones
    assert parsed(reconcile(site))["errors"] == []
    before = git(site, "rev-parse", "HEAD").strip()
    (site / "runlists" / "extra.txt").write_text("100151\n")  # untracked at the site
    (origin / "runlists" / "extra.txt").write_text("100152\n")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "a run list")
    result = reconcile(site)
    assert result.returncode == 1
    report = parsed(result)
    assert report["monitor_only"] is True
    errors = report["errors"]
    assert errors[0].startswith("sync: fast-forward to ")
    assert errors[0].endswith(
        "): runlists/extra.txt | Please move or remove them before you merge. | Aborting"
    )
    assert "\n" not in errors[0]
    assert git(site, "rev-parse", "HEAD").strip() == before
    beat = store_of(site).get("site:local")
    assert beat is not None and beat["monitor_only"] is True
    assert beat["last_errors"] == errors
