"""Store errors: one clear line, exit 1, nothing written (run through the real CLI)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.errors import StoreError
from reconciler.store.open import open_store
from tests.helpers import run_mcprod
from tests.services.couchserver import (
    RunningServer,
    free_port,
    http_json,
    start_pouchdb_server,
)


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def secured_server() -> Iterator[RunningServer]:
    """A second pouchdb-server with an admin user: wrong passwords get 401 there.
    (The shared server must stay without admin: see TEST-SERVICES.md.)"""
    server = start_pouchdb_server()
    http_json("PUT", f"{server.url}/_config/admins/admin", "s3cret")
    yield server
    alive = server.alive()
    server.stop()
    assert alive, "the secured pouchdb-server died during the tests"


@pytest.fixture
def not_couchdb(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server that is not CouchDB (Python's file server)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while not answers_http(url) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None
    yield url
    process.terminate()
    process.wait(timeout=10)


def answers_http(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url + "/", timeout=1):
            return True
    except OSError:
        return False


def test_unreachable_server() -> None:
    port = free_port()
    result = run_mcprod(["db", "init", "--db", f"http://ops:hunter2@127.0.0.1:{port}/prod"])
    assert _one_error_line(result) == (
        f"error: http://ops:***@127.0.0.1:{port}/prod: cannot reach the server"
        " ([Errno 111] Connection refused); gave up after 4 attempts"
    )
    assert "hunter2" not in result.stderr


def test_wrong_password_names_the_user_and_masks_the_password(
    secured_server: RunningServer,
) -> None:
    url = secured_server.url.replace("http://", "http://admin:wrong-pass@") + "/prod"
    result = run_mcprod(["db", "init", "--db", url])
    line = _one_error_line(result)
    masked = secured_server.url.replace("http://", "http://admin:***@") + "/prod"
    assert line == (
        f"error: {masked}: authentication failed for user 'admin'"
        " (401 Name or password is incorrect.);"
        " check MCPROD_DB_USER/MCPROD_DB_PASSWORD or MCPROD_DB_CREDENTIALS"
    )
    assert "wrong-pass" not in result.stderr


def test_credentials_from_the_environment(secured_server: RunningServer) -> None:
    url = f"{secured_server.url}/from_env"
    env = {"MCPROD_DB_USER": "admin", "MCPROD_DB_PASSWORD": "nope"}
    line = _one_error_line(run_mcprod(["db", "init", "--db", url], env=env))
    assert line.startswith(f"error: {url.replace('http://', 'http://admin:***@')}: authentication")
    env["MCPROD_DB_PASSWORD"] = "s3cret"
    result = run_mcprod(["db", "init", "--db", url], env=env)
    assert result.returncode == 0, result.stderr
    assert "s3cret" not in result.stdout + result.stderr


def test_credentials_file_must_be_private(secured_server: RunningServer, tmp_path: Path) -> None:
    secret = tmp_path / "couch-credentials"
    secret.write_text('{"user": "admin", "password": "s3cret"}\n', encoding="utf-8")
    secret.chmod(0o644)
    env = {"MCPROD_DB_CREDENTIALS": str(secret)}
    url = f"{secured_server.url}/from_file"
    line = _one_error_line(run_mcprod(["db", "init", "--db", url], env=env))
    assert line == (
        f"error: {secret}: credentials file is readable by others (mode 0644);"
        f" run `chmod 600 {secret}`"
    )
    secret.chmod(0o600)
    result = run_mcprod(["db", "init", "--db", url], env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        f"{url.replace('http://', 'http://admin:***@')}: database created"
    )
    secret.write_text("admin:s3cret\n", encoding="utf-8")
    assert run_mcprod(["db", "init", "--db", url], env=env).returncode == 0


def test_missing_couch_database_is_not_created(couch_server_url: str, tmp_path: Path) -> None:
    url = f"{couch_server_url}/never_made"
    with pytest.raises(StoreError) as caught:
        open_store(url, tmp_path)
    assert str(caught.value) == (
        f"{url}: database 'never_made' does not exist; run `mcprod db init` to create it"
    )
    with pytest.raises(OSError, match="404"):
        http_json("GET", url)


def test_missing_sqlite_database_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with pytest.raises(StoreError) as caught:
        open_store(f"sqlite://{path}", tmp_path)
    assert str(caught.value) == (
        f"sqlite://{path}: no state database here; run `mcprod db init` to create it"
    )
    assert not path.exists()


def test_another_programs_sqlite_file_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(path)) as other:
        other.execute("CREATE TABLE notes (text TEXT)")
        other.commit()
    content = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        open_store(f"sqlite://{path}", tmp_path)
    assert str(caught.value) == (
        f"sqlite://{path}: the state database is not initialised; run `mcprod db init` first"
    )
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


def test_default_database_is_under_the_repo(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"\.mcprod/state\.db: no state database here"):
        open_store(None, tmp_path)
    result = run_mcprod(["db", "init", "--repo", str(tmp_path)])
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".mcprod" / "state.db").is_file()


def test_server_that_is_not_couchdb(not_couchdb: str) -> None:
    line = _one_error_line(run_mcprod(["db", "init", "--db", f"{not_couchdb}/prod"]))
    assert line == (
        f"error: {not_couchdb}/prod: the server is not CouchDB"
        " (GET / did not answer with CouchDB's welcome)"
    )


def test_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"these are notes, not a database\n" * 200)
    before = sorted(p.name for p in tmp_path.iterdir())
    line = _one_error_line(run_mcprod(["db", "init", "--db", f"sqlite://{path}"]))
    assert line == f"error: sqlite://{path}: not a SQLite database (file is not a database)"
    assert path.read_bytes() == b"these are notes, not a database\n" * 200
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_read_only_sqlite_file(sqlite_url: str, tmp_path: Path) -> None:
    path = Path(sqlite_url[len("sqlite://"):])
    path.chmod(0o444)
    content = path.read_bytes()
    line = _one_error_line(run_mcprod(["db", "init", "--db", sqlite_url]))
    assert line == (
        f"error: {sqlite_url}: the state database is read-only (mode 0444); make it writable"
    )
    assert path.read_bytes() == content
    assert os.stat(path).st_mode & 0o777 == 0o444


def test_unsupported_url() -> None:
    line = _one_error_line(run_mcprod(["db", "init", "--db", "ftp://u:pw@host/db"]))
    assert line == (
        "error: ftp://u:***@host/db: unsupported database URL;"
        " use http(s)://host:port/<database> or sqlite:///abs/path/state.db"
    )


def test_couch_url_must_name_one_database(couch_server_url: str) -> None:
    line = _one_error_line(run_mcprod(["db", "init", "--db", couch_server_url]))
    assert line == f"error: {couch_server_url}: name one database, as http://host:5984/<database>"

