"""Fixtures of the planner tests."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.plan.repo import StoreFactory
from tests.services.couchserver import http_json


@pytest.fixture(params=["sqlite", pytest.param("couch", marks=pytest.mark.couch)])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory of fresh, empty store URLs of one kind (for tests that need several)."""
    made: list[str] = []

    def sqlite() -> str:
        return f"sqlite://{tmp_path}/state-{uuid.uuid4().hex[:8]}.db"

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
