from __future__ import annotations

from pathlib import Path

import pytest

from tests.overview.production import Production, build_production


@pytest.fixture(scope="package")
def production(tmp_path_factory: pytest.TempPathFactory) -> Production:
    """The finished quickstart with two injected failures (see production.py)."""
    return build_production(tmp_path_factory.mktemp("production") / "site")


@pytest.fixture
def fresh_copy(production: Production, tmp_path: Path) -> Production:
    return production.copy(tmp_path / "site")
