"""Which declared state a site cycle works from (DESIGN.md invariant 7).

A valid repository is used as it is, and its commit is remembered as the last good
one (`.mcprod/last-good-commit`). An invalid one is reported, and the cycle falls
back to the last good commit, exported with `git archive` into
`.mcprod/last-good/<sha>/`, for monitoring only: jobs already running keep being
watched and verified, but nothing new is created or submitted.
"""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import tarfile
from pathlib import Path

from reconciler.catalogue.generate import release_catalogues
from reconciler.config.load import load_repository
from reconciler.errors import errors_only
from reconciler.site.cycle import Loaded

LAST_GOOD = Path(".mcprod") / "last-good-commit"


def last_good_commit(root: Path) -> str | None:
    try:
        text = (root / LAST_GOOD).read_text().strip()
    except OSError:
        return None
    return text or None


def remember_good(root: Path, commit: str | None) -> None:
    if commit is None or last_good_commit(root) == commit:
        return
    path = root / LAST_GOOD
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")  # two reconcilers may write at once
    partial.write_text(commit + "\n")
    partial.replace(path)


def export_commit(root: Path, commit: str) -> Path:
    """The tree of `commit`, unpacked once under .mcprod/last-good/<sha>/."""
    target = root / ".mcprod" / "last-good" / commit
    if target.is_dir():
        return target
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", commit],
        capture_output=True,
        check=True,
    ).stdout
    partial = target.with_name(commit + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(partial, filter="data")
    partial.replace(target)
    return target


def validation_errors(tree: Path) -> list[str]:
    """What sync asks before fast-forwarding to a new commit (checked out in `tree`)."""
    _repo, diagnostics = load_repository(tree, catalogues=release_catalogues())
    return [d.text() for d in errors_only(diagnostics)]


def has_remote(root: Path) -> bool:
    """A git clone with a remote to pull from (a plain folder or a local-only repo is used
    as it is: the quickstart, a test, a site that edits its checkout by other means)."""
    if not (root / ".git").exists():
        return False
    done = subprocess.run(["git", "-C", str(root), "remote"], capture_output=True, text=True,
                          check=False)
    return done.returncode == 0 and bool(done.stdout.strip())


def load_for_cycle(root: Path, *, sync: bool = True) -> Loaded:
    """The model to work from: pull first when the clone has a remote; any problem
    (sync refused, invalid tree) means the last good commit, for monitoring only."""
    errors: list[str] = []
    keep: str | None = None
    if sync and has_remote(root):
        from reconciler.site.sync import sync_repository  # gitpython: only to pull

        synced = sync_repository(root, validate=validation_errors)
        if synced.error is not None:
            errors.append(f"sync: {synced.error}")
            keep = synced.commit  # HEAD did not move: it is the last good commit
    repo, diagnostics = (None, []) if errors else load_repository(
        root, catalogues=release_catalogues()
    )
    if repo is not None:
        remember_good(root, repo.commit)
        return Loaded(repo, repo.commit, monitor_only=False)
    errors.extend(d.text() for d in errors_only(diagnostics))
    last = keep or last_good_commit(root)
    if last is None:
        errors.append("no last good commit to fall back to")
        return Loaded(None, None, monitor_only=True, errors=tuple(errors))
    try:
        tree = export_commit(root, last)
    except (OSError, subprocess.CalledProcessError, tarfile.TarError) as exc:
        errors.append(f"cannot read the last good commit {last[:12]}: {exc}")
        return Loaded(None, None, monitor_only=True, errors=tuple(errors))
    fallback, _ = load_repository(tree)
    if fallback is None:
        errors.append(f"the last good commit {last[:12]} does not load any more")
        return Loaded(None, None, monitor_only=True, errors=tuple(errors))
    errors.append(f"working from the last good commit {last[:12]}: monitoring only")
    return Loaded(
        dataclasses.replace(fallback, commit=last), last, monitor_only=True, errors=tuple(errors)
    )
