"""No fresh state by accident (DESIGN.md invariant 13): a missing, empty or folder
`state.db`, an empty MCPROD_DB, or a non-local site without a shared database is
an error with one line and exit 1; nothing is created or submitted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.errors import StoreError
from reconciler.store.url import couch_target, mask_url, resolve_db_url
from tests.site.cycle_support import make_site_repo, run_forked

STAMP = re.compile(r"^\[[0-9T:Z-]+\] ")


def unstamped(stderr: str) -> str:
    """The site cycle stamps its lines with the time (cron logs); the rest do not."""
    return STAMP.sub("", stderr.strip())


COMMANDS = [
    ["reconcile", "--once"],
    ["reconcile", "--once", "--site", "local"],
    ["plan"],
    ["status"],
    ["retry", "--status", "failed"],
    ["cancel", "--status", "waiting"],
]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = make_site_repo(tmp_path_factory.mktemp("fresh") / "repo")
    (repo / ".mcprod" / "state.db").unlink()  # as if lost
    return repo


def state_db(repo: Path, kind: str) -> Path:
    path = repo / ".mcprod" / "state.db"
    if path.is_dir():
        path.rmdir()
    elif path.exists():
        path.unlink()
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "folder":
        path.mkdir()
    return path


@pytest.mark.parametrize("kind", ["missing", "empty", "folder"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_refuses_a_lost_state_db(repo: Path, kind: str, command: list[str]) -> None:
    path = state_db(repo, kind)
    result = run_forked([*command, "--repo", str(repo)], {})
    assert result.returncode == 1, result.stdout + result.stderr
    url = f"sqlite://{path}"
    assert unstamped(result.stderr) == {
        "missing": f"error: {url}: no state database here; run `mcprod db init` to create it",
        "empty": f"error: {url}: the state database is not initialised; run `mcprod db init`"
                 " first",
        "folder": f"error: {url}: is a folder, not a state database; point --db or MCPROD_DB"
                  " at the database file",
    }[kind]
    assert (path.is_dir(), path.exists() and path.is_file() and path.stat().st_size) == (
        kind == "folder", 0 if kind != "missing" else False
    )
    assert not (repo / ".mcprod" / "sites" / "local" / "local-backend").exists()


@pytest.mark.parametrize("command", [["reconcile", "--once", "--site", "local"], ["plan"],
                                     ["publish"], ["db", "init"]])
def test_an_empty_mcprod_db_is_an_error_not_the_default(repo: Path, command: list[str]) -> None:
    state_db(repo, "missing")
    result = run_forked([*command, "--repo", str(repo)], {"MCPROD_DB": ""})
    assert result.returncode == 1
    assert unstamped(result.stderr) == (
        "error: MCPROD_DB is set but empty: set it to the database URL, or unset it to use"
        " the embedded SQLite store"
    )
    assert not (repo / ".mcprod" / "state.db").exists()


def test_a_slurm_site_refuses_the_embedded_store_before_any_submission(tmp_path: Path) -> None:
    repo = make_site_repo(tmp_path / "repo")
    site_file = repo / "sites" / "local.yaml"
    site_file.write_text(site_file.read_text().replace(
        "backend: {type: local}", "backend: {type: slurm, partition: nowhere}"))
    result = run_forked(["reconcile", "--once", "--site", "local", "--repo", str(repo)], {})
    assert result.returncode == 1
    url = f"sqlite://{repo / '.mcprod' / 'state.db'}"
    assert unstamped(result.stderr) == (
        f"error: site local submits to slurm: refusing the embedded store {url}; set MCPROD_DB"
        " (or --db) to the production database, or write `store: embedded` in sites/local.yaml"
        " to keep this site's state in that file on purpose"
    )
    assert not (repo / ".mcprod" / "sites").exists()


@pytest.mark.parametrize(("url", "problem"), [
    ("http://h:abc/db", "the port must be a number, as :5984"),
    ("http://h:99999/db", "the port must be between 0 and 65535"),
    ("http://[::1/db", "an unbalanced [ in the host: write [::1]"),
])
def test_bad_database_urls_are_one_line(url: str, problem: str) -> None:
    with pytest.raises(StoreError) as caught:
        couch_target(url, {})
    assert str(caught.value) == f"{url}: not a valid database URL ({problem})"


@pytest.mark.parametrize("password", ["pa/ss", "pa#ss", "pa?ss", "p@ss", "a/b#c?d@e"])
def test_passwords_with_url_characters_are_masked(password: str) -> None:
    url = f"http://bot:{password}@couch.example:5984/prod"
    assert mask_url(url) == "http://bot:***@couch.example:5984/prod"
    target = couch_target(url, {})
    assert (target.user, target.password) == ("bot", password)
    assert password not in target.display_url


def test_credentials_file_that_is_a_folder_or_not_utf8(tmp_path: Path) -> None:
    folder = tmp_path / "creds"
    folder.mkdir(mode=0o700)
    with pytest.raises(StoreError) as caught:
        couch_target("http://h:5984/db", {"MCPROD_DB_CREDENTIALS": str(folder)})
    assert str(caught.value) == f"{folder}: the credentials file is not a regular file (a folder?)"
    latin = tmp_path / "latin"
    latin.write_bytes(b"bot:caf\xe9")
    latin.chmod(0o600)
    with pytest.raises(StoreError) as caught:
        couch_target("http://h:5984/db", {"MCPROD_DB_CREDENTIALS": str(latin)})
    assert str(caught.value) == f"{latin}: the credentials file is not UTF-8 text"


def test_empty_db_option(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as caught:
        resolve_db_url("", tmp_path, {})
    assert str(caught.value) == "--db is empty: give the database URL, or leave the option out"
