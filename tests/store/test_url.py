"""Database URLs: choice, masking, credentials (pure functions, no server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import StoreError
from reconciler.store.url import couch_target, mask_url, resolve_db_url, sqlite_path


def test_url_comes_from_option_then_environment_then_repo(tmp_path: Path) -> None:
    env = {"MCPROD_DB": "http://h:5984/from_env"}
    assert resolve_db_url("http://h:5984/given", tmp_path, env) == "http://h:5984/given"
    assert resolve_db_url(None, tmp_path, env) == "http://h:5984/from_env"
    assert resolve_db_url(None, tmp_path, {}) == f"sqlite://{tmp_path.resolve()}/.mcprod/state.db"


def test_passwords_are_masked() -> None:
    assert mask_url("http://user:secret@host:5984/db") == "http://user:***@host:5984/db"
    assert mask_url("https://host/db") == "https://host/db"
    target = couch_target("http://me:p%40ss@couch.example:6984/prod")
    assert (target.user, target.password) == ("me", "p@ss")
    assert target.db_url == "http://couch.example:6984/prod"
    assert target.display_url == "http://me:***@couch.example:6984/prod"


def test_credentials_from_environment() -> None:
    env = {"MCPROD_DB_USER": "bot", "MCPROD_DB_PASSWORD": "pw"}
    target = couch_target("http://h:5984/prod", env)
    assert (target.user, target.password, target.display_url) == (
        "bot", "pw", "http://bot:***@h:5984/prod"
    )
    with pytest.raises(StoreError) as caught:
        couch_target("http://h:5984/prod", {"MCPROD_DB_USER": "bot"})
    assert str(caught.value) == "set both MCPROD_DB_USER and MCPROD_DB_PASSWORD, or neither"


def test_credentials_file_forms(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("bot:pa:ss\n", encoding="utf-8")
    plain.chmod(0o600)
    target = couch_target("http://h:5984/prod", {"MCPROD_DB_CREDENTIALS": str(plain)})
    assert (target.user, target.password) == ("bot", "pa:ss")
    broken = tmp_path / "broken"
    broken.write_text('{"user": "bot"}', encoding="utf-8")
    broken.chmod(0o600)
    with pytest.raises(StoreError) as caught:
        couch_target("http://h:5984/prod", {"MCPROD_DB_CREDENTIALS": str(broken)})
    assert str(caught.value) == f'{broken}: credentials JSON needs "user" and "password" strings'
    missing = tmp_path / "missing"
    with pytest.raises(StoreError) as caught:
        couch_target("http://h:5984/prod", {"MCPROD_DB_CREDENTIALS": str(missing)})
    assert str(caught.value) == (
        f"{missing}: cannot read the credentials file: No such file or directory"
    )


def test_sqlite_paths() -> None:
    assert sqlite_path("sqlite:///srv/state.db") == Path("/srv/state.db")
    assert sqlite_path("sqlite:////srv/state.db") == Path("/srv/state.db")
    with pytest.raises(StoreError) as caught:
        sqlite_path("sqlite://state.db")
    assert str(caught.value) == (
        "sqlite://state.db: a SQLite URL needs an absolute path, as sqlite:///abs/path/state.db"
    )
