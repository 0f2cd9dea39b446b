"""Storage as the reconciler sees it: where outputs go, and whether they arrived intact.

`verify_output(url, size, adler32)` is the monitor's check behind invariant 6
(completed means verified): None when the file is on storage as recorded,
otherwise one line saying what is wrong, starting with "missing" when there is
no file at all. file:// URLs are read directly (fast enough for thousands of
jobs a pass); other schemes go through `gfal-stat` and `gfal-sum` (`use_gfal`
forces that path for file:// too, so tests exercise the grid code on local files).

The return card the job leaves is read by `reconciler.job.returncard`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from reconciler.backends.commands import failure_message
from reconciler.errors import McprodError
from reconciler.job.stageout import (
    adler32_of_file,
    copy_file,
    gfal_env,
    local_path,
)


class StorageError(McprodError):
    """A copy to storage or a look at storage failed."""


def output_url(base_url: str, label: str, module: str, name: str) -> str:
    """`<base_url>/<label>/<Module>/<name>`, the layout every site uses. Each part is
    one path segment, so the URL stays under the storage base whatever a document says."""
    for part in (label, module, name):
        if "/" in part or part in (".", "..") or any(not c.isprintable() for c in part):
            raise StorageError(f"{part!r} cannot be part of an output URL under {base_url}")
    return f"{base_url.rstrip('/')}/{label}/{module}/{name}"


def copy_to_storage(source: Path, url: str, *, use_gfal: bool = False) -> None:
    try:
        copy_file(str(source), url, use_gfal)
    except (OSError, RuntimeError) as error:
        raise StorageError(f"copy of {source} to {url} failed: {error}") from None


def verify_output(url: str, size: int, adler32: str, *, use_gfal: bool = False) -> str | None:
    """None if the file at url has this size and adler32, else what is wrong."""
    gfal = use_gfal or local_path(url) is None
    try:
        actual_size = _gfal_size(url) if gfal else _local_size(url)
        if actual_size is None:
            return "missing on storage"
        if actual_size != size:
            return f"size {actual_size} on storage, {size} recorded"
        # The checksum reads the whole file: only worth it once the size matches.
        actual = _gfal_adler32(url) if gfal else adler32_of_file(str(local_path(url)))
    except StorageError as error:
        return f"cannot check: {error}"
    if actual != adler32.lower():
        return f"adler32 {actual} on storage, {adler32} recorded"
    return None


def _local_size(url: str) -> int | None:
    path = local_path(url)
    if path is None or not os.path.isfile(path):
        return None
    return os.path.getsize(path)


def _gfal(argv: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            argv, capture_output=True, text=True, env=gfal_env(), timeout=300, check=False
        )
    except FileNotFoundError:
        raise StorageError(f"{argv[0]}: command not found (install the gfal2 tools)") from None
    except subprocess.TimeoutExpired:
        raise StorageError(f"{' '.join(argv)}: no answer within 300 s") from None


def _gfal_size(url: str) -> int | None:
    done = _gfal(["gfal-stat", url])
    if done.returncode != 0:
        if "No such file or directory" in done.stderr:
            return None
        raise StorageError(failure_message(f"gfal-stat {url}", done.returncode, done.stderr))
    for line in done.stdout.splitlines():
        key, _, value = line.strip().partition(":")
        if key == "Size":
            return int(value.split()[0])
    raise StorageError(f"gfal-stat {url}: no size in its answer")


def _gfal_adler32(url: str) -> str:
    done = _gfal(["gfal-sum", url, "ADLER32"])
    if done.returncode != 0:
        raise StorageError(failure_message(f"gfal-sum {url} ADLER32", done.returncode, done.stderr))
    value = done.stdout.split()[-1] if done.stdout.split() else ""
    return value.lower().rjust(8, "0")
