"""sync: bring the site's clone of the repository up to the tracked branch, safely.

Only a fast-forward to a commit that validates moves HEAD (DESIGN.md invariant 7).
A new commit is validated before HEAD moves, in a temporary detached worktree, so
the clone is never left at an invalid commit. Anything else keeps the current
HEAD, which is the last good commit, and says why in `SyncResult.error`:

- a dirty work tree (tracked files changed at the site): nothing is fetched;
- a fetch that fails (network, credentials, remote gone);
- local commits the remote does not have (diverged, or merely ahead);
- a new commit that does not validate (the validator's messages).

The validator is a parameter (`Callable[[Path], Sequence[str]]`, error messages
for a checked-out tree; empty means valid) so this module does not depend on the
configuration loader.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import git

Validator = Callable[[Path], Sequence[str]]
MAX_SHOWN = 5


@dataclass(frozen=True)
class SyncResult:
    """What sync did. `commit` is the commit to work from (HEAD after sync)."""

    commit: str | None
    previous: str | None = None
    remote_commit: str | None = None
    updated: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def sync_repository(
    root: Path,
    *,
    validate: Validator | None = None,
    remote: str = "origin",
    branch: str | None = None,
) -> SyncResult:
    """Fetches `remote` and fast-forwards the current branch to `<remote>/<branch>`.

    `branch` defaults to the current branch's upstream (or its own name on `remote`).
    """
    try:
        repo = git.Repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return SyncResult(None, error=f"{root}: not a git repository: cannot sync")
    with repo:
        try:
            return _sync(repo, root, validate, remote, branch)
        except (git.GitCommandError, OSError, ValueError) as exc:
            # Whatever git refuses (a locked index, a broken ref): stay where we are.
            head = _head_commit(repo)
            what = _git_error(exc) if isinstance(exc, git.GitCommandError) else str(exc)
            kept = f"keeping {head[:12]}" if head else "nothing checked out"
            return SyncResult(head, head, error=f"git failed ({kept}): {what}")


def _sync(
    repo: git.Repo, root: Path, validate: Validator | None, remote: str, branch: str | None
) -> SyncResult:
    head = _head_commit(repo)
    if repo.head.is_detached:
        return SyncResult(head, head, error="HEAD is detached: check out the tracked branch")
    local_branch = repo.active_branch
    changed = _changed_files(repo)
    if changed:
        shown = ", ".join(changed[:MAX_SHOWN]) + (" ..." if len(changed) > MAX_SHOWN else "")
        return SyncResult(
            head, head,
            error=f"work tree has local changes ({shown}): not pulling; commit or discard them",
        )
    target = branch or _upstream_branch(local_branch, remote)
    try:
        repo.remote(remote).fetch()
        remote_ref = repo.remote(remote).refs[target]
    except ValueError:
        return SyncResult(head, head, error=f"no remote '{remote}' or no branch '{target}' on it")
    except IndexError:
        return SyncResult(head, head, error=f"remote '{remote}' has no branch '{target}'")
    except git.GitCommandError as exc:
        return SyncResult(head, head, error=f"fetch from {remote} failed: {_git_error(exc)}")
    tip = remote_ref.commit.hexsha
    where = f"{remote}/{target}"
    if tip == head:
        return SyncResult(head, head, tip)
    if head is not None and not repo.is_ancestor(repo.commit(head), remote_ref.commit):
        if repo.is_ancestor(remote_ref.commit, repo.commit(head)):
            why = f"local branch {local_branch.name} has commits that {where} does not have"
        else:
            why = f"local branch {local_branch.name} and {where} have diverged"
        return SyncResult(
            head, head, tip, error=f"{why}: not a fast-forward; keeping {head[:12]}"
        )
    if validate is not None:
        problems = _validate_commit(repo, tip, validate)
        if problems:
            shown = "; ".join(problems[:MAX_SHOWN])
            more = f" (and {len(problems) - MAX_SHOWN} more)" if len(problems) > MAX_SHOWN else ""
            kept = f"keeping {head[:12]}" if head else "nothing checked out"
            return SyncResult(
                head, head, tip,
                error=f"commit {tip[:12]} on {where} does not validate ({kept}): {shown}{more}",
            )
    try:
        repo.git.merge("--ff-only", tip)
    except git.GitCommandError as exc:
        # e.g. the new commit adds a file that exists untracked here: git refuses to
        # overwrite it, HEAD stays, and the site keeps working from it (monitor only).
        kept = f"keeping {head[:12]}" if head else "nothing checked out"
        return SyncResult(
            head, head, tip,
            error=f"fast-forward to {tip[:12]} refused ({kept}): {_git_error(exc)}",
        )
    return SyncResult(tip, head, tip, updated=True)


def _head_commit(repo: git.Repo) -> str | None:
    try:
        return repo.head.commit.hexsha
    except ValueError:  # a branch with no commits yet
        return None


def _changed_files(repo: git.Repo) -> list[str]:
    """Tracked files that differ from HEAD, staged or not (untracked ones do not matter)."""
    if _head_commit(repo) is None:
        return []
    names = {d.a_path or d.b_path for d in repo.index.diff(None)}
    names |= {d.a_path or d.b_path for d in repo.index.diff("HEAD")}
    return sorted(n for n in names if n)


def _upstream_branch(local_branch: git.Head, remote: str) -> str:
    tracking = local_branch.tracking_branch()
    if tracking is not None and tracking.remote_name == remote:
        return tracking.remote_head
    return local_branch.name


def _validate_commit(repo: git.Repo, commit: str, validate: Validator) -> list[str]:
    """Validator messages for `commit`, checked out alone in a temporary worktree."""
    folder = Path(tempfile.mkdtemp(prefix="mcprod-sync-"))
    tree = folder / "tree"
    try:
        repo.git.worktree("prune")  # entries left by a sync that was killed mid-check
        repo.git.worktree("add", "--detach", str(tree), commit)
        try:
            return list(validate(tree))
        finally:
            repo.git.worktree("remove", "--force", str(tree))
    except git.GitCommandError as exc:
        return [f"cannot check out {commit[:12]}: {_git_error(exc)}"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _git_error(exc: git.GitCommandError) -> str:
    text = str(exc.stderr or exc).strip().strip("'").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [line.removeprefix("stderr: ").strip("'").strip() for line in lines]
    return " | ".join(lines[-3:]) or f"git exit code {exc.status}"
