"""Which files the loader may read at all: regular files of a sane size, no symlinks.

Checked with `lstat` before anything is opened, so a symlink to `/dev/zero` or a
named pipe in `campaigns/` is refused at once instead of being read forever, and a
symlink cannot pull a file from outside the repository into the declared state.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_FILE_BYTES = 50 * 1024 * 1024


def unreadable_reason(path: Path, what: str = "a declared file") -> str | None:
    """Why `path` must not be read as `what`, or None. Directories are left to the caller."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return f"cannot read the file: {exc.strerror or exc}"
    if stat.S_ISLNK(info.st_mode):
        return f"is a symbolic link; {what} must be a regular file in the repository: copy it in"
    if stat.S_ISDIR(info.st_mode):
        return None
    if not stat.S_ISREG(info.st_mode):
        return f"is not a regular file (a device, pipe or socket); {what} must be one"
    if info.st_size > MAX_FILE_BYTES:
        return (
            f"is {info.st_size / 1024 / 1024:.1f} MB, more than the"
            f" {MAX_FILE_BYTES // 1024 // 1024} MB {what} may be: split it"
        )
    return None
