"""Fixtures of the planner tests."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.store.open import open_store
from tests.enqueue.repo import StoreFactory
from tests.services.couchserver import http_json


@pytest.fixture(params=["sqlite", pytest.param("couch", marks=pytest.mark.couch)])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory of fresh, empty store URLs of one kind (for tests that need several)."""
    made: list[str] = []

    def sqlite() -> str:
        # Created here, as `mcprod db init` would: two processes racing to create the
        # same new SQLite file is the store's own concern (see the store tests).
        url = f"sqlite://{tmp_path}/state-{uuid.uuid4().hex[:8]}.db"
        open_store(url, tmp_path, create=True).close()
        return url

    def couch() -> str:
        server = request.getfixturevalue("couch_server_url")
        url = f"{server}/mcprod_plan_{uuid.uuid4().hex}"
        http_json("PUT", url)
        made.append(url)
        return url

    yield sqlite if request.param == "sqlite" else couch
    for url in made:
        with contextlib.suppress(OSError):
            http_json("DELETE", url)
