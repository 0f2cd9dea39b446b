"""The test-server helper fails loudly instead of letting tests skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.services import couchserver


def test_missing_pouchdb_server_is_a_clear_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "node_modules" / ".bin" / "pouchdb-server"
    monkeypatch.setattr(couchserver, "POUCHDB_SERVER", missing)
    with pytest.raises(couchserver.CouchServerError) as caught:
        couchserver.start_pouchdb_server()
    assert str(caught.value) == (
        f"{missing} is missing: run `make test` (it runs `npm ci --ignore-scripts`)"
        " or `npm ci --ignore-scripts` in the repository root"
    )


def test_a_port_in_use_is_never_handed_out(couch_server_url: str) -> None:
    busy = int(couch_server_url.rsplit(":", 1)[1]) if "127.0.0.1" in couch_server_url else None
    if busy is not None:
        assert couchserver.port_in_use(busy)
    port = couchserver.free_port()
    assert port != busy
    assert not couchserver.port_in_use(port)
