"""The config package's layers: no CLI framework, and the checks themselves do no I/O."""

from __future__ import annotations

import ast

from tests.helpers import REPO_ROOT

CONFIG = REPO_ROOT / "reconciler" / "config"
PURE = ("entries", "paths", "crosscheck", "modulecheck", "records", "report")
IO_MODULES = {"os", "pathlib", "subprocess", "shutil", "io", "git", "socket", "typer"}


def _imports(name: str) -> set[str]:
    tree = ast.parse((CONFIG / f"{name}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_no_config_module_imports_the_cli_framework() -> None:
    for path in CONFIG.glob("*.py"):
        assert "typer" not in _imports(path.stem), path.name


def test_the_checks_are_pure() -> None:
    for name in PURE:
        assert _imports(name) & IO_MODULES == set(), name
