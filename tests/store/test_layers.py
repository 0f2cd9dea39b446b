"""Only the CouchDB store module talks to the `couchdb` package (STYLE.md, layers)."""

from __future__ import annotations

import re

from tests.helpers import REPO_ROOT

IMPORT = re.compile(r"^\s*(import couchdb|from couchdb[\s.])", re.MULTILINE)


def test_only_the_couch_store_imports_couchdb() -> None:
    package = REPO_ROOT / "reconciler"
    importers = sorted(
        str(path.relative_to(REPO_ROOT))
        for path in package.rglob("*.py")
        if IMPORT.search(path.read_text(encoding="utf-8"))
    )
    assert importers == ["reconciler/store/couch.py"]
