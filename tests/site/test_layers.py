"""Layers of the site reconciler: decisions are pure, only the CLI imports typer."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO_ROOT

SITE = REPO_ROOT / "reconciler" / "site"
IO_MODULES = {"os", "pathlib", "subprocess", "shutil", "io", "git", "socket", "typer",
              "sqlite3", "couchdb", "fcntl", "signal", "json"}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_decisions_do_no_io() -> None:
    found = imports(SITE / "decisions.py")
    assert {name.split(".")[0] for name in found} & IO_MODULES == set()
    assert all(not name.startswith("reconciler.store.") or name == "reconciler.store.base"
               for name in found)


def test_only_the_cli_imports_typer() -> None:
    for path in [*SITE.glob("*.py"), REPO_ROOT / "reconciler" / "operator.py",
                 REPO_ROOT / "reconciler" / "quickstart.py"]:
        assert "typer" not in {name.split(".")[0] for name in imports(path)}, path.name
