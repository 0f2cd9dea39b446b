"""Which database to use, with which credentials, and how to print its URL safely.

Order for the URL: `--db`, then `MCPROD_DB`, then `sqlite:///<repo>/.mcprod/state.db`.
CouchDB credentials come from the URL itself, else `MCPROD_DB_USER` and
`MCPROD_DB_PASSWORD`, else the file named by `MCPROD_DB_CREDENTIALS` (`user:password`
or JSON `{"user": ..., "password": ...}`), which must be readable by its owner only.
Never from the repository. Every URL shown to a user goes through `mask_url`.
"""

from __future__ import annotations

import json
import os
import stat
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import StoreError

DEFAULT_SQLITE = ".mcprod/state.db"


def resolve_db_url(url: str | None, repo_root: Path, env: Mapping[str, str] = os.environ) -> str:
    """An empty value (`--db ""`, an empty `MCPROD_DB` secret in CI, a cron line with a
    variable that did not expand) is an error: quietly using the embedded store
    would start a second, private production."""
    if url is not None:
        if not url.strip():
            raise StoreError("--db is empty: give the database URL, or leave the option out")
        return url
    from_env = env.get("MCPROD_DB")
    if from_env is not None:
        if not from_env.strip():
            raise StoreError(
                "MCPROD_DB is set but empty: set it to the database URL,"
                " or unset it to use the embedded SQLite store"
            )
        return from_env
    return f"sqlite://{repo_root.resolve() / DEFAULT_SQLITE}"


def is_embedded(url: str) -> bool:
    return url.startswith("sqlite:")


def split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """(URL without user info, user, password), by structure: the user info is what
    comes before the LAST `@` of the part after `scheme://`. A URL parser would stop
    at the first `/`, `?` or `#` and so miss a password holding one of them."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url, None, None
    userinfo, at, hostpart = rest.rpartition("@")
    if not at:
        return url, None, None
    user, colon, given = userinfo.partition(":")
    return f"{scheme}://{hostpart}", user, given if colon else None


def mask_url(url: str) -> str:
    """`http://user:secret@host/db` -> `http://user:***@host/db`, whatever the password holds."""
    bare, user, hidden = split_userinfo(url)
    if user is None:
        return url
    scheme, _, hostpart = bare.partition("://")
    shown = f"{user}:***" if hidden is not None else user
    return f"{scheme}://{shown}@{hostpart}"


def sqlite_path(url: str) -> Path:
    """`sqlite:///abs/path` -> /abs/path (extra leading slashes, as in sqlite:////abs, are fine)."""
    raw = urllib.parse.unquote(url[len("sqlite://") :])
    if not raw.startswith("/") or not raw.strip("/"):
        raise StoreError(
            f"{url}: a SQLite URL needs an absolute path, as sqlite:///abs/path/state.db"
        )
    return Path("/" + raw.lstrip("/"))


@dataclass(frozen=True)
class CouchTarget:
    """A CouchDB database URL without user info, and the credentials to use with it."""

    base_url: str  # server root, no user info, no trailing slash
    db_name: str
    user: str | None
    password: str | None

    @property
    def db_url(self) -> str:
        return f"{self.base_url}/{urllib.parse.quote(self.db_name, safe='')}"

    @property
    def display_url(self) -> str:
        if self.user is None:
            return self.db_url
        parts = urllib.parse.urlsplit(self.db_url)
        user = urllib.parse.quote(self.user, safe="")
        return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{parts.netloc}"))


def couch_target(url: str, env: Mapping[str, str] = os.environ) -> CouchTarget:
    shown = mask_url(url)
    bare, url_user, url_given = split_userinfo(url)
    try:
        parts = urllib.parse.urlsplit(bare)
        port = parts.port
    except ValueError as exc:  # `[::1` unbalanced, `:abc` or `:99999` as the port
        raise StoreError(f"{shown}: not a valid database URL ({_url_problem(exc)})") from None
    path = parts.path.strip("/")
    if not path or "/" in path:
        raise StoreError(f"{shown}: name one database, as http://host:5984/<database>")
    host = parts.hostname or ""
    if not host:
        raise StoreError(f"{shown}: no host name, as http://host:5984/<database>")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    base = urllib.parse.urlunsplit((parts.scheme, netloc, "", "", ""))
    db_name = urllib.parse.unquote(path)
    if url_user is not None:
        user = urllib.parse.unquote(url_user)
        return CouchTarget(base, db_name, user, urllib.parse.unquote(url_given or ""))
    return CouchTarget(base, db_name, *_credentials_from_env(env))


def _url_problem(exc: ValueError) -> str:
    text = str(exc)
    if "IPv6" in text:
        return "an unbalanced [ in the host: write [::1]"
    if "out of range" in text:
        return "the port must be between 0 and 65535"
    return "the port must be a number, as :5984"


def _credentials_from_env(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    user = env.get("MCPROD_DB_USER")
    password = env.get("MCPROD_DB_PASSWORD")
    if user or password:
        if not (user and password is not None):
            raise StoreError("set both MCPROD_DB_USER and MCPROD_DB_PASSWORD, or neither")
        return user, password
    file = env.get("MCPROD_DB_CREDENTIALS")
    if file:
        return read_credentials_file(Path(file))
    return None, None


def read_credentials_file(path: Path) -> tuple[str, str]:
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the credentials file: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise StoreError(f"{path}: the credentials file is not a regular file (a folder?)")
    if stat.S_IMODE(mode) & 0o077:
        raise StoreError(
            f"{path}: credentials file is readable by others (mode {stat.S_IMODE(mode):04o});"
            f" run `chmod 600 {path}`"
        )
    try:
        text = path.read_bytes().decode("utf-8").strip()
    except UnicodeDecodeError:
        raise StoreError(f"{path}: the credentials file is not UTF-8 text") from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the credentials file: {exc.strerror}") from None
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StoreError(f"{path}: credentials file is not valid JSON ({exc.msg})") from None
        user = data.get("user", data.get("username")) if isinstance(data, dict) else None
        password = data.get("password") if isinstance(data, dict) else None
        if not isinstance(user, str) or not isinstance(password, str):
            raise StoreError(f'{path}: credentials JSON needs "user" and "password" strings')
        return user, password
    user, sep, password = text.partition(":")
    if not sep or not user:
        raise StoreError(f"{path}: credentials file must contain user:password or JSON")
    return user, password
