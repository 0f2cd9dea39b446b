"""A real git repository in a temporary folder, declared from the quickstart example."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from reconciler.documents import Doc
from reconciler.enqueue.step import EnqueueResult, enqueue, load_repo
from reconciler.store.design import ensure_design
from reconciler.store.open import open_store
from tests.helpers import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "quickstart"
VERSION = "0.1.0-standin"
HEADER = "# yaml-language-server: $schema=../schemas/campaign.schema.json\n"


def campaign_yaml(label: str, modules: list[str], *, state: str = "active",
                  priority: int = 100, ratdb_tag: str | None = "frozen") -> str:
    lines = [HEADER, f"label: {label}\n", f'rat_version: "{VERSION}"\n']
    if ratdb_tag:
        lines.append(f"ratdb_tag: {ratdb_tag}\n")
    lines += [f"priority: {priority}\n", f"state: {state}\n", "modules:\n"]
    lines += [f"  - {m}\n" for m in modules]
    return "".join(lines)


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.release = root / "rat-release"

    @property
    def rat_root(self) -> list[str]:
        return ["--rat-root", f"{VERSION}={self.release}"]

    def write_campaign(self, label: str, text: str) -> None:
        (self.root / "campaigns" / f"{label}.yaml").write_text(text)

    def remove_campaign(self, label: str) -> None:
        (self.root / "campaigns" / f"{label}.yaml").unlink()

    def commit(self, message: str = "change") -> str:
        git = ["git", "-C", str(self.root), "-c", "user.name=planner-test",
               "-c", "user.email=planner-test@example.invalid"]
        subprocess.run([*git, "add", "-A"], check=True, capture_output=True)
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", message], check=True,
                       capture_output=True)
        out = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True,
                             text=True)
        return out.stdout.strip()


def make_repo(folder: Path, campaigns: dict[str, str]) -> Repo:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("rat-versions", "sites", "runlists", "schemas", "rat-release"):
        shutil.copytree(EXAMPLE / name, folder / name)
    (folder / "campaigns").mkdir()
    repo = Repo(folder)
    for label, text in campaigns.items():
        repo.write_campaign(label, text)
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    repo.commit("initial")
    return repo


def all_jobs(url: str, root: Path) -> list[Doc]:
    store = open_store(url, root)
    try:
        ensure_design(store)
        rows = store.view("mcprod/jobs_by_campaign", reduce=False, include_docs=True)
        return [row.doc for row in rows if row.doc is not None]
    finally:
        store.close()


StoreFactory = Callable[[], str]


def run_enqueue(repo: Repo, url: str, **options: object) -> EnqueueResult:
    """Commit the repository as it is and run one enqueue against the store at `url`."""
    repo.commit()
    declared = load_repo(repo.root, {VERSION: repo.release})
    store = open_store(url, repo.root, create=url.startswith("sqlite:"))
    try:
        return enqueue(store, declared, rat_roots={VERSION: repo.release}, **options)  # type: ignore[arg-type]
    finally:
        store.close()
