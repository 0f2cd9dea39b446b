"""Session fixtures for the CouchDB-compatible test server (owner: store work).

`couch_server_url` starts pouchdb-server once per session (or uses the real CouchDB
named by MCPROD_TEST_COUCH) and fails loudly if it died during the suite; every
test that needs a database gets a fresh one from `couch_db_url`.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.store.open import open_store
from tests.services.couchserver import CouchServerError, http_json, start_pouchdb_server


@pytest.fixture(scope="session")
def couch_server_url() -> Iterator[str]:
    external = os.environ.get("MCPROD_TEST_COUCH")
    if external:
        yield external.rstrip("/")
        return
    try:
        server = start_pouchdb_server()
    except CouchServerError as exc:
        pytest.fail(f"cannot start the CouchDB-compatible test server: {exc}", pytrace=False)
    try:
        yield server.url
        if not server.alive():
            pytest.fail(
                f"pouchdb-server died during the test session (exit {server.process.returncode}):"
                f"\n{server.log_tail()}",
                pytrace=False,
            )
    finally:
        server.stop()


@pytest.fixture
def couch_db_url(couch_server_url: str) -> Iterator[str]:
    """URL of a new, empty database, deleted after the test."""
    url = f"{couch_server_url}/mcprod_test_{uuid.uuid4().hex}"
    http_json("PUT", url)
    yield url
    with contextlib.suppress(OSError):  # a test may have deleted it on purpose
        http_json("DELETE", url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a new, empty SQLite state database (created, as `couch_db_url` is)."""
    url = f"sqlite://{tmp_path}/state.db"  # tmp_path is absolute: sqlite:///tmp/...
    open_store(url, tmp_path, create=True).close()
    return url


@pytest.fixture(params=["sqlite", pytest.param("couch", marks=pytest.mark.couch)])
def store_url(request: pytest.FixtureRequest) -> str:
    """A fresh store URL of each kind; design documents are not installed yet."""
    kind = request.param
    fixture = "sqlite_url" if kind == "sqlite" else "couch_db_url"
    return str(request.getfixturevalue(fixture))
