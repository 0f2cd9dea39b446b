"""The `site:<name>` document: this site's heartbeat, commit and last cycle.

Other sites read the heartbeat to decide whether this site is gone (stale); the
operator reads the last cycle's summary and error in `mcprod status`.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import socket
from collections.abc import Mapping
from importlib import metadata
from typing import Any

from reconciler.documents import Doc, iso, site_id
from reconciler.errors import Conflict
from reconciler.store.interface import Store


@functools.cache
def package_version() -> str:
    try:
        return metadata.version("mcprod")
    except metadata.PackageNotFoundError:
        return "unknown"


def read_heartbeat(store: Store, site: str) -> Doc | None:
    return store.get(site_id(site))


def write_heartbeat(
    store: Store,
    site: str,
    now: dt.datetime,
    *,
    commit: str | None,
    extra: Mapping[str, Any] | None = None,
) -> Doc:
    """Upsert `site:<name>`; a concurrent writer of the same site just means a retry."""
    fields: Doc = {
        "type": "site",
        "name": site,
        "heartbeat_at": iso(now),
        "commit": commit,
        "version": package_version(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        **(extra or {}),
    }
    for _ in range(5):
        existing = store.get(site_id(site))
        if existing is None:
            result = store.create({"_id": site_id(site), **fields})
            if result.created:
                return result.doc
            continue
        try:
            return store.update({**existing, **fields})
        except Conflict:
            continue
    raise Conflict(site_id(site))
