"""sync against real git: a bare origin, an upstream clone that pushes, a site clone."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from reconciler.site.sync import SyncResult, sync_repository


class Repos:
    def __init__(self, tmp_path: Path) -> None:
        self.origin = git.Repo.init(tmp_path / "origin.git", bare=True, initial_branch="main")
        self.upstream = git.Repo.clone_from(self.origin.working_dir, tmp_path / "upstream")
        configure(self.upstream)
        self.commit_upstream("campaigns/a.yaml", "label: a\n")
        self.site = git.Repo.clone_from(self.origin.working_dir, tmp_path / "site")
        configure(self.site)
        self.site_root = Path(self.site.working_dir)

    def commit_upstream(self, path: str, text: str) -> str:
        file = Path(self.upstream.working_dir) / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
        self.upstream.index.add([path])
        sha = self.upstream.index.commit(f"change {path}").hexsha
        self.upstream.git.push("origin", "HEAD:main")
        return sha

    @property
    def site_head(self) -> str:
        return self.site.head.commit.hexsha


def configure(repo: git.Repo) -> None:
    with repo.config_writer() as config:
        config.set_value("user", "name", "mcprod test")
        config.set_value("user", "email", "test@example.invalid")


@pytest.fixture
def repos(tmp_path: Path) -> Repos:
    return Repos(tmp_path)


def no_bad_labels(tree: Path) -> list[str]:
    """A stand-in validator: a campaign whose text says `bad` is invalid."""
    return [
        f"campaigns/{f.name}:1:1: label: 'bad' is not allowed"
        for f in sorted((tree / "campaigns").glob("*.yaml"))
        if "bad" in f.read_text()
    ]


def test_up_to_date_changes_nothing(repos: Repos) -> None:
    head = repos.site_head
    assert sync_repository(repos.site_root, validate=no_bad_labels) == SyncResult(head, head, head)


def test_a_valid_new_commit_is_fast_forwarded(repos: Repos) -> None:
    before = repos.site_head
    new = repos.commit_upstream("campaigns/b.yaml", "label: b\n")
    result = sync_repository(repos.site_root, validate=no_bad_labels)
    assert result == SyncResult(new, before, new, updated=True)
    assert result.ok
    assert repos.site_head == new
    assert (repos.site_root / "campaigns/b.yaml").read_text() == "label: b\n"


def test_an_invalid_new_commit_keeps_the_last_good_one(repos: Repos) -> None:
    good = repos.site_head
    bad = repos.commit_upstream("campaigns/b.yaml", "label: bad\n")
    result = sync_repository(repos.site_root, validate=no_bad_labels)
    assert result == SyncResult(
        good, good, bad,
        error=f"commit {bad[:12]} on origin/main does not validate (keeping {good[:12]}): "
        "campaigns/b.yaml:1:1: label: 'bad' is not allowed",
    )
    assert repos.site_head == good
    assert not (repos.site_root / "campaigns/b.yaml").exists()
    assert repos.site.git.worktree("list").count("\n") == 0  # the check's worktree is gone
    fixed = repos.commit_upstream("campaigns/b.yaml", "label: b\n")
    assert sync_repository(repos.site_root, validate=no_bad_labels) == SyncResult(
        fixed, good, fixed, updated=True
    )


def test_a_dirty_work_tree_is_not_touched(repos: Repos) -> None:
    head = repos.site_head
    repos.commit_upstream("campaigns/b.yaml", "label: b\n")
    (repos.site_root / "campaigns/a.yaml").write_text("label: edited-at-the-site\n")
    (repos.site_root / "untracked.txt").write_text("does not count\n")
    result = sync_repository(repos.site_root, validate=no_bad_labels)
    assert result == SyncResult(
        head, head,
        error="work tree has local changes (campaigns/a.yaml): not pulling; "
        "commit or discard them",
    )
    assert (repos.site_root / "campaigns/a.yaml").read_text() == "label: edited-at-the-site\n"


def test_staged_changes_count_as_dirty(repos: Repos) -> None:
    (repos.site_root / "campaigns/c.yaml").write_text("label: c\n")
    repos.site.index.add(["campaigns/c.yaml"])
    assert sync_repository(repos.site_root).error == (
        "work tree has local changes (campaigns/c.yaml): not pulling; commit or discard them"
    )


def test_diverged_history_keeps_the_local_commit(repos: Repos) -> None:
    (repos.site_root / "campaigns/local.yaml").write_text("label: local\n")
    repos.site.index.add(["campaigns/local.yaml"])
    local = repos.site.index.commit("a commit made at the site").hexsha
    remote = repos.commit_upstream("campaigns/b.yaml", "label: b\n")
    assert sync_repository(repos.site_root, validate=no_bad_labels) == SyncResult(
        local, local, remote,
        error="local branch main and origin/main have diverged: not a fast-forward; "
        f"keeping {local[:12]}",
    )
    assert repos.site_head == local


def test_local_commits_ahead_of_the_remote_are_reported(repos: Repos) -> None:
    remote = repos.site_head
    (repos.site_root / "campaigns/local.yaml").write_text("label: local\n")
    repos.site.index.add(["campaigns/local.yaml"])
    local = repos.site.index.commit("a commit made at the site").hexsha
    assert sync_repository(repos.site_root) == SyncResult(
        local, local, remote,
        error="local branch main has commits that origin/main does not have: "
        f"not a fast-forward; keeping {local[:12]}",
    )


def test_an_unreachable_remote_is_an_error_not_a_crash(repos: Repos, tmp_path: Path) -> None:
    head = repos.site_head
    repos.site.remote("origin").set_url(str(tmp_path / "gone.git"))
    result = sync_repository(repos.site_root)
    assert result.commit == head
    assert result.error is not None
    assert result.error.startswith("fetch from origin failed: ")
    assert "gone.git" in result.error


def test_not_a_repository(tmp_path: Path) -> None:
    assert sync_repository(tmp_path) == SyncResult(
        None, error=f"{tmp_path}: not a git repository: cannot sync"
    )
